"""Lesson 04's exercise checks: the references and every correct form pass (lists, tuples, arrays, loops),
typical mistakes fail with a message that names them."""

import numpy as np
import pytest

from utils.backward_exercises import (
    check_conv_weight_gradient,
    check_max_pool_backward,
    check_momentum_step,
    check_numerical_gradient,
    check_softmax_ce_gradient,
    conv_weight_gradient_2d,
    max_pool_backward_2d,
    momentum_update,
    softmax_ce_gradient,
)
from utils.by_hand import UsedTheLibrary

# --------------------------------------------------------------------------- correct solutions, several styles


def ce_vectorised(logits, labels):
    z = np.asarray(logits, dtype=float)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(z)), np.asarray(labels)] -= 1
    return p / len(z)


def ce_lists(logits, labels):  # pure Python, returns nested lists
    out = []
    for row, label in zip(logits, labels):
        top = max(row)
        exps = [np.exp(v - top) for v in row]
        total = sum(exps)
        out.append([(e / total - (k == label)) / len(logits) for k, e in enumerate(exps)])
    return out


def pool_loops(upstream, feature_map, size):
    m = np.asarray(feature_map)
    grad = np.zeros(m.shape)
    for i in range(m.shape[0] // size):
        for j in range(m.shape[1] // size):
            window = m[i * size:(i + 1) * size, j * size:(j + 1) * size]
            r, c = np.unravel_index(np.argmax(window), window.shape)
            grad[i * size + r, j * size + c] = np.asarray(upstream)[i][j]
    return grad.tolist()


def conv_loops(image, upstream):
    x, g = np.asarray(image, dtype=float), np.asarray(upstream, dtype=float)
    k_h, k_w = x.shape[0] - g.shape[0] + 1, x.shape[1] - g.shape[1] + 1
    return [[float((x[u:u + g.shape[0], v:v + g.shape[1]] * g).sum()) for v in range(k_w)] for u in range(k_h)]


def numgrad_loops(f, x, eps=1e-6):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + eps
        plus = f(x)
        x[index] = old - eps
        minus = f(x)
        x[index] = old
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def momentum_lists(w, g, v, lr, momentum):
    v_new = [momentum * vi - lr * gi for vi, gi in zip(np.ravel(v), np.ravel(g))]
    w_new = [wi + vi for wi, vi in zip(np.ravel(w), v_new)]
    shape = np.shape(w)
    return np.reshape(w_new, shape).tolist(), np.reshape(v_new, shape)


@pytest.mark.parametrize("hidden", [False, True])
def test_references_and_correct_forms_pass(hidden):
    for check, solutions in [
        (check_softmax_ce_gradient, [softmax_ce_gradient, ce_vectorised, ce_lists]),
        (check_max_pool_backward, [max_pool_backward_2d, pool_loops]),
        (check_conv_weight_gradient, [conv_weight_gradient_2d, conv_loops]),
        (check_numerical_gradient, [numgrad_loops]),
        (check_momentum_step, [momentum_update, momentum_lists, lambda *a: list(momentum_update(*a))]),
    ]:
        for solution in solutions:
            if hidden and solution.__module__.startswith("utils."):
                # the references call the course's library: exactly what the hidden checks refuse
                with pytest.raises(UsedTheLibrary):
                    check(solution, hidden=hidden)
            else:
                check(solution, hidden=hidden)


# --------------------------------------------------------------------------- typical mistakes


def test_mistakes_fail_with_a_message():
    with pytest.raises(AssertionError, match="N times too large"):
        check_softmax_ce_gradient(lambda z, y: ce_vectorised(z, y) * len(z))
    with pytest.raises(AssertionError, match="relative error"):  # forgot to subtract y
        check_softmax_ce_gradient(lambda z, y: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True) / len(z))
    with pytest.raises(AssertionError, match="only the window's maximum"):
        check_max_pool_backward(lambda g, m, s: np.kron(g, np.ones((s, s))))
    with pytest.raises(AssertionError, match="flipped"):
        check_conv_weight_gradient(lambda x, g: np.asarray(conv_loops(x, g))[::-1, ::-1])
    with pytest.raises(AssertionError, match="shape"):
        check_conv_weight_gradient(lambda x, g: np.zeros((2, 2, 1)))
    forward_difference = lambda f, x, eps: np.array([(f(x + eps * e.reshape(x.shape)) - f(x)) / eps for e in np.eye(x.size)]).reshape(x.shape)  # noqa: E731
    with pytest.raises(AssertionError, match="relative error"):
        check_numerical_gradient(forward_difference)

    def changes_x(f, x, eps):
        grad = numgrad_loops(f, x, eps)
        x += eps
        return grad

    with pytest.raises(AssertionError, match="changed x"):
        check_numerical_gradient(changes_x)
    with pytest.raises(AssertionError, match="two things"):
        check_momentum_step(lambda w, g, v, lr, mu: np.asarray(w) - lr * np.asarray(g))
    with pytest.raises(AssertionError, match="velocity"):
        check_momentum_step(lambda w, g, v, lr, mu: (np.asarray(w) - lr * np.asarray(g), np.asarray(v)))


# --------------------------------------------------------------------------- classic wrong answers, visible and hidden


def _naive_softmax_gradient(logits, labels):  # no max subtracted: overflows on large logits
    z = np.asarray(logits, dtype=float)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    p[np.arange(len(z)), np.asarray(labels)] -= 1
    return p / len(z)


def _pool_to_every_cell(g, m, s):
    grad = np.zeros(np.shape(m))
    spread = np.kron(np.asarray(g, dtype=float), np.ones((s, s)))
    grad[:spread.shape[0], :spread.shape[1]] = spread
    return grad


def _pool_shared_equally(g, m, s):
    return _pool_to_every_cell(g, m, s) / (s * s)


def _one_sided(f, x, eps):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    base = f(x)
    for index in np.ndindex(x.shape):
        nudged = x.copy()
        nudged[index] += eps
        grad[index] = (f(nudged) - base) / eps
    return grad


def _momentum_old_velocity(w, g, v, lr, mu):  # moves the weights with the old velocity
    w, g, v = (np.asarray(a, dtype=float) for a in (w, g, v))
    return w + v, mu * v - lr * g


def _momentum_sign_flipped(w, g, v, lr, mu):  # v = mu v + lr g, w = w - v: the velocity has the opposite sign
    w, g, v = (np.asarray(a, dtype=float) for a in (w, g, v))
    v = mu * v + lr * g
    return w - v, v


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("check, wrong", [
    (check_softmax_ce_gradient, lambda z, y: ce_vectorised(z, y) * len(z)),             # sum instead of mean
    (check_max_pool_backward, _pool_to_every_cell),                                     # gradient to every cell
    (check_max_pool_backward, _pool_shared_equally),                                    # shared like average pooling
    (check_conv_weight_gradient, lambda x, g: np.asarray(conv_loops(x, g))[::-1, ::-1]),  # flipped
    (check_numerical_gradient, _one_sided),                                             # one-sided difference
    (check_momentum_step, _momentum_old_velocity),
    (check_momentum_step, _momentum_sign_flipped),
], ids=["ce-sum", "pool-every-cell", "pool-shared", "conv-flipped", "one-sided", "momentum-old-v", "momentum-sign"])
def test_classic_wrong_answers_fail(check, wrong, hidden):
    with pytest.raises(AssertionError):
        check(wrong, hidden=hidden)


def test_unstable_softmax_fails_the_hidden_checks_only():
    check_softmax_ce_gradient(_naive_softmax_gradient)          # small logits: no overflow yet
    with pytest.raises(AssertionError, match="NaN or infinite"):
        with np.errstate(over="ignore", invalid="ignore"):
            check_softmax_ce_gradient(_naive_softmax_gradient, hidden=True)


# --------------------------------------------------------------------------- the course language
# (the `romanian` fixture is in conftest.py)


def _sum_not_mean(z, y):
    return ce_vectorised(z, y) * len(z)


def test_the_messages_follow_the_lesson_language(romanian):
    with pytest.raises(AssertionError) as caught:
        check_softmax_ce_gradient(_sum_not_mean)
    assert "de N ori prea mare" in str(caught.value) and "too large" not in str(caught.value)
    with pytest.raises(AssertionError) as caught:  # 1.5 times dL/dW: relative error 0.2, written with a decimal comma
        check_conv_weight_gradient(lambda x, g: 1.5 * np.asarray(conv_loops(x, g)))
    assert "eroare relativă 0,2 " in str(caught.value) and "relative error" not in str(caught.value)
    with pytest.raises(AssertionError, match="întoarceți două lucruri"):
        check_momentum_step(lambda w, g, v, lr, mu: np.asarray(w) - lr * np.asarray(g))


def test_the_messages_stay_english_in_english():
    with pytest.raises(AssertionError) as caught:
        check_softmax_ce_gradient(_sum_not_mean)
    assert "N times too large" in str(caught.value) and "prea mare" not in str(caught.value)
