"""How good is a model? Accuracy, per-class precision / recall / F1, the confusion matrix.

The metrics are written from scratch in numpy (lesson 04, section 6, "How good is it?",
explains each of them); :func:`evaluate_model` applies them to a model with the shipped
prediction pipeline (:func:`utils.models.predict_proba`) and times it. The command line
over them is ``python -m utils.evaluate`` (:mod:`utils.evaluate`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from utils.constants import EMOTIONS
from utils.data import PRIVATE_TEST, PUBLIC_TEST, TEST, DataError, Dataset
from utils.models import SHIPPED_FLIP_TTA, predict_proba

#: The order in which a held-out test split is looked for when --split is not given.
TEST_SPLIT_PREFERENCE = (PRIVATE_TEST, PUBLIC_TEST, TEST)


# --------------------------------------------------------------------------- metrics (pure numpy)


def _check_labels(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of the same length, got shapes {y_true.shape} and {y_pred.shape}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"{name} must hold integer class indices 0..{num_classes - 1}")
    return y_true.astype(np.int64), y_pred.astype(np.int64)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The fraction of images whose predicted class is the true one."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {y_true.shape} vs {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError("accuracy of zero images is undefined")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = len(EMOTIONS)) -> np.ndarray:
    """``matrix[t, p]`` = how many images of true class ``t`` were predicted as ``p``.

    The diagonal holds the correct answers; each row sums to a class's number of images.
    """
    y_true, y_pred = _check_labels(y_true, y_pred, num_classes)
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    # Each (true, predicted) pair adds one to its cell; np.add.at counts repeated pairs.
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (no images: no credit, no error)."""
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


@dataclass(frozen=True)
class ClassMetrics:
    """Per-class precision, recall, F1 and support (number of true images), as arrays of length K."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray

    @property
    def macro_f1(self) -> float:
        """The plain average of the per-class F1: every emotion counts the same, however rare."""
        return float(self.f1.mean())


def per_class_metrics(matrix: np.ndarray) -> ClassMetrics:
    """Precision, recall and F1 of every class, read off a confusion matrix.

    - precision = TP / (TP + FP): of the images *predicted* as the class, the share that are
      (the column of the class);
    - recall    = TP / (TP + FN): of the images that *are* the class, the share found (its row);
    - F1        = 2 P R / (P + R): their harmonic mean, high only when both are.
    """
    matrix = np.asarray(matrix)
    true_positives = np.diag(matrix)
    predicted = matrix.sum(axis=0)  # column sums: TP + FP
    actual = matrix.sum(axis=1)  # row sums: TP + FN
    precision = _safe_divide(true_positives, predicted)
    recall = _safe_divide(true_positives, actual)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return ClassMetrics(precision, recall, f1, actual.astype(np.int64))


def confident_mistakes(labels: np.ndarray, probabilities: np.ndarray, count: int = 12) -> np.ndarray:
    """Indices of the (at most ``count``) wrong predictions the model was surest of, surest first.

    These are the most instructive errors: often a mislabelled face, an ambiguous one, or a
    pattern the model learned wrongly (e.g. 'open mouth' = surprise).
    """
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise ValueError(f"expected probabilities (N, K) for N labels, got {probabilities.shape} for {len(labels)} labels")
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:max(0, int(count))]


# --------------------------------------------------------------------------- evaluating a model


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate_model`: labels, predictions, metrics and speed."""

    labels: np.ndarray
    predictions: np.ndarray
    probabilities: np.ndarray
    matrix: np.ndarray
    metrics: ClassMetrics
    seconds: float
    flip_tta: bool

    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def accuracy(self) -> float:
        return accuracy(self.labels, self.predictions)

    @property
    def images_per_second(self) -> float:
        return self.n / self.seconds if self.seconds > 0 else float("inf")

    def to_dict(self) -> dict:
        """JSON-ready: accuracy, n, per_class, confusion_matrix, images_per_second, ..."""
        m = self.metrics
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": m.macro_f1,
            "per_class": {
                name: {"precision": float(m.precision[i]), "recall": float(m.recall[i]),
                       "f1": float(m.f1[i]), "support": int(m.support[i])}
                for i, name in enumerate(EMOTIONS)
            },
            "confusion_matrix": self.matrix.tolist(),
            "classes": list(EMOTIONS),
            "flip_tta": self.flip_tta,
            "seconds": self.seconds,
            "images_per_second": self.images_per_second,
        }


def evaluate_model(model, images: np.ndarray, labels: np.ndarray, *, flip_tta: bool = SHIPPED_FLIP_TTA, batch_size: int = 512) -> Evaluation:
    """Predict ``images`` with the shipped pipeline and score the predictions against ``labels``.

    The time counts preprocessing and prediction, after one small warm-up call (the
    first call of a Keras model builds its graph, a one-off cost).
    """
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if len(labels) == 0:
        raise ValueError("no images to evaluate")
    predict_proba(model, images[:min(len(images), batch_size)], flip_tta=flip_tta, batch_size=batch_size)
    started = time.perf_counter()
    probabilities = predict_proba(model, images, flip_tta=flip_tta, batch_size=batch_size)
    seconds = time.perf_counter() - started
    predictions = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predictions)
    return Evaluation(labels, predictions, probabilities, matrix, per_class_metrics(matrix), seconds, flip_tta)


def format_report(evaluation: Evaluation, *, title: str = "") -> str:
    """Accuracy, a per-class table and the confusion matrix, as plain text."""
    m = evaluation.metrics
    width = max(len(e) for e in EMOTIONS)
    lines = [title] if title else []
    lines.append(f"accuracy {evaluation.accuracy:.4f} on {evaluation.n:,} images "
                 f"(macro F1 {m.macro_f1:.4f}; flip-TTA {'on' if evaluation.flip_tta else 'off'})")
    lines.append("")
    lines.append(f"{'class':<{width}}  precision  recall     f1  support")
    for i, name in enumerate(EMOTIONS):
        lines.append(f"{name:<{width}}  {m.precision[i]:9.3f}  {m.recall[i]:6.3f}  {m.f1[i]:5.3f}  {m.support[i]:7d}")
    lines.append("")
    lines.append("confusion matrix (rows: true class, columns: predicted class)")
    short = [e[:5] for e in EMOTIONS]
    lines.append(" " * (width + 2) + " ".join(f"{s:>6}" for s in short))
    for i, name in enumerate(EMOTIONS):
        lines.append(f"{name:<{width}}  " + " ".join(f"{v:6d}" for v in evaluation.matrix[i]))
    lines.append("")
    lines.append(f"speed: {evaluation.images_per_second:,.0f} images/s ({evaluation.seconds:.2f} s for {evaluation.n:,} images)")
    return "\n".join(lines)


def choose_split(dataset: Dataset, split: str | None) -> str:
    """``split`` if the data set has it; by default the held-out test split (see module docstring)."""
    if split is not None:
        if split not in dataset.splits:
            raise DataError(f"{dataset.source} has no split {split!r}; it has {sorted(dataset.splits)}. Choose one with --split.")
        return split
    if len(dataset.splits) == 1:
        return next(iter(dataset.splits))
    for name in TEST_SPLIT_PREFERENCE:
        if name in dataset.splits:
            return name
    raise DataError(f"{dataset.source} has no test split ({', '.join(TEST_SPLIT_PREFERENCE)}); "
                    f"it has {sorted(dataset.splits)}. Choose one with --split.")
