"""Lesson 03's explorers, driven from Python as the headless tests must: set a control, read the outputs."""

import numpy as np
import pytest

import utils  # noqa: F401
from utils.i18n import set_language
from utils.layers import average_pool2d, max_pool2d, softmax
from utils.widgets.pooling import dropout_explorer, pooling_explorer, softmax_explorer


@pytest.fixture()
def feature_map():
    return np.abs(np.random.default_rng(0).normal(size=(20, 18)))


def test_pooling_explorer_follows_its_controls(feature_map):
    explorer = pooling_explorer(feature_map)
    np.testing.assert_array_equal(explorer.pooled, max_pool2d(feature_map, 2))
    assert "20×18" in explorer.info.value and "10×9" in explorer.info.value
    before = (explorer.input_image.value, explorer.output_image.value, explorer.info.value)
    explorer.window.value = 3
    assert explorer.pooled.shape == (9, 8)  # window 3, stride 2: (20 - 3) // 2 + 1, (18 - 3) // 2 + 1
    assert explorer.input_image.value != before[0]  # the frames moved
    assert explorer.info.value != before[2]
    explorer.mode.value = "average"
    np.testing.assert_allclose(explorer.pooled, average_pool2d(feature_map, 3, 2))
    explorer.stride.value = 1
    explorer.padding.value = "same"
    np.testing.assert_allclose(explorer.pooled, average_pool2d(feature_map, 3, 1, "same"))
    assert explorer.pooled.shape == feature_map.shape
    assert explorer.output_image.value != before[1]


def test_pooling_explorer_reports_a_window_that_does_not_fit():
    explorer = pooling_explorer(np.ones((5, 40)))
    explorer.window.value = 5
    explorer.stride.value = 1
    assert explorer.pooled.shape == (1, 36)
    explorer.window.max = 8
    explorer.window.value = 6  # larger than the 5 rows with padding='valid'
    assert "larger than the input" in explorer.info.value
    explorer.padding.value = "same"
    assert explorer.pooled.shape == (5, 40) and "larger" not in explorer.info.value


def test_pooling_explorer_rejects_bad_maps():
    with pytest.raises(ValueError, match="2D map"):
        pooling_explorer(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        pooling_explorer(np.full((4, 4), np.nan))


def test_dropout_explorer_new_masks_and_running_mean():
    image = np.random.default_rng(1).uniform(0.2, 1.0, size=(24, 24))
    explorer = dropout_explorer(image, seed=3)
    assert explorer.draws == 1
    first = explorer.output_image.value
    kept = explorer.mask
    np.testing.assert_allclose(explorer.output[kept], image[kept] * 2)  # rate 0.5: survivors doubled
    np.testing.assert_array_equal(explorer.output[~kept], 0)
    assert 0.4 < 1 - kept.mean() < 0.6
    assert f"dropped {round(100 * (1 - kept.mean()))}%" in explorer.info.value
    explorer.new_mask.click()
    assert explorer.draws == 2 and explorer.output_image.value != first
    error_after_2 = np.abs(explorer.running_mean - image).mean()
    for _ in range(20):
        explorer.ten_masks.click()
    assert explorer.draws == 202
    assert np.abs(explorer.running_mean - image).mean() < error_after_2 / 4  # the mean converges to the input
    assert "202" in explorer.info.value
    explorer.rate.value = 0.2  # a new rate starts a new average
    assert explorer.draws == 1 and "×1.25" in explorer.info.value
    explorer.rate.value = 0.0
    np.testing.assert_array_equal(explorer.output, image)
    explorer.reset.click()
    assert explorer.draws == 1


def test_softmax_explorer_probabilities_follow_the_sliders():
    explorer = softmax_explorer()
    np.testing.assert_allclose(explorer.probabilities, np.full(7, 1 / 7))
    before = explorer.bars.value
    explorer.sliders[3].value = 4.0
    assert explorer.bars.value != before
    np.testing.assert_allclose(explorer.probabilities, softmax(explorer.logits))
    assert explorer.probabilities.argmax() == 3 and "happy" in explorer.bars.value
    sharp = explorer.probabilities[3]
    explorer.temperature.value = 5.0
    assert explorer.probabilities[3] < sharp
    np.testing.assert_allclose(explorer.probabilities, softmax(explorer.logits / 5.0), rtol=1e-6)
    probabilities = explorer.probabilities.copy()
    explorer.shift_all.click()  # adding the same number to every logit changes nothing
    np.testing.assert_allclose(explorer.logits[0], 1.0)
    np.testing.assert_allclose(explorer.probabilities, probabilities, rtol=1e-6)


def test_softmax_shift_at_the_end_of_a_slider_changes_nothing():
    """The browser walk found +1 clipped at a slider's maximum (0.242 -> 0.238): the range moves instead."""
    explorer = softmax_explorer()
    explorer.sliders[0].value = explorer.sliders[0].max  # 8.0
    explorer.sliders[1].value = 7.5
    before, logits = explorer.probabilities.copy(), explorer.logits.copy()
    updates = []
    explorer.bars.observe(lambda change: updates.append(1), names="value")
    for _ in range(3):
        explorer.shift_all.click()
    np.testing.assert_allclose(explorer.logits, logits + 3, atol=1e-9)
    np.testing.assert_allclose(explorer.probabilities, before, rtol=1e-9)
    assert explorer.sliders[0].max == 11.0 and explorer.sliders[0].value == 11.0
    assert len(updates) == 3, "one redraw per click, not one per slider"


def test_softmax_explorer_labels_follow_the_language_and_bad_logits_fail():
    set_language("ro")
    try:
        assert "bucurie" in softmax_explorer().bars.value
    finally:
        set_language("en")
    with pytest.raises(ValueError, match="one logit per class"):
        softmax_explorer([1.0, 2.0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        softmax_explorer([1.0, np.inf], class_names=["a", "b"])
