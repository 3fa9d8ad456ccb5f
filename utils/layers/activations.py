"""Activation functions from scratch: ReLU and a numerically stable softmax, equal to Keras's.

Lesson 03 explains them (sections 2 and 5).
"""

from __future__ import annotations

import numpy as np


def _numeric(values, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{what} needs numbers, got an array of dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(f"{what} needs real numbers, got complex values")
    return array


def relu(inputs) -> np.ndarray:
    """Rectified linear unit, like ``keras.activations.relu``: ``max(0, x)`` element by element.

    Negative values become 0, positive values pass unchanged. NaN stays NaN (it is not hidden).
    """
    array = _numeric(inputs, "relu")
    return np.where(array > 0, array, np.zeros((), dtype=array.dtype))


def check_finite(values: np.ndarray, what: str) -> None:
    """Raise a clear error when ``values`` holds NaN or +-inf (and say where the first one is)."""
    finite = np.isfinite(values)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        value = values[where]
        raise ValueError(
            f"{what} contain {value} at index {where}; {int((~finite).sum())} value(s) are NaN or infinite. "
            "They usually come from a training run that diverged (try a lower learning rate) "
            "or from inputs that were not scaled; fix them before computing probabilities."
        )


def softmax(logits, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Softmax, like ``keras.activations.softmax``: ``exp(z_i / T) / sum_j exp(z_j / T)`` along ``axis``.

    The largest logit is subtracted first: the result is the same (the factor ``exp(-max)``
    cancels) but ``exp`` can no longer overflow. The outputs are positive and sum to 1 along
    ``axis``. ``temperature`` ``T`` > 1 flattens the distribution, < 1 sharpens it.
    NaN or infinite logits raise a ``ValueError`` instead of silently giving NaN.
    """
    array = _numeric(logits, "softmax").astype(np.result_type(np.asarray(logits).dtype, np.float32), copy=False)
    if array.ndim == 0:
        raise ValueError("softmax needs at least one axis of logits (one value per class), got a single number")
    if array.shape[axis] == 0:
        raise ValueError(f"softmax got no logits along axis {axis} (shape {array.shape})")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    check_finite(array, "the logits")
    shifted = (array - array.max(axis=axis, keepdims=True)) / temperature
    exps = np.exp(shifted)
    return exps / exps.sum(axis=axis, keepdims=True)


def log_softmax(logits, axis: int = -1) -> np.ndarray:
    """``log(softmax(z))`` computed without taking the log of a tiny number: ``z - max - log(sum(exp(z - max)))``."""
    array = _numeric(logits, "log_softmax").astype(np.result_type(np.asarray(logits).dtype, np.float32), copy=False)
    check_finite(array, "the logits")
    shifted = array - array.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
