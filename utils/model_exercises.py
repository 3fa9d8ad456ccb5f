"""Lesson 04's exercises 6-9 (the model and its evaluation): the checks their test cells run.

Same rules as :mod:`utils.backward_exercises` (exercises 1-5): every answer that meets the
statement passes, whatever its form (a list or an array, Python or numpy integers, any
layer that computes the same function), and the classic wrong answers fail with a message
that names them. ``hidden=True`` adds the cases a hidden test block keeps for autograding.

:func:`check_conv_block` checks *behaviour*, not class names: the student's block is run
on random inputs with random weights (copied into a reference block built from the
library's own layers) and must give the same outputs. ``keras.layers.ReLU()``,
``keras.layers.Activation("relu")`` and ``keras.layers.Activation(keras.activations.relu)``
are therefore equally right, while a ReLU *before* batch normalisation (for example
``Conv2D(..., activation="relu")``) computes something else and fails.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np

from utils.by_hand import guarded
from utils.i18n import count_phrase, fmt, tr
from utils.metrics import accuracy, confusion_matrix
from utils.models import Architecture, batchnorm_params, conv_params, parameter_table


def _integer(value, what: str) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise AssertionError(tr(f"{what}: return a whole number (int), got {type(value).__name__} {value!r}",
                                f"{what}: întoarceți un număr întreg (int), s-a obținut {type(value).__name__} {value!r}")) from None


# --------------------------------------------------------------------------- exercise 6


def block_parameters_reference(channels_in: int, filters: int, kernel_size: int = 3, convs: int = 2,
                               batch_norm: bool = True) -> int:
    """Reference: ``convs`` convolutions with biases (the first reads ``channels_in``), each with its batch norm."""
    total, channels = 0, channels_in
    for _ in range(convs):
        total += conv_params(kernel_size, channels, filters) + (batchnorm_params(filters) if batch_norm else 0)
        channels = filters
    return total


def check_block_parameters(student: Callable, hidden: bool = False) -> None:
    """``student(channels_in, filters, kernel_size=3, convs=2, batch_norm=True)``: the parameters of one block."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (conv_params, batchnorm_params), "block_parameters")
    cases = [((1, 16), {}), ((16, 32), {}), ((1, 16), {"batch_norm": False})]
    if hidden:
        cases += [((3, 10), {"kernel_size": 5, "convs": 1}), ((8, 8), {"convs": 3, "batch_norm": False})]
    for args, kwargs in cases:
        expected = block_parameters_reference(*args, **kwargs)
        call = f"block_parameters{args}" + (tr(f" with {kwargs}", f" cu {kwargs}") if kwargs else "")
        got = _integer(student(*args, **kwargs), call)
        if got != expected:
            with_bn, convs = kwargs.get("batch_norm", True), kwargs.get("convs", 2)
            if with_bn and got == expected - convs * batchnorm_params(args[1]) // 2:
                raise AssertionError(tr(
                    f"{call}: {got:,} counts only the trainable half of batch norm (4C per layer, not 2C)",
                    f"{call}: {fmt(got)} numără doar jumătatea antrenabilă a normalizării pe lot (4C pe strat, nu 2C)"))
            if convs > 1 and got == convs * conv_params(kwargs.get("kernel_size", 3), args[0], args[1]) + (
                    convs * batchnorm_params(args[1]) if with_bn else 0):
                raise AssertionError(tr(
                    f"{call}: {got:,}: only the first convolution reads channels_in; the others read `filters`",
                    f"{call}: {fmt(got)}: doar prima convoluție citește channels_in; celelalte citesc `filters`"))
            raise AssertionError(tr(f"{call}: expected {expected:,}, got {got:,}",
                                    f"{call}: se aștepta {fmt(expected)}, s-a obținut {fmt(got)}"))
    if not hidden:
        return
    for arch in (Architecture(filters=(4, 8), block_dropout=(0.1, 0.2), dense_units=8),
                 Architecture(filters=(6, 12, 24), block_dropout=(0, 0, 0), convs_per_block=3, kernel_size=5),
                 Architecture(filters=(5,), block_dropout=(0.3,), convs_per_block=1, batch_norm=False)):
        table, channels = parameter_table(arch), 1
        for number, filters in enumerate(arch.filters, start=1):
            expected = sum(r.parameters for r in table if r.layer.startswith(f"block{number}_"))
            got = _integer(student(channels, filters, arch.kernel_size, arch.convs_per_block, arch.batch_norm),
                           tr(f"block {number} of {arch.filters}", f"blocul {number} din {arch.filters}"))
            assert got == expected, tr(f"block {number} of filters {arch.filters}: expected {expected:,}, got {got:,}",
                                       f"blocul {number} cu filters {arch.filters}: se aștepta {fmt(expected)}, s-a obținut {fmt(got)}")
            channels = filters


# --------------------------------------------------------------------------- exercise 7


def _reference_block(x, filters: int, dropout: float):
    import keras

    for _ in range(2):
        x = keras.layers.Conv2D(filters, 3, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D(2)(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout)(x)
    return x


def _weighted_layers(model) -> list:
    return [layer for layer in model.layers if layer.get_weights()]


def _check_block(student: Callable, input_shape: tuple, filters: int, dropout: float, seed: int) -> None:
    import keras

    what = f"conv_block(keras.Input({input_shape}), {filters}, {dropout})"
    student_input = keras.Input(input_shape)
    try:
        student_model = keras.Model(student_input, student(student_input, filters, dropout))
    except Exception as error:     # the student's code may fail in any way; say where
        raise AssertionError(tr(f"{what} could not be built into a model: {type(error).__name__}: {error}",
                                f"{what} nu a putut fi transformat într-un model: {type(error).__name__}: {error}")) from None
    reference_input = keras.Input(input_shape)
    reference = keras.Model(reference_input, _reference_block(reference_input, filters, dropout))
    expected_shape = tuple(reference.output.shape[1:])
    got_shape = tuple(student_model.output.shape[1:])
    assert got_shape == expected_shape, tr(
        f"{what}: output shape {got_shape}, expected {expected_shape} ('same' padding keeps the size, 2x2 pooling halves it)",
        f"{what}: ieșirea are forma {got_shape}, se aștepta {expected_shape} "
        "(bordarea 'same' păstrează dimensiunea, poolingul 2x2 o înjumătățește)")
    assert student_model.count_params() == reference.count_params(), tr(
        f"{what}: {student_model.count_params():,} parameters, expected {reference.count_params():,} "
        "(two 3x3 convolutions with biases, each followed by batch normalisation)",
        f"{what}: {count_phrase(student_model.count_params(), 'parametri')}, se aștepta {fmt(reference.count_params())} "
        "(două convoluții 3x3 cu bias, fiecare urmată de normalizare pe lot)")
    convs = [layer for layer in student_model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 2 and all(tuple(c.kernel_size) == (3, 3) and tuple(c.strides) == (1, 1) for c in convs), tr(
        f"{what}: two Conv2D layers with 3x3 kernels and stride 1",
        f"{what}: două straturi Conv2D cu nuclee 3x3 și pasul 1")
    rates = [float(layer.rate) for layer in student_model.layers if isinstance(layer, keras.layers.Dropout)]
    if dropout > 0:
        assert [r for r in rates if r > 0] == [dropout], tr(
            f"{what}: one Dropout({dropout}) at the end of the block, got rates {rates}",
            f"{what}: un singur Dropout({dropout}) la sfârșitul blocului, ratele găsite: {rates}")
    else:
        assert not any(r > 0 for r in rates), tr(f"{what}: dropout 0 means no dropout, got rates {rates}",
                                                 f"{what}: dropout 0 înseamnă fără dropout, ratele găsite: {rates}")
    pools = [layer for layer in student_model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert len(pools) == 1, tr(f"{what}: one MaxPooling2D(2), got {len(pools)}",
                               f"{what}: un singur MaxPooling2D(2), s-au găsit {len(pools)}")

    # behaviour: the reference's weights (random, with non-trivial batch-norm statistics) copied into the student's layers
    rng = np.random.default_rng(seed)
    ours, theirs = _weighted_layers(reference), _weighted_layers(student_model)
    assert [type(layer).__name__ for layer in theirs] == [type(layer).__name__ for layer in ours], tr(
        f"{what}: the layers with weights should be Conv2D, BatchNormalization, Conv2D, BatchNormalization in this order, "
        f"got {[type(layer).__name__ for layer in theirs]}",
        f"{what}: straturile cu ponderi ar trebui să fie Conv2D, BatchNormalization, Conv2D, BatchNormalization, în această ordine; "
        f"s-a obținut {[type(layer).__name__ for layer in theirs]}")
    for layer in ours:
        weights = [rng.normal(scale=0.3, size=w.shape).astype("float32") for w in layer.get_weights()]
        if isinstance(layer, keras.layers.BatchNormalization):
            weights[-1] = np.abs(weights[-1]) + 0.5       # a moving variance is positive
        layer.set_weights(weights)
    for mine, yours in zip(ours, theirs):
        yours.set_weights(mine.get_weights())
    inputs = rng.normal(size=(3, *input_shape)).astype("float32")
    expected = np.asarray(reference(inputs, training=False))
    got = np.asarray(student_model(inputs, training=False))
    if not np.allclose(got, expected, atol=1e-4, rtol=1e-4):
        raise AssertionError(tr(
            f"{what}: with the same weights, the block computes other values than "
            "conv -> batch norm -> ReLU -> conv -> batch norm -> ReLU -> max pool (is the ReLU after the batch normalisation, "
            "and the convolutions without an activation of their own?)",
            f"{what}: cu aceleași ponderi, blocul calculează alte valori decât "
            "conv -> batch norm -> ReLU -> conv -> batch norm -> ReLU -> max pool (vine ReLU după normalizarea pe lot, "
            "iar convoluțiile sunt fără activare proprie?)"))


def check_conv_block(student: Callable, hidden: bool = False) -> None:
    """``student(x, filters, dropout)``: one block of the course's model, checked by behaviour."""
    _check_block(student, (48, 48, 1), 16, 0.1, seed=0)
    if hidden:
        _check_block(student, (7, 9, 3), 5, 0.0, seed=2)     # no dropout; odd sizes: pooling drops the last row / column


# --------------------------------------------------------------------------- exercise 8


def check_accuracy_confusion(my_accuracy: Callable, my_confusion_matrix: Callable, hidden: bool = False,
                             labels=None, predictions=None) -> None:
    """``my_accuracy(y_true, y_pred)`` (a float) and ``my_confusion_matrix(y_true, y_pred, num_classes)`` (counts [t, p]).

    ``labels`` and ``predictions`` (for example a lesson's test-set evaluation) are checked too when given.
    """
    if hidden:  # written by hand: the course's own versions are switched off
        my_accuracy = guarded(my_accuracy, (accuracy, confusion_matrix), "my_accuracy")
        my_confusion_matrix = guarded(my_confusion_matrix, (accuracy, confusion_matrix), "my_confusion_matrix")
    def matrix(t, p, k):
        result = np.asarray(my_confusion_matrix(t, p, k))
        assert result.shape == (k, k), tr(f"the confusion matrix of {k} classes has shape ({k}, {k}), got {result.shape}",
                                          f"matricea de confuzie pentru {k} clase are forma ({k}, {k}), s-a obținut {result.shape}")
        assert np.issubdtype(result.dtype, np.integer) or np.array_equal(result, np.round(result)), tr(
            "a confusion matrix holds counts (whole numbers)",
            "o matrice de confuzie conține numărători (numere întregi)")
        return result

    t, p = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2])
    got = my_accuracy(t, p)
    assert isinstance(got, float), tr(f"my_accuracy: return a Python float (float(...)), got {type(got).__name__}",
                                      f"my_accuracy: întoarceți un float Python (float(...)), s-a obținut {type(got).__name__}")
    assert np.isclose(got, 4 / 6), tr(f"my_accuracy: 4 of the 6 predictions are right, got {got}",
                                      f"my_accuracy: 4 din cele 6 predicții sunt corecte, s-a obținut {fmt(got, '')}")
    small = matrix(t, p, 3)
    if np.array_equal(small.T, [[1, 1, 0], [0, 1, 0], [1, 0, 2]]):
        raise AssertionError(tr("the confusion matrix is transposed: the row is the true class, the column the prediction",
                                "matricea de confuzie este transpusă: rândul este clasa adevărată, coloana este predicția"))
    assert np.array_equal(small, [[1, 1, 0], [0, 1, 0], [1, 0, 2]]), tr(f"the 3-class example, got\n{small}",
                                                                        f"exemplul cu 3 clase, s-a obținut\n{small}")
    if not hidden:
        return
    rng = np.random.default_rng(4)
    for size in (1, 50, 3000):
        t, p = rng.integers(0, 7, size), rng.integers(0, 7, size)
        pairs = count_phrase(size, "perechi aleatoare", singular="pereche aleatoare")
        assert np.isclose(my_accuracy(t, p), accuracy(t, p)), tr(f"my_accuracy on {size} random pairs", f"my_accuracy pe {pairs}")
        got = matrix(t, p, 7)
        assert np.array_equal(got, confusion_matrix(t, p, 7)), tr(f"the confusion matrix of {size} random pairs",
                                                                  f"matricea de confuzie pentru {pairs}")
    assert np.array_equal(matrix(np.array([3, 3]), np.array([3, 3]), 7), np.diag([0, 0, 0, 2, 0, 0, 0])), tr(
        "repeated pairs all count", "perechile repetate se numără toate")
    assert matrix(np.array([0]), np.array([0]), 5).sum() == 1, tr(
        "classes never seen still get a row and a column", "clasele care nu apar deloc au totuși un rând și o coloană")
    if labels is not None and predictions is not None:
        labels, predictions = np.asarray(labels), np.asarray(predictions)
        assert np.array_equal(matrix(labels, predictions, 7), confusion_matrix(labels, predictions, 7)), tr(
            "the confusion matrix of the lesson's test set", "matricea de confuzie pe setul de test al lecției")
        assert np.isclose(my_accuracy(labels, predictions), accuracy(labels, predictions)), tr(
            "the accuracy on the lesson's test set", "acuratețea pe setul de test al lecției")


# --------------------------------------------------------------------------- exercise 9


def most_confused_pair_reference(matrix, normalize: bool = False) -> tuple[int, int]:
    """Reference: ``(true, predicted)`` of the largest off-diagonal entry, the first in reading order on ties."""
    values = np.asarray(matrix, dtype=np.float64).copy()
    if normalize:
        sums = values.sum(axis=1, keepdims=True)
        values = np.divide(values, sums, out=np.zeros_like(values), where=sums > 0)
    np.fill_diagonal(values, -np.inf)
    t, p = np.unravel_index(np.argmax(values), values.shape)
    return int(t), int(p)


def check_most_confused_pair(student: Callable, hidden: bool = False, matrix=None) -> None:
    """``student(matrix, normalize=False)``: ``(true, predicted)`` of the largest off-diagonal entry (ties: reading order)."""
    def pair(m, normalize=False):
        result = student(np.asarray(m), normalize=normalize)
        assert isinstance(result, (tuple, list)) and len(result) == 2, tr(
            f"return a pair (true, predicted), got {type(result).__name__} {result!r}",
            f"întoarceți o pereche (clasa adevărată, clasa prezisă), s-a obținut {type(result).__name__} {result!r}")
        return tuple(_integer(v, tr("each class of the pair", "fiecare clasă din pereche")) for v in result)

    example = np.array([[50, 2, 9], [1, 3, 2], [4, 0, 80]])
    got = pair(example)
    if got == (2, 2) or got[0] == got[1]:
        raise AssertionError(tr("the pair must be two different classes: leave the diagonal (the right answers) out",
                                "perechea trebuie să fie formată din două clase diferite: lăsați deoparte diagonala (răspunsurile corecte)"))
    assert got == (0, 2), tr(f"9 images of class 0 went to class 2: expected (0, 2), got {got}",
                             f"9 imagini din clasa 0 au ajuns la clasa 2: se aștepta (0, 2), s-a obținut {got}")
    got = pair(example, normalize=True)
    assert got == (1, 2), tr(
        f"with normalize=True, 2 of the 6 images of class 1 is the largest share: expected (1, 2), got {got}",
        f"cu normalize=True, 2 din cele 6 imagini ale clasei 1 sunt proporția cea mai mare: se aștepta (1, 2), s-a obținut {got}")
    if not hidden:
        return
    assert pair(np.diag([100, 100, 100])) == (0, 1), tr(
        "all off-diagonal cells are 0: the first off-diagonal cell, (0, 1)",
        "toate celulele din afara diagonalei sunt 0: prima celulă din afara diagonalei, (0, 1)")
    assert pair(np.array([[0, 5], [5, 0]])) == (0, 1), tr("ties: the first in reading order, (0, 1)",
                                                          "la egalitate: prima în ordinea citirii, (0, 1)")
    assert pair(np.array([[1000, 0, 0], [0, 0, 0], [0, 3, 1]]), normalize=True) == (2, 1), tr(
        "with normalize=True, an empty row stays 0 (no division by zero)",
        "cu normalize=True, un rând gol rămâne 0 (fără împărțire la zero)")
    rng = np.random.default_rng(11)
    for _ in range(20):
        m = rng.integers(0, 50, size=(7, 7))
        for normalize in (False, True):
            expected = most_confused_pair_reference(m, normalize)
            got = pair(m, normalize)
            assert got == expected, tr(f"a random 7x7 matrix (normalize={normalize}): expected {expected}, got {got}",
                                       f"o matrice aleatoare 7x7 (normalize={normalize}): se aștepta {expected}, s-a obținut {got}")
    if matrix is not None:
        for normalize in (False, True):
            assert pair(matrix, normalize) == most_confused_pair_reference(matrix, normalize), tr(
                f"the lesson's confusion matrix (normalize={normalize})",
                f"matricea de confuzie a lecției (normalize={normalize})")


__all__ = ["block_parameters_reference", "check_accuracy_confusion", "check_block_parameters", "check_conv_block",
           "check_most_confused_pair", "most_confused_pair_reference"]
