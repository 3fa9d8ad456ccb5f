"""Can a model's probabilities be trusted? Reliability, expected calibration error, temperature scaling.

Lesson 05 explains these on the shipped model. A classifier is *calibrated* when, among
the faces it labels with confidence 0.8, about 80% are right. Everything here is plain
numpy on ``probabilities`` of shape (N, K) (rows summing to 1, as the model's softmax gives
them) and integer ``labels`` of shape (N,):

- :func:`reliability_bins`  confidence vs accuracy in equal-width confidence bins
- :func:`expected_calibration_error`  ECE = sum over bins of (n_b / N) * |accuracy_b - confidence_b|
- :func:`apply_temperature`  softmax(log p / T): T > 1 softens over-confident probabilities
- :func:`fit_temperature`   the T that minimises the negative log-likelihood on held-out faces
  (Guo et al., 2017, "On calibration of modern neural networks")
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utils.errors import CourseError

#: Probabilities are clipped to this before a logarithm: log(0) would be -inf.
EPSILON = 1e-12


class CalibrationError(CourseError, ValueError):
    """Probabilities or labels that cannot be used, with what is wrong."""


def _check(probabilities, labels) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels)
    if p.ndim != 2 or y.ndim != 1 or len(p) != len(y):
        raise CalibrationError(f"need probabilities (N, K) and labels (N,), got shapes {p.shape} and {y.shape}")
    if len(y) == 0:
        raise CalibrationError("no predictions to measure")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= p.shape[1]:
        raise CalibrationError(f"labels must be integer classes 0..{p.shape[1] - 1}")
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1, atol=1e-3):
        raise CalibrationError("every row of probabilities must be non-negative and sum to 1 (softmax outputs)")
    return p, y.astype(np.int64)


@dataclass(frozen=True)
class ReliabilityBins:
    """Per confidence bin: its edges, how many predictions fell in it, their mean confidence and accuracy."""

    edges: np.ndarray        # (B + 1,) from 0 to 1
    counts: np.ndarray       # (B,)
    confidence: np.ndarray   # (B,) mean top probability in the bin (nan when empty)
    accuracy: np.ndarray     # (B,) fraction right in the bin (nan when empty)


def reliability_bins(probabilities, labels, n_bins: int = 10) -> ReliabilityBins:
    """Group predictions by their confidence (the top probability) into ``n_bins`` equal-width bins.

    Bin ``b`` holds confidences in ``(b / B, (b + 1) / B]``; a confidence of exactly 0 goes to the first.
    """
    p, y = _check(probabilities, labels)
    if n_bins < 1:
        raise CalibrationError(f"n_bins must be at least 1, got {n_bins}")
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, weights=confidence, minlength=n_bins) / counts
        accuracy = np.bincount(index, weights=correct, minlength=n_bins) / counts
    return ReliabilityBins(edges, counts, mean_confidence, accuracy)


def expected_calibration_error(probabilities, labels, n_bins: int = 15) -> float:
    """ECE: the average gap between confidence and accuracy, each bin weighted by its share of predictions."""
    bins = reliability_bins(probabilities, labels, n_bins)
    filled = bins.counts > 0
    weights = bins.counts[filled] / bins.counts.sum()
    return float(np.sum(weights * np.abs(bins.accuracy[filled] - bins.confidence[filled])))


def negative_log_likelihood(probabilities, labels) -> float:
    """Mean of -log p(true class): the cross-entropy of the predictions."""
    p, y = _check(probabilities, labels)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], EPSILON, 1.0))))


def apply_temperature(probabilities, temperature: float) -> np.ndarray:
    """``softmax(log(p) / T)``: the model's logits are log p up to a constant, which softmax ignores.

    T = 1 changes nothing; T > 1 flattens the distribution; T < 1 sharpens it. The order of
    the classes, and so the predicted class and the accuracy, never changes.
    """
    if not temperature > 0:
        raise CalibrationError(f"the temperature must be positive, got {temperature}")
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), EPSILON, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def fit_temperature(probabilities, labels, *, low: float = 0.05, high: float = 20.0, tolerance: float = 1e-5) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels`` (golden-section search).

    Fit it on faces the model was not trained on and that the final score does not use
    (a validation part); the NLL is searched over log T, where it has a single minimum.
    """
    p, y = _check(probabilities, labels)

    def loss(log_t: float) -> float:
        return negative_log_likelihood(apply_temperature(p, float(np.exp(log_t))), y)

    a, b = np.log(low), np.log(high)
    ratio = (np.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = loss(c), loss(d)
    while b - a > tolerance:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = loss(d)
    return float(np.exp((a + b) / 2))
