"""Exercises written by hand: a student's function that calls the course's own version fails the hidden checks."""

import numpy as np
import pytest

from utils.by_hand import UsedTheLibrary, written_by_hand

# (check, the lesson's import line, the wrapper a student might hand in, a hand-written answer)
CASES = [
    ("utils.convolution_exercises:check_output_cell", "from utils.layers import correlate_patch",
     "def answer(patch, kernel, bias=0.0):\n    return correlate_patch(patch, kernel, bias)",
     "import numpy as np\ndef answer(patch, kernel, bias=0.0):\n"
     "    patch, kernel = np.asarray(patch, float), np.asarray(kernel, float)\n"
     "    if patch.shape != kernel.shape:\n        raise ValueError('shapes differ')\n"
     "    return float((patch * kernel).sum() + bias)"),
    ("utils.convolution_exercises:check_output_size", "from utils.layers.convolution import conv_output_size",
     "def answer(size, kernel, stride=1, padding=0):\n    return conv_output_size(size, kernel, stride, padding)", None),
    ("utils.head_exercises:check_softmax", "import utils.layers as layers",
     "def answer(z):\n    return layers.softmax(z)", None),
    ("utils.inside_exercises:check_expected_calibration_error", "from utils.calibration import expected_calibration_error",
     "def answer(p, y, n_bins):\n    return expected_calibration_error(p, y, n_bins)", None),
    ("utils.backward_exercises:check_momentum_step", "from utils.layers.optim import momentum_step",
     "def answer(w, g, v, learning_rate, momentum=0.9):\n    return momentum_step(w, g, v, learning_rate, momentum)", None),
]


def load(check: str):
    import importlib

    module, name = check.split(":")
    return getattr(importlib.import_module(module), name)


def student_function(imports: str, source: str):
    namespace: dict = {}
    exec(imports + "\n" + source, namespace)  # noqa: S102 (the tests' own code, as a notebook would run it)
    return namespace["answer"], namespace


@pytest.mark.parametrize(("check", "imports", "wrapper", "by_hand"), CASES, ids=[c[0].split(":")[1] for c in CASES])
def test_a_wrapper_of_the_library_passes_the_visible_test_and_fails_the_hidden_one(check, imports, wrapper, by_hand):
    answer, namespace = student_function(imports, wrapper)
    load(check)(answer, hidden=False)        # the visible test cannot tell
    with pytest.raises(UsedTheLibrary, match="write it yourself"):
        load(check)(answer, hidden=True)
    # nothing stays switched off: the notebook's names work again
    assert all(getattr(value, "__name__", "") != "switched_off" for value in namespace.values())
    if by_hand:
        hand, _ = student_function(imports, by_hand)
        load(check)(hand, hidden=True)


def test_modules_are_restored_even_when_the_check_fails():
    import utils.layers as layers

    original = layers.softmax
    answer, _ = student_function("import utils.layers as layers", "def answer(z):\n    return layers.softmax(z)")
    with pytest.raises(UsedTheLibrary):
        with written_by_hand(answer, (original,), "softmax"):
            answer(np.zeros(3))
    assert layers.softmax is original
    np.testing.assert_allclose(answer(np.zeros(3)), np.full(3, 1 / 3))


def test_the_message_follows_the_lesson_language():
    from utils.i18n import set_language

    answer, _ = student_function("from utils.calibration import fit_temperature", "def answer(p, y):\n    return fit_temperature(p, y)")
    check = load("utils.inside_exercises:check_fit_temperature")
    try:
        set_language("ro")
        with pytest.raises(UsedTheLibrary, match="scrieți funcția voi, fără `fit_temperature`"):
            check(answer, hidden=True)
    finally:
        set_language("en")
