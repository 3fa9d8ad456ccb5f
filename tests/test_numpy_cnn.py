"""The numpy tiny CNN: its gradients are right (numerical and GradientTape), its SGD steps equal Keras's on
the same batches, and it learns the offline synthetic faces fast, beating the majority-class baseline."""

import time

import numpy as np
import pytest

import utils  # noqa: F401
from utils.layers.backward import softmax_cross_entropy
from utils.layers.gradcheck import check_gradient, relative_error
from utils.layers.numpy_cnn import PARAMETERS, accuracy, batches, cnn_backward, cnn_forward, init_cnn, keras_twin, prepare_faces, train_cnn
from utils.layers.optim import SGD
from utils.synthetic import make_faces

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_cnn_backward_equals_the_numerical_gradient(padding):
    rng = np.random.default_rng(0)
    params = init_cnn((8, 7, 1), filters=2, classes=3, padding=padding, seed=1, dtype=np.float64)
    params["conv_b"] = rng.normal(size=2) * 0.1  # biases off zero, so ReLU's kink is not at the start
    x, y = rng.random((4, 8, 7, 1)), rng.integers(0, 3, 4)
    logits, cache = cnn_forward(params, x, padding)
    _, grads = cnn_backward(params, cache, logits, y)
    for name in PARAMETERS:
        def loss(value, name=name):
            return softmax_cross_entropy(cnn_forward({**params, name: value}, x, padding)[0], y)
        assert check_gradient(loss, grads[name], params[name]) < 1e-6, name


def test_keras_twin_same_logits_and_same_gradients():
    rng = np.random.default_rng(2)
    params = init_cnn((12, 12, 1), filters=4, seed=3)
    x, y = rng.random((5, 12, 12, 1), dtype=np.float32), rng.integers(0, 7, 5)
    model = keras_twin(params, (12, 12, 1))
    logits, cache = cnn_forward(params, x)
    np.testing.assert_allclose(logits, model(x), atol=1e-5)
    _, grads = cnn_backward(params, cache, logits, y)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x))
    theirs = dict(zip(PARAMETERS, (g.numpy() for g in tape.gradient(loss, model.trainable_weights))))
    for name in PARAMETERS:
        assert relative_error(grads[name], theirs[name]) < 1e-5, name


def test_sgd_momentum_steps_equal_keras_on_the_same_batches():
    rng = np.random.default_rng(4)
    params = init_cnn((10, 10, 1), filters=3, seed=5)
    x, y = rng.random((24, 10, 10, 1), dtype=np.float32), rng.integers(0, 7, 24)
    model = keras_twin(params, (10, 10, 1))
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ours, optimizer = {k: v.copy() for k, v in params.items()}, SGD(0.1, 0.9)
    for batch in batches(24, 8, np.random.default_rng(6)):
        model.train_on_batch(x[batch], y[batch])
        logits, cache = cnn_forward(ours, x[batch])
        optimizer.step(ours, cnn_backward(ours, cache, logits, y[batch])[1])
    for name, theirs in zip(PARAMETERS, model.get_weights()):
        np.testing.assert_allclose(ours[name], theirs, atol=1e-5)


def test_the_numpy_cnn_learns_synthetic_faces(record_timing):
    train_x, train_y = make_faces(2000, seed=21)
    val_x, val_y = make_faces(500, seed=22)
    train_x, val_x = prepare_faces(train_x), prepare_faces(val_x)   # 48x48 -> 24x24, in [0, 1]
    assert train_x.shape == (2000, 24, 24, 1) and train_x.dtype == np.float32
    params = init_cnn((24, 24, 1), filters=8, seed=0)
    baseline = np.bincount(val_y).max() / len(val_y)                # always answer the most common class
    start = time.perf_counter()
    history = train_cnn(params, train_x, train_y, epochs=3, batch_size=32, learning_rate=0.05, momentum=0.9,
                        validation=(val_x, val_y), seed=0)
    seconds = time.perf_counter() - start
    record_timing("numpy tiny CNN: 3 epochs on 2,000 synthetic 24x24 faces", seconds)
    print(f"\nnumpy CNN: {seconds:.1f} s, loss {history.step_losses[0]:.3f} -> {history.epoch_losses[-1]:.3f}, "
          f"val accuracy {history.val_accuracy[-1]:.3f} vs majority baseline {baseline:.3f}")
    assert len(history.step_losses) == 3 * 63 and len(history.val_accuracy) == 3
    assert history.epoch_losses[-1] < history.epoch_losses[0] < history.step_losses[0]
    assert history.epoch_losses[-1] < history.step_losses[0] - 0.3
    assert history.val_accuracy[-1] > baseline + 0.05
    assert accuracy(history.params, val_x, val_y) == history.val_accuracy[-1]
    assert not np.array_equal(params["conv_w"], history.params["conv_w"])  # the caller's params are kept


def test_trainer_errors_are_clear():
    params = init_cnn((8, 8, 1))
    with pytest.raises(ValueError, match="as many labels"):
        train_cnn(params, np.zeros((3, 8, 8, 1)), [0, 1])
    with pytest.raises(ValueError, match="init_cnn"):
        cnn_forward(params, np.zeros((1, 10, 10, 1)))


def test_keras_twin_training_gives_the_same_curve():
    from utils.layers.numpy_cnn import train_keras_twin

    rng = np.random.default_rng(8)
    x, y = rng.random((60, 12, 12, 1), dtype=np.float32), rng.integers(0, 7, 60)
    params = init_cnn((12, 12, 1), filters=4, seed=9)
    ours = train_cnn(params, x, y, epochs=2, batch_size=16, learning_rate=0.1, momentum=0.9, validation=(x, y))
    theirs = train_keras_twin(params, x, y, epochs=2, batch_size=16, learning_rate=0.1, momentum=0.9, validation=(x, y))
    np.testing.assert_allclose(ours.step_losses, theirs.step_losses, atol=1e-5)
    np.testing.assert_allclose(ours.val_losses, theirs.val_losses, atol=1e-5)
    for name in PARAMETERS:
        np.testing.assert_allclose(ours.params[name], theirs.params[name], atol=1e-5)
