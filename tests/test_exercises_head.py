"""Lesson 03's exercise checks (utils.head_exercises): every correct form passes, the classic
wrong answers fail. Each variant tried is kept here."""

import numpy as np
import pytest

from utils.head_exercises import check_cross_entropy, check_dropout, check_head_parameters, check_max_pool, check_softmax

# --------------------------------------------------------------------------- max pooling


def pool_reshape(feature_map, size):
    m = np.asarray(feature_map)
    rows, cols = m.shape[0] // size, m.shape[1] // size
    return m[: rows * size, : cols * size].reshape(rows, size, cols, size).max(axis=(1, 3))


def pool_loops_lists(feature_map, size):       # pure Python loops, returns nested lists
    rows, cols = len(feature_map) // size, len(feature_map[0]) // size
    return [[max(feature_map[i * size + u][j * size + v] for u in range(size) for v in range(size))
             for j in range(cols)] for i in range(rows)]


def pool_from_zero(feature_map, size):          # wrong: the maximum starts at 0
    return np.maximum(pool_reshape(feature_map, size), 0)


def pool_average(feature_map, size):            # wrong: average pooling
    m = np.asarray(feature_map)
    rows, cols = m.shape[0] // size, m.shape[1] // size
    return m[: rows * size, : cols * size].reshape(rows, size, cols, size).mean(axis=(1, 3))


def pool_stride_one(feature_map, size):         # wrong: overlapping windows
    m = np.asarray(feature_map)
    return np.lib.stride_tricks.sliding_window_view(m, (size, size)).max(axis=(2, 3))


@pytest.mark.parametrize("solution", [pool_reshape, pool_loops_lists])
def test_max_pool_correct_forms_pass(solution):
    check_max_pool(solution, hidden=True, extra_maps=[np.random.default_rng(0).normal(size=(44, 44))])


@pytest.mark.parametrize("solution, message", [(pool_from_zero, "not from 0"), (pool_average, "average pooling"),
                                               (pool_stride_one, "shape")])
def test_max_pool_wrong_answers_fail(solution, message):
    with pytest.raises(AssertionError, match=message):
        check_max_pool(solution, hidden=True)


# --------------------------------------------------------------------------- dropout


def dropout_random(x, rate, rng):
    if not 0 <= rate < 1:
        raise ValueError("rate")
    keep = rng.random(np.shape(x)) >= rate
    return np.where(keep, np.asarray(x) / (1 - rate), 0.0)


def dropout_binomial(x, rate, rng):             # another correct draw, another error message
    if rate < 0 or rate >= 1:
        raise ValueError(f"bad rate {rate}")
    return rng.binomial(1, 1 - rate, size=np.shape(x)) * np.asarray(x) / (1 - rate)


def dropout_uniform_lists(x, rate, rng):        # rng.uniform, and a list result
    if not 0 <= rate < 1:
        raise ValueError
    mask = rng.uniform(size=np.shape(x)) < 1 - rate
    return (mask * np.asarray(x) / (1 - rate)).tolist()


def dropout_global(x, rate, rng):               # wrong: global np.random instead of the given generator
    if not 0 <= rate < 1:
        raise ValueError("rate")
    return np.where(np.random.random(np.shape(x)) >= rate, np.asarray(x) / (1 - rate), 0.0)


def dropout_fresh_generator(x, rate, rng):      # wrong: a new generator of its own
    if not 0 <= rate < 1:
        raise ValueError("rate")
    return np.where(np.random.default_rng(123).random(np.shape(x)) >= rate, np.asarray(x) / (1 - rate), 0.0)


def dropout_unscaled(x, rate, rng):             # wrong: survivors not scaled
    if not 0 <= rate < 1:
        raise ValueError("rate")
    return np.where(rng.random(np.shape(x)) >= rate, np.asarray(x), 0.0)


def dropout_no_check(x, rate, rng):             # wrong: no ValueError for a bad rate
    keep = rng.random(np.shape(x)) >= rate
    return np.where(keep, np.asarray(x) / (1 - rate) if rate != 1 else 0.0, 0.0)


def dropout_constant_scale(x, rate, rng):       # wrong: every survivor becomes 1 / (1 - rate)
    if not 0 <= rate < 1:
        raise ValueError("rate")
    return np.where(rng.random(np.shape(x)) >= rate, 1 / (1 - rate), 0.0)


@pytest.mark.parametrize("solution", [dropout_random, dropout_binomial, dropout_uniform_lists])
def test_dropout_correct_forms_pass(solution):
    check_dropout(solution, hidden=True)


@pytest.mark.parametrize("solution, message", [
    (dropout_global, "same seed"), (dropout_fresh_generator, "different seeds"), (dropout_unscaled, "1 - rate"),
    (dropout_no_check, "ValueError"), (dropout_constant_scale, "survivors")])
def test_dropout_wrong_answers_fail(solution, message):
    with pytest.raises(AssertionError, match=message):
        check_dropout(solution, hidden=True)


def test_dropout_global_generator_passes_the_visible_checks_only():
    check_dropout(dropout_global, hidden=False)     # the visible cell cannot tell; the hidden one does


# --------------------------------------------------------------------------- softmax


def softmax_rows(logits):
    z = np.asarray(logits, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_loops(logits):                      # loops over rows, list result
    z = np.atleast_2d(np.asarray(logits, dtype=float))
    rows = []
    for row in z:
        e = np.exp(row - row.max())
        rows.append(list(e / e.sum()))
    return rows[0] if np.ndim(logits) == 1 else rows


def softmax_logsumexp(logits):                  # another stable form
    z = np.asarray(logits, dtype=float)
    m = z.max(axis=-1, keepdims=True)
    return np.exp(z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))


def softmax_global_max(logits):                 # wrong: one maximum for the whole batch
    z = np.asarray(logits, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum(axis=-1, keepdims=True)


def softmax_naive(logits):                      # wrong: overflows
    e = np.exp(np.asarray(logits, dtype=float))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_whole_batch(logits):                # wrong: normalises over the whole batch
    z = np.asarray(logits, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


@pytest.mark.parametrize("solution", [softmax_rows, softmax_loops, softmax_logsumexp])
def test_softmax_correct_forms_pass(solution):
    check_softmax(solution, hidden=True)


@pytest.mark.parametrize("solution, message", [(softmax_global_max, "each row's own maximum"),
                                               (softmax_naive, "overflow"), (softmax_whole_batch, "each row")])
def test_softmax_wrong_answers_fail(solution, message):
    with pytest.raises(AssertionError, match=message):
        check_softmax(solution, hidden=True)


def test_softmax_global_max_passes_the_visible_checks_only():
    check_softmax(softmax_global_max, hidden=False)


# --------------------------------------------------------------------------- cross-entropy


def ce_indexing(labels, probabilities):
    clipped = np.clip(np.asarray(probabilities, dtype=float), 1e-7, 1 - 1e-7)
    return float(-np.mean(np.log(clipped[np.arange(len(labels)), labels])))


def ce_one_hot(labels, probabilities):
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-7, 1 - 1e-7)
    y = np.eye(p.shape[1])[labels]
    return float(-(y * np.log(p)).sum(axis=1).mean())


def ce_sum(labels, probabilities):              # wrong: the sum
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-7, 1 - 1e-7)
    return float(-np.log(p[np.arange(len(labels)), labels]).sum())


def ce_unclipped(labels, probabilities):        # wrong: no clipping
    p = np.asarray(probabilities, dtype=float)
    return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))


def ce_array(labels, probabilities):            # wrong: returns an array, not a float
    return np.atleast_1d(ce_indexing(labels, probabilities))


@pytest.mark.parametrize("solution", [ce_indexing, ce_one_hot])
def test_cross_entropy_correct_forms_pass(solution):
    check_cross_entropy(solution, hidden=True)


@pytest.mark.parametrize("solution, message", [(ce_sum, "sum"), (ce_unclipped, "clip"), (ce_array, "float")])
def test_cross_entropy_wrong_answers_fail(solution, message):
    with pytest.raises(AssertionError, match=message):
        check_cross_entropy(solution, hidden=True)


# --------------------------------------------------------------------------- head parameters


def head_floor(height, width, channels, pool, units):
    return (height // pool) * (width // pool) * channels * units + units


def head_numpy(height, width, channels, pool, units):   # a numpy integer is a whole number too
    return np.int64((height // pool) * (width // pool) * channels + 1) * units


def head_no_bias(height, width, channels, pool, units):
    return (height // pool) * (width // pool) * channels * units


def head_ceil(height, width, channels, pool, units):
    return int(np.ceil(height / pool) * np.ceil(width / pool) * channels * units + units)


def head_float(height, width, channels, pool, units):
    return height / pool * width / pool * channels * units + units


@pytest.mark.parametrize("solution", [head_floor, head_numpy])
def test_head_parameters_correct_forms_pass(solution):
    check_head_parameters(solution, hidden=True)


@pytest.mark.parametrize("solution, message", [(head_no_bias, "biases"), (head_ceil, "expected"), (head_float, "whole number")])
def test_head_parameters_wrong_answers_fail(solution, message):
    with pytest.raises(AssertionError, match=message):
        check_head_parameters(solution, hidden=True)


# --------------------------------------------------------------------------- the course language
# (the `romanian` fixture is in conftest.py)


WRONG_ANSWERS = [  # (check, wrong answer, English message, Romanian message)
    (check_max_pool, pool_from_zero, "not from 0", "ferestrele cu valori negative au dat 0"),
    (check_cross_entropy, ce_sum, "this is the sum of the losses", "aceasta este suma pierderilor"),
    (check_head_parameters, head_no_bias, "9437184 leaves out the biases", "9.437.184 lasă deoparte biasurile"),
]


@pytest.mark.parametrize("check, solution, english, romanian_text", WRONG_ANSWERS, ids=lambda v: getattr(v, "__name__", None))
def test_wrong_answers_fail_in_romanian(romanian, check, solution, english, romanian_text):
    with pytest.raises(AssertionError) as failure:
        check(solution, hidden=True)
    assert romanian_text in str(failure.value) and english not in str(failure.value), str(failure.value)


@pytest.mark.parametrize("check, solution, english, romanian_text", WRONG_ANSWERS, ids=lambda v: getattr(v, "__name__", None))
def test_wrong_answers_fail_in_english(check, solution, english, romanian_text):
    with pytest.raises(AssertionError) as failure:
        check(solution, hidden=True)
    assert english in str(failure.value) and romanian_text not in str(failure.value), str(failure.value)
