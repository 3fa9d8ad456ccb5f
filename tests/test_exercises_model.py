"""Lesson 04's exercises 6-9 (utils.model_exercises): every correct form passes (equivalent layers,
lists, numpy integers), the classic wrong answers fail. Each variant tried is kept here."""

import keras
import numpy as np
import pytest

from utils.model_exercises import check_accuracy_confusion, check_block_parameters, check_conv_block, check_most_confused_pair

# --------------------------------------------------------------------------- exercise 6


def block_loop(channels_in, filters, kernel_size=3, convs=2, batch_norm=True):
    total, channels = 0, channels_in
    for _ in range(convs):
        total += (kernel_size * kernel_size * channels + 1) * filters + (4 * filters if batch_norm else 0)
        channels = filters
    return total


def block_closed_form(channels_in, filters, kernel_size=3, convs=2, batch_norm=True):   # numpy integer result
    k2 = np.int64(kernel_size * kernel_size)
    return (k2 * channels_in + 1) * filters + (convs - 1) * (k2 * filters + 1) * filters + convs * 4 * filters * batch_norm


def block_trainable_bn(channels_in, filters, kernel_size=3, convs=2, batch_norm=True):   # wrong: 2C per batch norm
    return block_loop(channels_in, filters, kernel_size, convs, False) + (2 * filters * convs if batch_norm else 0)


def block_same_input(channels_in, filters, kernel_size=3, convs=2, batch_norm=True):     # wrong: every conv reads channels_in
    return convs * ((kernel_size ** 2 * channels_in + 1) * filters + (4 * filters if batch_norm else 0))


def block_float(channels_in, filters, kernel_size=3, convs=2, batch_norm=True):
    return float(block_loop(channels_in, filters, kernel_size, convs, batch_norm))


@pytest.mark.parametrize("solution", [block_loop, block_closed_form])
def test_block_parameters_correct_forms_pass(solution):
    check_block_parameters(solution, hidden=True)


@pytest.mark.parametrize("solution, message", [(block_trainable_bn, "trainable half"),
                                               (block_same_input, "only the first convolution"),
                                               (block_float, "whole number")])
def test_block_parameters_wrong_answers_fail(solution, message):
    with pytest.raises(AssertionError, match=message):
        check_block_parameters(solution, hidden=True)


# --------------------------------------------------------------------------- exercise 7


def block_relu_layer(x, filters, dropout):
    for _ in range(2):
        x = keras.layers.Conv2D(filters, 3, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D(2)(x)
    return keras.layers.Dropout(dropout)(x) if dropout > 0 else x


def block_activation(x, filters, dropout):       # Activation("relu") and MaxPooling2D((2, 2)): the same function
    for _ in range(2):
        x = keras.layers.Conv2D(filters, (3, 3), padding="same", activation=None)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation("relu")(x)
    x = keras.layers.MaxPooling2D(pool_size=(2, 2))(x)
    return keras.layers.Dropout(dropout)(x) if dropout else x


def block_activation_function(x, filters, dropout):   # Activation(keras.activations.relu), and Dropout(0) kept: a no-op
    for _ in range(2):
        x = keras.layers.Conv2D(filters, 3, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation(keras.activations.relu)(x)
    x = keras.layers.MaxPooling2D(2)(x)
    return keras.layers.Dropout(dropout)(x)


def block_relu_in_conv(x, filters, dropout):     # wrong: the ReLU before batch normalisation
    for _ in range(2):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPooling2D(2)(x)
    return keras.layers.Dropout(dropout)(x) if dropout > 0 else x


def block_valid(x, filters, dropout):            # wrong: 'valid' padding
    for _ in range(2):
        x = keras.layers.Conv2D(filters, 3)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    return keras.layers.MaxPooling2D(2)(x)


def block_no_dropout(x, filters, dropout):       # wrong: forgets the dropout
    return block_relu_layer(x, filters, 0.0)


def block_no_batch_norm(x, filters, dropout):    # wrong: no batch normalisation
    for _ in range(2):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    return keras.layers.Dropout(dropout)(x) if dropout > 0 else x


@pytest.mark.parametrize("solution", [block_relu_layer, block_activation, block_activation_function])
def test_conv_block_equivalent_layers_pass(solution):
    check_conv_block(solution, hidden=True)


@pytest.mark.parametrize("solution, message", [(block_relu_in_conv, "other values"), (block_valid, "output shape"),
                                               (block_no_dropout, "Dropout"), (block_no_batch_norm, "parameters")])
def test_conv_block_wrong_answers_fail(solution, message):
    with pytest.raises(AssertionError, match=message):
        check_conv_block(solution, hidden=True)


# --------------------------------------------------------------------------- exercise 8


def acc(y_true, y_pred):
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def matrix_add_at(y_true, y_pred, k):
    m = np.zeros((k, k), dtype=int)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


def matrix_lists(y_true, y_pred, k):             # nested lists of Python ints
    m = [[0] * k for _ in range(k)]
    for t, p in zip(y_true, y_pred):
        m[t][p] += 1
    return m


def matrix_transposed(y_true, y_pred, k):        # wrong: [p, t]
    return matrix_add_at(y_true, y_pred, k).T


def matrix_fancy_assign(y_true, y_pred, k):      # wrong: m[t, p] += 1 counts a repeated pair once
    m = np.zeros((k, k), dtype=int)
    m[np.asarray(y_true), np.asarray(y_pred)] += 1
    return m


def acc_count(y_true, y_pred):                   # wrong: a count, not a share
    return float(np.sum(np.asarray(y_true) == np.asarray(y_pred)))


@pytest.mark.parametrize("matrix", [matrix_add_at, matrix_lists])
def test_accuracy_confusion_correct_forms_pass(matrix):
    rng = np.random.default_rng(0)
    labels, predictions = rng.integers(0, 7, 100), rng.integers(0, 7, 100)
    check_accuracy_confusion(acc, matrix, hidden=True, labels=labels, predictions=predictions)


@pytest.mark.parametrize("accuracy_fn, matrix, message", [(acc, matrix_transposed, "transposed"),
                                                          (acc, matrix_fancy_assign, "the 3-class example|repeated"),
                                                          (acc_count, matrix_add_at, "4 of the 6")])
def test_accuracy_confusion_wrong_answers_fail(accuracy_fn, matrix, message):
    with pytest.raises(AssertionError, match=message):
        check_accuracy_confusion(accuracy_fn, matrix, hidden=True)


# --------------------------------------------------------------------------- exercise 9


def pair_argmax(matrix, normalize=False):
    values = np.asarray(matrix, dtype=float).copy()
    if normalize:
        sums = values.sum(axis=1, keepdims=True)
        values = np.divide(values, sums, out=np.zeros_like(values), where=sums > 0)
    np.fill_diagonal(values, -np.inf)
    t, p = np.unravel_index(np.argmax(values), values.shape)
    return int(t), int(p)


def pair_loops_numpy_ints(matrix, normalize=False):   # loops, numpy integers in a list
    m = np.asarray(matrix, dtype=float)
    best, where = -1.0, None
    for t in range(m.shape[0]):
        total = m[t].sum()
        for p in range(m.shape[1]):
            if t == p:
                continue
            value = (m[t, p] / total if total else 0.0) if normalize else m[t, p]
            if value > best:
                best, where = value, [np.int64(t), np.int64(p)]
    return where


def pair_diagonal_zero(matrix, normalize=False):  # wrong: the diagonal set to 0 picks (0, 0) on an all-zero off-diagonal
    values = np.asarray(matrix, dtype=float).copy()
    if normalize:
        values = values / np.maximum(values.sum(axis=1, keepdims=True), 1)
    np.fill_diagonal(values, 0)
    t, p = np.unravel_index(np.argmax(values), values.shape)
    return int(t), int(p)


def pair_never_normalises(matrix, normalize=False):   # wrong: ignores normalize
    return pair_argmax(matrix)


def pair_last_tie(matrix, normalize=False):       # wrong: the last of tied cells
    values = np.asarray(matrix, dtype=float).copy()
    if normalize:
        sums = values.sum(axis=1, keepdims=True)
        values = np.divide(values, sums, out=np.zeros_like(values), where=sums > 0)
    np.fill_diagonal(values, -np.inf)
    flat = values.ravel()[::-1]
    t, p = np.unravel_index(len(flat) - 1 - np.argmax(flat), values.shape)
    return int(t), int(p)


@pytest.mark.parametrize("solution", [pair_argmax, pair_loops_numpy_ints])
def test_most_confused_pair_correct_forms_pass(solution):
    check_most_confused_pair(solution, hidden=True, matrix=np.random.default_rng(1).integers(0, 40, (7, 7)))


@pytest.mark.parametrize("solution, message", [(pair_diagonal_zero, "different classes|first off-diagonal"),
                                               (pair_never_normalises, "normalize=True"), (pair_last_tie, "ties|first off-diagonal")])
def test_most_confused_pair_wrong_answers_fail(solution, message):
    with pytest.raises(AssertionError, match=message):
        check_most_confused_pair(solution, hidden=True)


# --------------------------------------------------------------------------- the course language
# (the `romanian` fixture is in conftest.py)


def _fails(check, *answers) -> str:
    with pytest.raises(AssertionError) as failure:
        check(*answers, hidden=True)
    return str(failure.value)


def test_wrong_answers_fail_in_romanian(romanian):
    message = _fails(check_accuracy_confusion, acc, matrix_transposed)
    assert "matricea de confuzie este transpusă" in message and "transposed" not in message, message
    message = _fails(check_block_parameters, block_trainable_bn)        # numbers written the Romanian way
    assert "2.544 numără doar jumătatea antrenabilă" in message and "trainable half" not in message, message


def test_wrong_answers_fail_in_english():
    message = _fails(check_accuracy_confusion, acc, matrix_transposed)
    assert "the confusion matrix is transposed" in message and "transpusă" not in message, message
    message = _fails(check_block_parameters, block_trainable_bn)
    assert "2,544 counts only the trainable half" in message and "antrenabilă" not in message, message
