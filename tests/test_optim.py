"""utils.layers.optim equals Keras's SGD (plain, momentum, Nesterov) and Adam step by step; schedules equal
Keras's CosineDecay; gradient-descent paths crawl, converge or diverge as the learning rate says."""

import numpy as np
import pytest

import utils  # noqa: F401
from utils.layers.descent import SURFACES, descent_path, path_losses, surface
from utils.layers.optim import SGD, Adam, adam_step, cosine_with_warmup, momentum_step, sgd_step, step_decay

keras = pytest.importorskip("keras")
STEPS = 6


def _gradients(seed=0, shape=(3, 4)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), [rng.normal(size=shape) for _ in range(STEPS)]


def _keras_run(optimizer, start, gradients):
    variable = keras.Variable(start.astype("float32"))
    trace = []
    for g in gradients:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g.astype("float32")), variable)])
        trace.append(np.asarray(variable.numpy(), dtype=np.float64))
    return trace


@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True), (0.5, True)])
def test_sgd_equals_keras(momentum, nesterov):
    start, gradients = _gradients(1)
    expected = _keras_run(keras.optimizers.SGD(0.1, momentum=momentum, nesterov=nesterov), start, gradients)
    params, optimizer = {"w": start.copy()}, SGD(0.1, momentum, nesterov)
    w, v = start.copy(), np.zeros_like(start)
    for g, theirs in zip(gradients, expected):
        optimizer.step(params, {"w": g})
        w, v = momentum_step(w, g, v, 0.1, momentum, nesterov) if momentum else (sgd_step(w, g, 0.1), v)
        np.testing.assert_allclose(params["w"], theirs, atol=1e-6)
        np.testing.assert_allclose(w, theirs, atol=1e-6)


@pytest.mark.parametrize("learning_rate,beta_1,beta_2", [(1e-3, 0.9, 0.999), (0.05, 0.8, 0.99)])
def test_adam_equals_keras(learning_rate, beta_1, beta_2):
    start, gradients = _gradients(2)
    expected = _keras_run(keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2), start, gradients)
    params, optimizer = {"w": start.copy()}, Adam(learning_rate, beta_1, beta_2)
    w, m, v = start.copy(), 0.0 * start, 0.0 * start
    for step, (g, theirs) in enumerate(zip(gradients, expected), start=1):
        optimizer.step(params, {"w": g})
        w, m, v = adam_step(w, g, m, v, step, learning_rate, beta_1, beta_2)
        np.testing.assert_allclose(params["w"], theirs, atol=1e-6)
        np.testing.assert_allclose(w, theirs, atol=1e-6)


def test_adam_first_step_moves_every_weight_by_about_the_learning_rate():
    """Bias correction: after one step m_hat = g and v_hat = g**2, so the step is lr * sign(g)."""
    g = np.array([1e-2, -3.0, 50.0])
    w, _, _ = adam_step(np.zeros(3), g, np.zeros(3), np.zeros(3), 1, learning_rate=0.01)
    np.testing.assert_allclose(w, -0.01 * np.sign(g), rtol=1e-3)


def test_steps_accept_lists_and_give_clear_errors():
    np.testing.assert_allclose(sgd_step([1.0, 2.0], [0.5, -0.5], 0.1), [0.95, 2.05])
    w, v = momentum_step([1.0], [1.0], [0.5], 0.1, 0.9)
    np.testing.assert_allclose(v, [0.35]) and np.testing.assert_allclose(w, [1.35])
    with pytest.raises(ValueError, match="shape"):
        sgd_step(np.ones(2), np.ones(3), 0.1)
    with pytest.raises(ValueError, match="momentum"):
        SGD(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        SGD(-0.1)
    with pytest.raises(ValueError, match="from 1"):
        adam_step(np.ones(1), np.ones(1), np.zeros(1), np.zeros(1), 0)
    with pytest.raises(KeyError, match="unknown"):
        SGD(0.1).step({"w": np.ones(1)}, {"b": np.ones(1)})


def test_cosine_with_warmup_equals_keras_cosine_decay():
    schedule = keras.optimizers.schedules.CosineDecay(1e-4, 90, alpha=0.01, warmup_target=0.1, warmup_steps=10)
    ours = [cosine_with_warmup(t, 100, 0.1, 10, start=1e-4, final=0.001) for t in range(120)]
    np.testing.assert_allclose(ours, [float(schedule(t)) for t in range(120)], rtol=1e-5, atol=1e-9)
    assert cosine_with_warmup(0, 50, 0.1) == 0.1 and cosine_with_warmup(50, 50, 0.1) == pytest.approx(0.0)
    assert cosine_with_warmup(5, 50, 0.1, 10) == pytest.approx(0.05)


def test_step_decay():
    assert [step_decay(t, 0.1, 0.5, 10) for t in (0, 9, 10, 25)] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    with pytest.raises(ValueError):
        step_decay(-1, 0.1)


# --------------------------------------------------------------------------- 2-parameter descent


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_surface_gradients_equal_numerical_gradients(name):
    from utils.layers.gradcheck import check_gradient

    chosen = surface(name)
    for point in (np.array(chosen.start), np.array([0.3, -0.7])):
        assert check_gradient(lambda w: float(chosen.loss(w)), chosen.gradient(point), point) < 1e-7
    assert float(chosen.loss(np.array(chosen.minimum))) == pytest.approx(0.0)


def test_learning_rate_too_small_crawls_good_converges_too_large_diverges():
    # valley: curvature 10 along y, so plain GD diverges for lr > 2/10 = 0.2
    crawl_path = descent_path("valley", 0.001, 100)
    crawl = path_losses("valley", crawl_path)
    good = path_losses("valley", descent_path("valley", 0.15, 100))
    diverging = descent_path("valley", 0.25, 100)
    assert len(crawl) == len(good) == 101
    assert abs(crawl_path[-1, 0]) > 0.9 * abs(crawl_path[0, 0])   # 100 steps, barely moved along the valley
    assert crawl[-1] > 0.4 * crawl[0]
    assert good[-1] < 1e-3 * good[0]           # converged
    assert len(diverging) < 101                # stopped when it left the plane
    assert path_losses("valley", diverging)[-1] > 1e6 * path_losses("valley", diverging)[0] or len(diverging) < 60


def test_momentum_helps_in_the_valley_and_equals_momentum_step():
    plain = path_losses("valley", descent_path("valley", 0.01, 100))
    heavy = path_losses("valley", descent_path("valley", 0.01, 100, momentum=0.9))
    assert heavy[-1] < 0.01 * plain[-1]
    path = descent_path("rosenbrock", 0.002, 5, momentum=0.9, nesterov=True)
    w, v = np.array(SURFACES["rosenbrock"].start), np.zeros(2)
    for expected in path[1:]:
        w, v = momentum_step(w, SURFACES["rosenbrock"].gradient(w), v, 0.002, 0.9, nesterov=True)
        np.testing.assert_allclose(w, expected)
    assert descent_path("bowl", 0.1, 0).shape == (1, 2)
    with pytest.raises(ValueError, match="unknown surface"):
        descent_path("saddle")
