"""Lessons 01 and 02: the review findings fixed there stay fixed (claims computed, exercises fair, answers and
references present in both languages)."""

import re

import pytest
from lesson_files import lang_of, read

from tools.editions import LESSONS_DIR

L1 = read(LESSONS_DIR / "01_images_bgr_rgb.ipynb")
L2 = read(LESSONS_DIR / "02_convolution.ipynb")


def prose(notebook, lang="en"):
    return "\n".join(c.source for c in notebook.cells if lang_of(c) == lang)


def code(notebook):
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "code")


def graded(notebook):
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]


def solutions(notebook):
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]


@pytest.mark.parametrize("notebook", [L1, L2], ids=["01", "02"])
def test_answers_and_references_in_both_languages(notebook):
    for lang in ("en", "ro"):
        text = prose(notebook, lang)
        assert text.count("<details>") >= 1 and text.count("</details>") == text.count("<details>")
        assert ("References" if lang == "en" else "Bibliografie") in text
    en_questions = re.findall(r"(?m)^\d+\. ", next(c.source for c in notebook.cells if lang_of(c) == "en"
                                                  and c.source.startswith("## Check your understanding")))
    answers = next(c.source for c in notebook.cells if lang_of(c) == "en" and "<details>" in c.source)
    assert len(re.findall(r"(?m)^\d+\. ", answers)) == len(en_questions), "one answer per question"


@pytest.mark.parametrize("notebook", [L1, L2], ids=["01", "02"])
def test_hidden_tests_use_the_checks_of_utils(notebook):
    for cell in graded(notebook):
        hidden = cell.source.split("### BEGIN HIDDEN TESTS", 1)[1]
        assert re.search(r"check_\w+\(\w+, hidden=True\)", hidden), cell.metadata["nbgrader"]["grade_id"]


@pytest.mark.parametrize("notebook", [L1, L2], ids=["01", "02"])
def test_no_solution_in_docstrings(notebook):
    for cell in solutions(notebook):
        visible = cell.source.split("### BEGIN SOLUTION", 1)[0]
        for formula in ("//", "+ 1)", "* c_in", "np.stack", "bincount"):
            assert formula not in visible, f"{cell.metadata['nbgrader']['grade_id']}: {formula!r} outside the solution"


@pytest.mark.parametrize("notebook", [L1, L2], ids=["01", "02"])
def test_later_terms_come_with_a_forward_reference(notebook):
    for cell in notebook.cells:
        if lang_of(cell) != "en" or cell.source.startswith("## References"):   # titles of cited works
            continue
        text = cell.source.lower()
        if any(term in text for term in ("pooling", "softmax", "dropout", "backpropagation", "gradient descent")):
            assert re.search(r"lessons? [345]", text), f"a later term without 'lesson N': {cell.source[:80]!r}"


def test_lesson_01_resize_rule_matches_the_library():
    import inspect

    from utils import images
    assert "INTER_LINEAR" in inspect.getsource(images.preprocess_face)
    exercise = next(c.source for c in L1.cells if lang_of(c) == "en" and "### Exercise 4" in c.source)
    assert "INTER_AREA" in exercise and "INTER_LINEAR" in exercise and "1/255" in exercise


def test_lesson_01_majority_baseline_is_train_to_test():
    solution = next(c.source for c in solutions(L1) if "def majority_baseline" in c.source)
    assert "def majority_baseline(train_labels, test_labels)" in solution


def test_lesson_01_says_how_many_faces_were_loaded():
    assert "faces loaded in all" in code(L1)
    assert "35,887" in prose(L1) and "PrivateTest" in prose(L1)


def test_lesson_02_dense_comparison_is_computed_not_written():
    text = prose(L2) + prose(L2, "ro")
    assert "73,760" not in text and "73\\,760" not in text
    assert "n_inputs * n_outputs" in code(L2)


def test_lesson_02_learned_filters_are_not_said_to_be_classic_kernels():
    assert "look very much like them" not in prose(L2)
    assert "Gabor" in prose(L2) and "Gabor" in prose(L2, "ro")


def test_lesson_02_new_content():
    for lang in ("en", "ro"):
        text = prose(L2, lang)
        for name in ("Hubel", "Wiesel", "Fukushima", "LeNet", "im2col"):
            assert name in text, (lang, name)
    source = code(L2)
    assert "inspect.getsource(conv2d)" in source
    assert "get_weights" in source and "rgb_layer.set_weights" in source      # multi-channel checked against Keras
    assert "shifted_map" in source                                           # translation equivariance
    grade_ids = {c.metadata["nbgrader"]["grade_id"] for c in L2.cells if "nbgrader" in c.metadata}
    assert "02_convolution_conv_layer_summary" in grade_ids
    assert "02_convolution_conv_parameter_count" not in grade_ids


def test_lesson_02_same_split_rule_is_a_note():
    section = next(c.source for c in L2.cells if lang_of(c) == "en" and c.source.startswith("## 7."))
    assert "smaller half" not in section
    assert any(c.source.startswith("> **Note") and "smaller" in c.source for c in L2.cells if lang_of(c) == "en")
