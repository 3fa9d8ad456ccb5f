"""Lesson 03's graded exercises: the checks its test cells run.

Same rules as :mod:`utils.backward_exercises` (lesson 04) and :mod:`utils.inside_exercises`
(lesson 05): each ``check_*`` calls the student's function on several cases and raises
``AssertionError`` with a message that says what is expected. Every answer that meets the
statement passes: the result may be a list, a tuple or an array, of any float dtype, within
the stated tolerance, and error messages are never compared (only the exception's type).
Lesson 03's statements promise numpy arrays as arguments, so the checks pass arrays.
The classic wrong answers fail, each with a message that names it:

- max pooling started from 0 instead of from the window's values (all-negative maps);
- dropout drawn with the global ``np.random`` or a fresh generator instead of the given one
  (the same generator state must give the same mask, different states different masks);
- softmax that subtracts one global maximum instead of each row's (a batch whose rows live
  at very different scales);
- cross-entropy summed instead of averaged, or without the clipping.

``hidden=True`` adds the cases a hidden test block keeps for autograding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from utils.by_hand import guarded
from utils.layers.activations import softmax
from utils.layers.dropout import dropout
from utils.layers.losses import sparse_categorical_crossentropy
from utils.layers.pooling import max_pool2d

#: The worked example of lesson 03, section 3.
WORKED_EXAMPLE = np.array([[1, 3, 2, 0],
                           [4, 2, 1, 1],
                           [0, 0, 5, 6],
                           [1, 2, 7, 8]], dtype=float)
TOLERANCE = 1e-6
CLIP = 1e-7


def _as_array(value, what: str, shape: tuple | None = None) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise AssertionError(f"{what} must be numbers (an array or a list), got {type(value).__name__}: {error}") from None
    if shape is not None:
        assert array.shape == tuple(shape), f"{what} should have shape {tuple(shape)}, got {array.shape}"
    return array


def _close(result: np.ndarray, expected, what: str, tolerance: float = TOLERANCE) -> None:
    assert np.isfinite(result).all(), f"{what}: the result contains NaN or infinite values"
    assert np.allclose(result, expected, rtol=tolerance, atol=tolerance), (
        f"{what}: largest |difference| to the expected values is {np.abs(result - expected).max():.3g} "
        f"(should be below {tolerance:g})")


# --------------------------------------------------------------------------- exercise 1


def check_max_pool(student: Callable, hidden: bool = False, extra_maps: Iterable[np.ndarray] = ()) -> None:
    """``student(feature_map, size)``: 'valid' max pooling of a 2D map, window and stride ``size``."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (max_pool2d,), "max_pool")
    rng = np.random.default_rng(42)
    cases = [(WORKED_EXAMPLE, 2), (np.zeros((5, 7)), 2), (rng.normal(size=(6, 8)), 2)]
    if hidden:
        cases += [(rng.normal(size=(7, 9)), 2), (rng.normal(size=(7, 9)), 3), (rng.normal(size=(6, 6)), 1),
                  (rng.normal(size=(46, 46)), 2), (rng.normal(size=(10, 4)), 4),
                  (-np.abs(rng.normal(size=(6, 8))) - 1, 2)]                  # all negative: the maximum is not 0
        cases += [(np.asarray(m, dtype=np.float64), 2) for m in extra_maps]
    for feature_map, size in cases:
        expected = max_pool2d(feature_map, size)
        before = feature_map.copy()
        result = _as_array(student(feature_map, size), f"my_max_pool of a {feature_map.shape} map, size {size}",
                           (feature_map.shape[0] // size, feature_map.shape[1] // size))
        assert np.array_equal(feature_map, before), "my_max_pool changed its input: pooling only reads the map"
        if not np.allclose(result, expected) and np.allclose(result, np.maximum(expected, 0)):
            raise AssertionError("windows of negative values gave 0: start each window's maximum from its own values, not from 0")
        if size > 1 and np.allclose(result, feature_map[: result.shape[0] * size, : result.shape[1] * size]
                                    .reshape(result.shape[0], size, result.shape[1], size).mean(axis=(1, 3))) \
                and not np.allclose(result, expected):
            raise AssertionError("this is the mean of each window (average pooling): max pooling keeps the largest value")
        _close(result, expected, f"max pooling of a {feature_map.shape} map with size {size}")


# --------------------------------------------------------------------------- exercise 2


def check_dropout(student: Callable, hidden: bool = False) -> None:
    """``student(x, rate, rng)``: inverted dropout in training mode, random numbers drawn from ``rng``."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (dropout,), "dropout")
    x = np.ones((200, 100))
    out = _as_array(student(x, 0.25, np.random.default_rng(0)), "my_dropout(x, 0.25, rng)", x.shape)
    assert np.array_equal(x, np.ones((200, 100))), "my_dropout changed its input x: return a new array"
    assert np.all(np.isclose(out, 0) | np.isclose(out, 1 / 0.75)), \
        "each value is either dropped (0) or divided by 1 - rate"
    assert abs(np.isclose(out, 0).mean() - 0.25) < 0.02, \
        f"about a quarter of the values should be dropped at rate 0.25, got {np.isclose(out, 0).mean():.3f}"
    assert abs(out.mean() - 1.0) < 0.03, f"the mean should stay close to the input's (1), got {out.mean():.3f}"
    if not hidden:
        return
    _close(_as_array(student(x, 0.0, np.random.default_rng(1)), "rate 0", x.shape), x, "rate 0 changes nothing")
    big = _as_array(student(np.full((300, 300), 3.0), 0.8, np.random.default_rng(2)), "rate 0.8", (300, 300))
    dropped = np.isclose(big, 0)
    assert abs(dropped.mean() - 0.8) < 0.01, f"rate 0.8 should drop about 80% of the values, got {dropped.mean():.3f}"
    _close(big[~dropped], np.full((~dropped).sum(), 15.0), "the survivors of rate 0.8 are 3 / (1 - 0.8)")
    varied = np.random.default_rng(5).uniform(0.5, 1.5, size=(50, 40))
    mixed = _as_array(student(varied, 0.3, np.random.default_rng(6)), "values that are not all equal", varied.shape)
    kept = ~np.isclose(mixed, 0)
    _close(mixed[kept], varied[kept] / 0.7, "each survivor is its own input divided by 1 - rate")
    first = _as_array(student(x, 0.5, np.random.default_rng(3)), "rate 0.5", x.shape)
    again = _as_array(student(x, 0.5, np.random.default_rng(3)), "rate 0.5", x.shape)
    assert np.array_equal(first, again), (
        "two generators with the same seed must give the same output: draw the random numbers with the rng argument "
        "(not with np.random.* or a new generator)")
    other = _as_array(student(x, 0.5, np.random.default_rng(4)), "rate 0.5", x.shape)
    assert not np.array_equal(first, other), (
        "generators with different seeds gave the same mask: draw the random numbers with the rng argument")
    for bad_rate in (1.0, 1.5, -0.1):
        try:
            student(x, bad_rate, np.random.default_rng(0))
        except ValueError:
            continue
        raise AssertionError(f"rate={bad_rate} must raise a ValueError (the rate lies in [0, 1))")


# --------------------------------------------------------------------------- exercise 3


def check_softmax(student: Callable, hidden: bool = False) -> None:
    """``student(logits)``: softmax along the last axis of a ``(K,)`` vector or an ``(N, K)`` batch, stable for large logits."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (softmax,), "softmax")
    with np.errstate(over="ignore", invalid="ignore"):
        small = _as_array(student(np.array([1.0, 2.0, 3.0])), "my_softmax([1, 2, 3])", (3,))
        _close(small, [0.09003057, 0.24472847, 0.66524096], "softmax of [1, 2, 3]")
        large = _as_array(student(np.array([1000.0, 999.0, 0.0])), "my_softmax([1000, 999, 0])", (3,))
        assert np.isfinite(large).all(), "logits like [1000, 999, 0] overflow: subtract the largest logit first"
        _close(large, softmax(np.array([1000.0, 999.0, 0.0])), "softmax of [1000, 999, 0]")
        if not hidden:
            return
        rng = np.random.default_rng(7)
        batch = rng.normal(scale=4, size=(6, 7))
        result = _as_array(student(batch), "a batch (6, 7)", batch.shape)
        if np.isclose(result.sum(), 1.0) and not np.allclose(result.sum(axis=1), 1.0):
            raise AssertionError("a batch: the whole batch sums to 1; each row (image) must sum to 1 on its own")
        _close(result, softmax(batch), "a batch: the softmax of each row")
        _close(_as_array(student(batch + 500.0), "a batch + 500", batch.shape), softmax(batch),
               "adding the same constant to all logits changes nothing")
        _close(_as_array(student(np.array([1000.0, 999.0, -1000.0])), "[1000, 999, -1000]", (3,)),
               softmax(np.array([1000.0, 999.0, -1000.0])), "very different logits")
        # rows at very different scales: one maximum for the whole batch underflows the second row to 0 / 0
        scales = np.array([[0.0, 0.0], [-1000.0, -1001.0]])
        rows = _as_array(student(scales), "a batch whose rows live at very different scales", scales.shape)
        assert np.isfinite(rows).all(), (
            "a batch [[0, 0], [-1000, -1001]] gave NaN: subtract each row's own maximum, not the batch's")
        _close(rows, [[0.5, 0.5], [0.73105858, 0.26894142]], "each row's own maximum")
        _close(_as_array(student(batch.astype(np.float32)), "float32 logits", batch.shape), softmax(batch),
               "float32 logits", 1e-5)


# --------------------------------------------------------------------------- exercise 4


def check_cross_entropy(student: Callable, hidden: bool = False) -> None:
    """``student(labels, probabilities)``: the mean cross-entropy, probabilities clipped to [1e-7, 1 - 1e-7], as a float."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (sparse_categorical_crossentropy,), "cross_entropy")
    def value(labels, probabilities, what):
        result = student(np.asarray(labels), np.asarray(probabilities, dtype=np.float64))
        assert isinstance(result, float), (
            f"{what}: return one number, a Python float (float(...)), got {type(result).__name__}")
        return float(result)

    one = value([1], [[0.2, 0.5, 0.3]], "one image")
    assert np.isclose(one, -np.log(0.5)), f"one image: the loss is -log of the true class's probability (0.693), got {one:.4f}"
    two = value([0, 2], [[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]], "two images")
    expected = -(np.log(0.5) + np.log(0.8)) / 2
    if np.isclose(two, 2 * expected):
        raise AssertionError("two images: this is the sum of the losses; the loss of a batch is their mean")
    assert np.isclose(two, expected), f"two images: expected the mean {expected:.4f}, got {two:.4f}"
    value([0], [[1.0, 0.0]], "a certain, right prediction")
    if not hidden:
        return
    rng = np.random.default_rng(9)
    p = softmax(rng.normal(scale=2, size=(20, 7)))
    y = rng.integers(0, 7, size=20)
    got = value(y, p, "20 images")
    assert np.isclose(got, sparse_categorical_crossentropy(y, p).mean(), rtol=TOLERANCE), (
        f"20 random images: expected {sparse_categorical_crossentropy(y, p).mean():.6f}, got {got:.6f}")
    with np.errstate(divide="ignore"):
        certain_wrong = value([0], [[0.0, 1.0]], "probability 0 for the true class")
    assert np.isfinite(certain_wrong), "probability 0 for the true class gave an infinite loss: clip first"
    assert np.isclose(certain_wrong, -np.log(CLIP)), \
        f"probability 0 for the true class costs -log(1e-7) = {-np.log(CLIP):.3f} after clipping, got {certain_wrong:.3f}"
    right = value([1], [[0.0, 1.0]], "a certain, right prediction")
    assert 0 <= right < 1e-6, f"a certain, right prediction costs almost nothing, got {right:.3g}"


# --------------------------------------------------------------------------- exercise 5


def head_parameters_reference(height: int, width: int, channels: int, pool: int, units: int) -> int:
    """Reference: a dense layer with biases after 'valid' pool x pool max pooling and flatten."""
    inputs = ((height - pool) // pool + 1) * ((width - pool) // pool + 1) * channels
    return inputs * units + units


def check_head_parameters(student: Callable, hidden: bool = False) -> None:
    """``student(height, width, channels, pool, units)``: the parameters of that dense layer."""
    cases = [(48, 48, 32, 1, 128), (48, 48, 32, 2, 128)]
    if hidden:
        cases += [(47, 47, 8, 2, 10), (3, 3, 256, 1, 256), (10, 13, 3, 3, 5), (12, 12, 16, 2, 7), (6, 9, 4, 2, 1)]
    for case in cases:
        got, expected = student(*case), head_parameters_reference(*case)
        assert isinstance(got, (int, np.integer)), f"head_parameters{case}: return a whole number (int), got {type(got).__name__}"
        if got == expected - case[-1]:
            raise AssertionError(f"head_parameters{case}: {got} leaves out the biases, one per unit")
        assert got == expected, f"head_parameters{case}: expected {expected:,}, got {got:,}"


__all__ = ["check_cross_entropy", "check_dropout", "check_head_parameters", "check_max_pool", "check_softmax",
           "head_parameters_reference"]
