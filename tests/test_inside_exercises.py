"""Lesson 05's exercise checks: every correct form passes, the classic wrong answers fail."""

import numpy as np
import pytest

from utils.calibration import apply_temperature, negative_log_likelihood
from utils.inside_exercises import check_expected_calibration_error, check_fit_temperature, check_grad_cam_weights, check_receptive_fields

# ----------------------------------------------------------------- receptive fields

def fields_loop(kernels, strides):
    out, r, jump = [], 1, 1
    for k, s in zip(kernels, strides):
        r += (k - 1) * jump
        jump *= s
        out.append(r)
    return out


def fields_numpy(kernels, strides):
    kernels, strides = np.asarray(kernels), np.asarray(strides)
    jumps = np.concatenate([[1], np.cumprod(strides)[:-1]])
    return 1 + np.cumsum((kernels - 1) * jumps)


def fields_no_jump(kernels, strides):
    return list(1 + np.cumsum(np.asarray(kernels) - 1))


def fields_own_stride(kernels, strides):
    out, r, jump = [], 1, 1
    for k, s in zip(kernels, strides):
        jump *= s
        r += (k - 1) * jump
        out.append(r)
    return out


@pytest.mark.parametrize("answer", [fields_loop, fields_numpy, lambda k, s: tuple(fields_loop(k, s))])
@pytest.mark.parametrize("hidden", [False, True])
def test_receptive_fields_correct_forms_pass(answer, hidden):
    check_receptive_fields(answer, hidden=hidden)


@pytest.mark.parametrize("answer, message", [(fields_no_jump, "product of the strides"), (fields_own_stride, "own stride")])
def test_receptive_fields_wrong_answers_fail(answer, message):
    with pytest.raises(AssertionError, match=message):
        check_receptive_fields(answer, hidden=True)


# ----------------------------------------------------------------- Grad-CAM weights

@pytest.mark.parametrize("answer", [lambda g: np.asarray(g).mean(axis=(0, 1)),
                                    lambda g: np.mean(np.mean(np.asarray(g), axis=0), axis=0).tolist(),
                                    lambda g: np.asarray(g).sum(axis=(0, 1)) / (np.asarray(g).shape[0] * np.asarray(g).shape[1])])
@pytest.mark.parametrize("hidden", [False, True])
def test_grad_cam_weights_correct_forms_pass(answer, hidden):
    check_grad_cam_weights(answer, hidden=hidden)


def test_grad_cam_weights_wrong_answers_fail():
    with pytest.raises(AssertionError, match="mean"):
        check_grad_cam_weights(lambda g: np.asarray(g).sum(axis=(0, 1)))
    with pytest.raises(AssertionError):
        check_grad_cam_weights(lambda g: np.asarray(g).mean(axis=2))      # mean over channels: wrong shape
    with pytest.raises(AssertionError):
        check_grad_cam_weights(lambda g: np.asarray(g).max(axis=(0, 1)))


# ----------------------------------------------------------------- ECE

def ece_loop(probabilities, labels, n_bins):
    p, y = np.asarray(probabilities), np.asarray(labels)
    confidence, correct = p.max(axis=1), p.argmax(axis=1) == y
    total = 0.0
    for b in range(n_bins):
        low, high = b / n_bins, (b + 1) / n_bins
        inside = (confidence > low) & (confidence <= high) if b else (confidence <= high)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return total


def ece_unweighted(probabilities, labels, n_bins):
    p, y = np.asarray(probabilities), np.asarray(labels)
    confidence, correct = p.max(axis=1), p.argmax(axis=1) == y
    gaps = []
    for b in range(n_bins):
        inside = (confidence > b / n_bins) & (confidence <= (b + 1) / n_bins) if b else (confidence <= 1 / n_bins)
        if inside.any():
            gaps.append(abs(correct[inside].mean() - confidence[inside].mean()))
    return float(np.mean(gaps))


@pytest.mark.parametrize("hidden", [False, True])
def test_ece_correct_answer_passes(hidden):
    check_expected_calibration_error(ece_loop, hidden=hidden)


def test_ece_unweighted_fails():
    with pytest.raises(AssertionError, match="share of the predictions"):
        check_expected_calibration_error(ece_unweighted, hidden=True)


def test_ece_on_accuracy_instead_of_confidence_fails():
    def accuracy_only(probabilities, labels, n_bins):
        p = np.asarray(probabilities)
        return float(np.mean(p.argmax(axis=1) == np.asarray(labels)))
    with pytest.raises(AssertionError):
        check_expected_calibration_error(accuracy_only)


# ----------------------------------------------------------------- temperature

def temperature_grid(probabilities, labels):
    p, y = np.asarray(probabilities), np.asarray(labels)
    grid = np.arange(0.05, 10, 0.01)
    return float(grid[np.argmin([negative_log_likelihood(apply_temperature(p, t), y) for t in grid])])


def temperature_bisection(probabilities, labels):
    p, y = np.asarray(probabilities), np.asarray(labels)
    low, high = np.log(0.05), np.log(20)
    for _ in range(60):
        a, b = low + (high - low) / 3, high - (high - low) / 3
        if negative_log_likelihood(apply_temperature(p, np.exp(a)), y) < negative_log_likelihood(apply_temperature(p, np.exp(b)), y):
            high = b
        else:
            low = a
    return np.exp((low + high) / 2)


@pytest.mark.parametrize("answer", [temperature_grid, temperature_bisection])
@pytest.mark.parametrize("hidden", [False, True])
def test_temperature_correct_forms_pass(answer, hidden):
    check_fit_temperature(answer, hidden=hidden)


def test_temperature_wrong_answers_fail():
    with pytest.raises(AssertionError, match="1/T"):
        check_fit_temperature(lambda p, y: 1 / temperature_grid(p, y), hidden=True)
    with pytest.raises(AssertionError, match="minimum"):
        check_fit_temperature(lambda p, y: 1.0, hidden=True)


# --------------------------------------------------------------------------- the course language
# (the `romanian` fixture is in conftest.py)


def test_the_messages_follow_the_lesson_language(romanian):
    with pytest.raises(AssertionError) as caught:
        check_receptive_fields(fields_no_jump)
    assert "produsul pașilor" in str(caught.value) and "product of the strides" not in str(caught.value)
    with pytest.raises(AssertionError) as caught:  # numbers with a decimal comma
        check_fit_temperature(lambda p, y: 1.0)
    assert "T = 1,000 nu este minimul" in str(caught.value) and "is not the minimum" not in str(caught.value)
    with pytest.raises(AssertionError, match="se aștepta"):
        check_receptive_fields(lambda k, s: [1] * len(k))


def test_the_messages_stay_english_in_english():
    with pytest.raises(AssertionError) as caught:
        check_receptive_fields(fields_no_jump)
    assert "product of the strides" in str(caught.value) and "produsul" not in str(caught.value)
