"""Lesson 04's gradient-descent explorer, driven from Python: set a control, read the outputs."""

import numpy as np

import utils  # noqa: F401
from utils.i18n import set_language
from utils.layers.descent import descent_path
from utils.widgets.descent import descent_explorer


def test_descent_explorer_follows_its_controls():
    explorer = descent_explorer("valley", learning_rate=0.05, steps=40)
    np.testing.assert_allclose(explorer.path, descent_path("valley", 0.05, 40))
    assert "step <b>40</b>" in explorer.info.value and not explorer.diverged
    picture, info = explorer.image.value, explorer.info.value
    explorer.step.value = 3
    assert "step <b>3</b>" in explorer.info.value and explorer.image.value != picture
    explorer.next_step.click()
    assert explorer.step.value == 4 and "step <b>4</b>" in explorer.info.value
    explorer.learning_rate.value = 0.001
    explorer.step.value = 40
    assert "Still far" in explorer.info.value
    explorer.learning_rate.value = 0.3                         # > 2 / 10: diverges across the valley
    assert explorer.diverged and "Diverged" in explorer.info.value and len(explorer.path) < 41
    explorer.learning_rate.value = 0.01
    plain = explorer.losses[-1]
    explorer.momentum.value = 0.9
    assert explorer.losses[-1] < plain                          # momentum gets further down the valley
    explorer.nesterov.value = True
    np.testing.assert_allclose(explorer.path, descent_path("valley", 0.01, 40, 0.9, nesterov=True))
    explorer.surface.value = "rosenbrock"
    np.testing.assert_allclose(explorer.path[0], [-1.5, 2.0])
    assert explorer.info.value != info


def test_descent_explorer_speaks_romanian():
    set_language("ro")
    try:
        explorer = descent_explorer("bowl", learning_rate=2.5, steps=10)
        assert "pasul" in explorer.info.value and explorer.learning_rate.description == "rata de învățare"
        assert "Divergent" in explorer.info.value
    finally:
        set_language("en")


def test_play_starts_where_the_step_slider_is():
    """jslink copies the Play's value to the slider when the page draws them: a Play at 0 showed only step 0."""
    explorer = descent_explorer("valley", learning_rate=0.05, steps=30)
    assert explorer.play.value == explorer.step.value == 30


def test_nesterov_without_momentum_says_it_changes_nothing():
    explorer = descent_explorer("valley", learning_rate=0.05)
    path = explorer.path.copy()
    explorer.nesterov.value = True
    np.testing.assert_allclose(explorer.path, path)
    assert "Nesterov changes nothing" in explorer.info.value
    explorer.momentum.value = 0.5
    assert "Nesterov changes nothing" not in explorer.info.value


def test_one_step_is_disabled_at_the_last_step():
    explorer = descent_explorer("valley", learning_rate=0.05, steps=20)
    assert explorer.next_step.disabled
    explorer.step.value = 5
    assert not explorer.next_step.disabled
    explorer.next_step.click()
    assert explorer.step.value == 6
