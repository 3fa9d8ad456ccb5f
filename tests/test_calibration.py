"""utils.calibration: reliability bins, ECE, temperature scaling on cases worked out by hand."""

import numpy as np
import pytest

from utils.calibration import (
    CalibrationError,
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability_bins,
)


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def test_ece_on_a_hand_worked_example():
    # Four faces at confidence 0.9 of which 2 right, two at 0.6 both right (10 bins).
    p = np.array([[0.9, 0.1]] * 4 + [[0.6, 0.4]] * 2)
    y = np.array([0, 0, 1, 1, 0, 0])
    bins = reliability_bins(p, y, n_bins=10)
    assert bins.counts[8] == 4 and bins.counts[5] == 2 and bins.counts.sum() == 6
    np.testing.assert_allclose(bins.accuracy[[5, 8]], [1.0, 0.5])
    # ECE = 4/6 * |0.5 - 0.9| + 2/6 * |1.0 - 0.6| = 0.4
    assert expected_calibration_error(p, y, n_bins=10) == pytest.approx(0.4)
    assert expected_calibration_error([[0.9, 0.1]] * 4, [0, 0, 1, 1], n_bins=10) == pytest.approx(0.4)  # lists work


def test_perfectly_calibrated_predictions_have_small_ece_and_confident_wrong_ones_large():
    rng = np.random.default_rng(0)
    p = softmax(rng.normal(0, 2, (20000, 7)))
    y = np.array([rng.choice(7, p=row) for row in p])  # labels drawn from the predicted distribution
    assert expected_calibration_error(p, y) < 0.02
    wrong = np.eye(7)[(y + 1) % 7] * 0.99 + 0.01 / 7
    assert expected_calibration_error(wrong, y) > 0.9


def test_bin_edges_and_a_confidence_of_exactly_one():
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    bins = reliability_bins(p, np.array([0, 0]), n_bins=2)
    assert list(bins.counts) == [1, 1]  # 0.5 belongs to (0, 0.5], 1.0 to (0.5, 1]


def test_temperature_keeps_the_ranking_and_one_changes_nothing():
    p = softmax(np.random.default_rng(1).normal(0, 3, (50, 7)))
    np.testing.assert_allclose(apply_temperature(p, 1.0), p, atol=1e-9)
    soft = apply_temperature(p, 3.0)
    assert (soft.argmax(1) == p.argmax(1)).all() and soft.max(1).mean() < p.max(1).mean()
    np.testing.assert_allclose(soft.sum(1), 1)
    with pytest.raises(CalibrationError, match="positive"):
        apply_temperature(p, 0)


@pytest.mark.parametrize("true_temperature", [0.5, 2.0, 3.0])
def test_fit_temperature_recovers_the_temperature_of_the_data(true_temperature):
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 3, (20000, 7))
    y = np.array([rng.choice(7, p=row) for row in softmax(logits / true_temperature)])
    fitted = fit_temperature(softmax(logits), y)
    assert fitted == pytest.approx(true_temperature, rel=0.05)
    before = negative_log_likelihood(softmax(logits), y)
    after = negative_log_likelihood(apply_temperature(softmax(logits), fitted), y)
    assert after < before


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(CalibrationError, match="shapes"):
        expected_calibration_error(np.ones((3, 2)) / 2, np.zeros(4, int))
    with pytest.raises(CalibrationError, match="sum to 1"):
        expected_calibration_error(np.ones((3, 2)), np.zeros(3, int))
    with pytest.raises(CalibrationError, match="integer classes"):
        expected_calibration_error(np.ones((3, 2)) / 2, np.array([0, 1, 2]))
