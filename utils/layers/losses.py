"""Cross-entropy losses from scratch, equal to Keras's (TensorFlow backend) to float precision.

For one image with true class ``y`` and predicted probabilities ``p``, the cross-entropy
is ``-log p[y]``: 0 when the model is sure and right, large when it is sure and wrong.
*Categorical* cross-entropy takes the labels one-hot (``[0, 0, 0, 1, 0, 0, 0]`` for
class 3), *sparse* categorical cross-entropy takes them as class indices (``3``); both give
the same number. Probabilities are clipped to ``[1e-7, 1 - 1e-7]`` first, as Keras does,
so a probability of 0 gives a large but finite loss instead of infinity.

Lesson 03 explains them (section 5, cross-entropy).
"""

from __future__ import annotations

import numpy as np

from utils.layers.activations import check_finite, log_softmax

EPSILON = 1e-7  # keras.backend.epsilon()


def one_hot(labels, num_classes: int) -> np.ndarray:
    """Integer labels ``(N,)`` -> one-hot rows ``(N, num_classes)``, like ``keras.utils.to_categorical``."""
    labels = check_labels(labels, num_classes)
    encoded = np.zeros(labels.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(encoded, labels[..., np.newaxis], 1.0, axis=-1)
    return encoded


def check_labels(labels, num_classes: int) -> np.ndarray:
    """Integer class labels as an int64 array, or a clear error (not integers, out of range)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    array = np.asarray(labels)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"labels must be integer class indices, got dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.integer):
        if not (np.isfinite(array).all() and (array == np.round(array)).all()):
            raise ValueError("labels must be whole numbers (class indices 0, 1, 2, ...), got fractional, NaN or infinite values")
    array = array.astype(np.int64)
    bad = (array < 0) | (array >= num_classes)
    if bad.any():
        raise ValueError(
            f"label {int(array[bad].flat[0])} is out of range: with {num_classes} classes the labels are "
            f"0..{num_classes - 1} ({int(bad.sum())} label(s) out of range)"
        )
    return array


def _probabilities(values, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{what} must be numbers, got dtype {array.dtype}")
    if array.ndim < 1 or array.shape[-1] == 0:
        raise ValueError(f"{what} need one value per class along the last axis, got shape {array.shape}")
    array = array.astype(np.result_type(array.dtype, np.float32), copy=False)
    check_finite(array, what)
    return array


def _check_predictions(probabilities: np.ndarray) -> None:
    if (probabilities < 0).any():
        raise ValueError(
            "predicted probabilities cannot be negative; if these are raw scores (logits), "
            "pass from_logits=True or apply softmax first"
        )
    if (probabilities.sum(axis=-1) <= 0).any():
        raise ValueError("a row of predicted probabilities sums to 0: it is not a probability distribution")


def categorical_crossentropy(labels, predictions, from_logits: bool = False) -> np.ndarray:
    """Per-image cross-entropy with one-hot labels, like ``keras.losses.categorical_crossentropy``.

    ``labels`` and ``predictions`` ``(N, classes)``; returns ``(N,)``: ``-sum_k y_k log p_k``.
    The loss a model minimises (``keras.losses.CategoricalCrossentropy()``) is its mean.
    ``from_logits=True``: ``predictions`` are raw scores and softmax is applied inside (more stable).
    """
    y = _probabilities(labels, "the labels")
    p = _probabilities(predictions, "the logits" if from_logits else "the predicted probabilities")
    if y.shape != p.shape:
        raise ValueError(
            f"labels {y.shape} and predictions {p.shape} must have the same shape; "
            "for integer labels use sparse_categorical_crossentropy, or one_hot(labels, num_classes)"
        )
    if (y < 0).any() or not np.allclose(y.sum(axis=-1), 1.0, atol=1e-3):
        raise ValueError("each row of one-hot labels must be non-negative and sum to 1 (one class per image)")
    if from_logits:
        return -(y * log_softmax(p)).sum(axis=-1)
    _check_predictions(p)
    p = p / p.sum(axis=-1, keepdims=True)
    return -(y * np.log(np.clip(p, EPSILON, 1.0 - EPSILON))).sum(axis=-1)


def sparse_categorical_crossentropy(labels, predictions, from_logits: bool = False) -> np.ndarray:
    """Per-image cross-entropy with integer labels, like ``keras.losses.sparse_categorical_crossentropy``.

    ``labels`` ``(N,)`` class indices, ``predictions`` ``(N, classes)``; returns ``(N,)``: ``-log p[label]``.
    Raises ``ValueError`` for a label outside ``0 .. classes - 1``, fractional or non-integer
    labels, labels that do not match the predictions' shape, or NaN / infinite predictions.
    """
    p = _probabilities(predictions, "the logits" if from_logits else "the predicted probabilities")
    y = np.asarray(labels)
    if y.ndim == p.ndim and y.ndim > 0 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.shape != p.shape[:-1]:
        raise ValueError(
            f"sparse labels need one class index per image: labels {np.shape(labels)} do not match "
            f"predictions {p.shape}; one-hot labels go to categorical_crossentropy"
        )
    y = check_labels(y, p.shape[-1])
    if from_logits:
        log_p = log_softmax(p)
    else:
        _check_predictions(p)
        log_p = log_softmax(np.log(np.clip(p, EPSILON, 1.0 - EPSILON)))  # what TensorFlow computes
    return -np.take_along_axis(log_p, y[..., np.newaxis], axis=-1)[..., 0]
