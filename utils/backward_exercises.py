"""Lesson 04's graded exercises on learning: short reference solutions and the checks a test cell runs.

Each exercise has a reference (what a correct solution computes, written with the library
functions) and a ``check_*`` function that calls a student's function on several cases and
raises ``AssertionError`` with a message saying what is expected. Every correct form passes:
the student's function may return a list, a tuple or an array, of any float dtype, and it is
called with plain arrays *and* with nested lists (so ``np.asarray`` inside is enough; using
``.shape`` on an argument without it is the only thing that fails on lists).
``hidden=True`` adds the edge cases a hidden test block keeps for autograding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.by_hand import guarded
from utils.i18n import count_phrase, fmt, tr
from utils.layers.backward import conv2d_backward, max_pool2d_backward, softmax_cross_entropy, softmax_cross_entropy_backward
from utils.layers.convolution import correlate2d
from utils.layers.gradcheck import numerical_gradient, relative_error
from utils.layers.optim import momentum_step

TOLERANCE = 1e-6


# --------------------------------------------------------------------------- references


def softmax_ce_gradient(logits, labels) -> np.ndarray:
    """Reference: ``(softmax(z) - one_hot(y)) / N`` for integer labels ``(N,)`` and logits ``(N, K)``."""
    return softmax_cross_entropy_backward(logits, labels)


def max_pool_backward_2d(upstream, feature_map, size: int = 2) -> np.ndarray:
    """Reference: the gradient of ``size x size`` max pooling (stride = size) of a 2D map, routed to each window's maximum."""
    return max_pool2d_backward(np.asarray(upstream, dtype=np.float64), np.asarray(feature_map, dtype=np.float64), size)


def conv_weight_gradient_2d(image, upstream) -> np.ndarray:
    """Reference: ``dL/dW`` of a stride-1 'valid' correlation of a 2D image: ``correlate2d(image, upstream)``."""
    return correlate2d(np.asarray(image, dtype=np.float64), np.asarray(upstream, dtype=np.float64))


def momentum_update(weights, gradient, velocity, learning_rate: float, momentum: float = 0.9):
    """Reference: ``v = momentum * v - lr * g``, ``w = w + v``; returns ``(w, v)``."""
    return momentum_step(weights, gradient, velocity, learning_rate, momentum)


# --------------------------------------------------------------------------- checks


def _as_array(value, what: str, shape: tuple) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise AssertionError(tr(f"{what} must be numbers (an array or a list), got {type(value).__name__}: {error}",
                                f"{what} trebuie să conțină numere (un tablou sau o listă); s-a primit {type(value).__name__}: {error}")) from None
    assert array.shape == tuple(shape), tr(f"{what} should have shape {tuple(shape)}, got {array.shape}",
                                           f"{what} ar trebui să aibă forma {tuple(shape)}, nu {array.shape}")
    assert np.isfinite(array).all(), tr(f"{what} contains NaN or infinite values", f"{what}: unele valori sunt NaN sau infinite")
    return array


def _close(result, expected, what: str, tolerance: float = TOLERANCE) -> None:
    error = relative_error(result, expected)
    assert error < tolerance, tr(f"{what}: relative error {error:.2g} against the expected gradient (should be < {tolerance:g})",
                                 f"{what}: eroare relativă {fmt(error, '.2g')} față de gradientul corect (ar trebui să fie < {fmt(tolerance, 'g')})")


def _forms(*arrays):
    """The same arguments as arrays and as nested lists."""
    yield arrays
    yield tuple(a.tolist() if isinstance(a, np.ndarray) else a for a in arrays)


def check_softmax_ce_gradient(student: Callable, hidden: bool = False) -> None:
    """``student(logits, labels)`` must return ``(p - y) / N`` (the gradient of the *mean* cross-entropy)."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (softmax_cross_entropy_backward,), "softmax_ce_gradient")
    rng = np.random.default_rng(2024)
    cases = [(np.array([[2.0, 1.0, 0.1]]), np.array([0])), (rng.normal(size=(5, 7)), rng.integers(0, 7, 5))]
    if hidden:
        cases += [(rng.normal(size=(64, 7)) * 20, rng.integers(0, 7, 64)),         # large logits: stable softmax
                  (np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), np.array([1, 1])),
                  (np.zeros((3, 4)), np.array([0, 1, 3]))]
    for logits, labels in cases:
        expected = softmax_ce_gradient(logits, labels)
        for args in _forms(logits, labels):
            result = _as_array(student(*args), tr("the gradient", "gradientul"), logits.shape)
            if np.allclose(result, expected * len(labels), atol=1e-9) and len(labels) > 1:
                raise AssertionError(tr("the gradient is N times too large: the loss is the batch *mean*, divide by N",
                                        "gradientul este de N ori prea mare: pierderea este *media* pe lot, împărțiți la N"))
            _close(result, expected, tr(f"softmax-CE gradient for {len(labels)} image(s)",
                                        "gradientul pentru softmax + entropie încrucișată pe "
                                        + count_phrase(len(labels), "imagini", singular="imagine")))
    if hidden:
        logits, labels = rng.normal(size=(4, 3)), rng.integers(0, 3, 4)
        numeric = numerical_gradient(lambda z: softmax_cross_entropy(z, labels), logits)
        _close(np.asarray(student(logits, labels), dtype=np.float64), numeric,
               tr("against the numerical gradient", "față de gradientul numeric"), 1e-5)


def check_max_pool_backward(student: Callable, hidden: bool = False) -> None:
    """``student(upstream, feature_map, size)`` must route each window's gradient to that window's maximum."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (max_pool2d_backward,), "max_pool_backward")
    rng = np.random.default_rng(2025)
    example = np.array([[1, 3, 2, 0], [4, 2, 1, 1], [0, 0, 5, 6], [1, 2, 7, 8]], dtype=float)
    cases = [(np.array([[10.0, 20.0], [30.0, 40.0]]), example, 2), (rng.normal(size=(3, 4)), rng.normal(size=(6, 8)), 2)]
    if hidden:
        cases += [(rng.normal(size=(2, 3)), rng.normal(size=(7, 9)), 3),          # leftover rows/columns get 0
                  (rng.normal(size=(5, 5)), -np.abs(rng.normal(size=(10, 10))) - 1, 2),  # all negative
                  (rng.normal(size=(6, 6)), rng.normal(size=(6, 6)), 1)]
    for upstream, feature_map, size in cases:
        expected = max_pool_backward_2d(upstream, feature_map, size)
        for args in _forms(upstream, feature_map, size):
            result = _as_array(student(*args), tr("the gradient", "gradientul"), feature_map.shape)
            everywhere = np.zeros(feature_map.shape)
            spread = np.kron(upstream, np.ones((size, size)))
            everywhere[:spread.shape[0], :spread.shape[1]] = spread
            if size > 1 and np.allclose(result, everywhere):
                raise AssertionError(tr("every value of the window got the gradient: only the window's maximum should",
                                        "toate valorile ferestrei au primit gradientul: doar maximul ferestrei trebuie să-l primească"))
            _close(result, expected, tr(f"max-pool backward ({feature_map.shape}, size {size})",
                                        f"propagarea înapoi prin max pooling (harta {feature_map.shape}, fereastra {size}x{size})"))


def check_conv_weight_gradient(student: Callable, hidden: bool = False) -> None:
    """``student(image, upstream)`` must return ``dL/dW``, the correlation of the image with the upstream gradient."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (conv2d_backward, correlate2d), "conv_weight_gradient")
    rng = np.random.default_rng(2026)
    cases = [(np.arange(16, dtype=float).reshape(4, 4), np.ones((2, 2))), (rng.normal(size=(6, 7)), rng.normal(size=(4, 5)))]
    if hidden:
        cases += [(rng.normal(size=(9, 9)), rng.normal(size=(5, 5))), (rng.normal(size=(8, 5)), rng.normal(size=(8, 3)))]
    for image, upstream in cases:
        expected = conv_weight_gradient_2d(image, upstream)
        for args in _forms(image, upstream):
            result = _as_array(student(*args), "dL/dW", expected.shape)
            if not np.allclose(expected, expected[::-1, ::-1]) and np.allclose(result, expected[::-1, ::-1]):
                raise AssertionError(tr("dL/dW is flipped: the weight gradient is a correlation (no flip), not a convolution",
                                        "dL/dW este rotit cu 180°: gradientul ponderilor este o corelație (fără rotire), nu o convoluție"))
            _close(result, expected, tr(f"conv weight gradient ({image.shape} image, {upstream.shape} gradient)",
                                        f"gradientul ponderilor convoluției (imaginea {image.shape}, gradientul {upstream.shape})"))


def check_numerical_gradient(student: Callable, hidden: bool = False) -> None:
    """``student(f, x, eps)`` must return central differences ``(f(x + eps e_i) - f(x - eps e_i)) / 2 eps``."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (numerical_gradient,), "numerical_gradient")
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    cases = [(lambda v: float((np.asarray(v) ** 2).sum()), x, 2 * x),
             (lambda v: float(np.sin(np.asarray(v)).sum()), np.array([0.0, 1.0, 2.0]), np.cos([0.0, 1.0, 2.0])),
             # strongly curved: forward differences (f(x + eps) - f(x)) / eps are off by ~eps*5/2 = 2.5e-6 here
             (lambda v: float(np.exp(5 * np.asarray(v)).sum()), np.array([0.2, 1.0]), 5 * np.exp(5 * np.array([0.2, 1.0])))]
    if hidden:
        w = np.random.default_rng(2027).normal(size=(3, 2))
        cases += [(lambda v: float(np.log1p(np.exp(np.asarray(v) @ w)).sum()), np.array([0.3, -0.2, 0.9]),
                   (1 / (1 + np.exp(-(np.array([0.3, -0.2, 0.9]) @ w)))) @ w.T),
                  (lambda v: float(np.asarray(v)[0] ** 3), np.array([2.0]), np.array([12.0]))]  # forward differences fail here
    for f, point, expected in cases:
        before = point.copy()
        result = _as_array(student(f, point, 1e-6), tr("the numerical gradient", "gradientul numeric"), point.shape)
        assert np.array_equal(point, before), tr("the function changed x: put every value back after nudging it",
                                                 "funcția a modificat x: readuceți fiecare valoare la loc după ce o modificați cu eps")
        _close(result, expected, tr("numerical gradient", "gradientul numeric"), 1e-6)


def check_momentum_step(student: Callable, hidden: bool = False) -> None:
    """``student(w, g, v, lr, momentum)`` must return ``(w_new, v_new)`` with ``v_new = momentum*v - lr*g``, ``w_new = w + v_new``."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (momentum_step,), "momentum_step")
    rng = np.random.default_rng(2028)
    cases = [(np.array([1.0, 2.0]), np.array([0.5, -0.5]), np.zeros(2), 0.1, 0.9),
             (rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), 0.05, 0.9)]
    if hidden:
        cases += [(rng.normal(size=5), rng.normal(size=5), rng.normal(size=5), 0.2, 0.0),     # momentum 0 = plain SGD
                  (rng.normal(size=(2, 2)), np.zeros((2, 2)), rng.normal(size=(2, 2)), 0.1, 0.5)]  # coasting on v
    for w, g, v, lr, mu in cases:
        w_expected, v_expected = momentum_update(w, g, v, lr, mu)
        for args in _forms(w, g, v, lr, mu):
            returned = student(*args)
            assert isinstance(returned, (tuple, list)) and len(returned) == 2, \
                tr("return two things: the new weights and the new velocity, (w, v)",
                   "întoarceți două lucruri: noile ponderi și noua viteză, (w, v)")
            new_weights, new_velocity = tr("the new weights", "noile ponderi"), tr("the new velocity", "noua viteză")
            _close(_as_array(returned[0], new_weights, w.shape), w_expected, new_weights)
            _close(_as_array(returned[1], new_velocity, w.shape), v_expected, new_velocity)
