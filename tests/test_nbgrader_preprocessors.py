"""Feedback never shows hidden tests (tools/nbgrader_preprocessors.py), checked on a notebook without running nbgrader."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tools.nbgrader_preprocessors import HIDDEN_NOTE, HideHiddenTests

GRADED = {"nbgrader": {"grade": True, "grade_id": "t1", "points": 2, "solution": False, "locked": True}}


def graded_cell(source: str, error: bool = True):
    cell = new_code_cell(source, metadata=GRADED)
    if error:
        cell.outputs = [new_output("error", ename="AssertionError", evalue="the kernel is flipped: use correlation",
                                   traceback=["Traceback", "----> 3 check_secret(answer, hidden=True)", "AssertionError: ..."])]
    return cell


def test_hidden_region_and_its_traceback_are_removed():
    source = "assert answer(1) == 2\n### BEGIN HIDDEN TESTS\ncheck_secret(answer, hidden=True)\n### END HIDDEN TESTS"
    nb = new_notebook(cells=[graded_cell(source), graded_cell("assert answer(0) == 0", error=False)])
    out, _ = HideHiddenTests().preprocess(nb, {})
    first = out.cells[0]
    assert "check_secret" not in first.source and "HIDDEN TESTS" not in first.source
    assert first.source.splitlines() == ["assert answer(1) == 2", HIDDEN_NOTE]
    assert first.outputs[0].traceback == ["AssertionError: the kernel is flipped: use correlation"]
    assert out.cells[1].source == "assert answer(0) == 0"


def test_a_cell_without_hidden_tests_keeps_its_traceback():
    nb = new_notebook(cells=[graded_cell("assert answer(1) == 2")])
    out, _ = HideHiddenTests().preprocess(nb, {})
    assert len(out.cells[0].outputs[0].traceback) == 3


def test_an_unclosed_region_is_an_error():
    nb = new_notebook(cells=[graded_cell("### BEGIN HIDDEN TESTS\ncheck_secret()")])
    with pytest.raises(RuntimeError, match="END HIDDEN TESTS"):
        HideHiddenTests().preprocess(nb, {})


def test_the_course_config_uses_it_for_feedback():
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from tools.grading import PROJECT_ROOT

    config = PyFileConfigLoader("nbgrader_config.py", path=str(PROJECT_ROOT)).load_config()
    assert HideHiddenTests in config.GenerateFeedback.preprocessors
    assert isinstance(config, Config) and nbformat  # the loader returned the course's config


def test_autograding_skips_demonstrations_but_never_a_graded_cell():
    from tools.nbgrader_preprocessors import SKIP_TAG, ExecuteWithoutDemos, protect_graded_cells

    demo = new_code_cell("train_for_a_minute()", metadata={"tags": [SKIP_TAG]})
    cheat = graded_cell("### BEGIN HIDDEN TESTS\ncheck_secret()\n### END HIDDEN TESTS", error=False)
    cheat.metadata["tags"] = [SKIP_TAG, "other"]
    solution = new_code_cell("def f(): ...", metadata={"tags": [SKIP_TAG], "nbgrader": {"solution": True, "grade": False}})
    nb = new_notebook(cells=[demo, cheat, solution])
    assert protect_graded_cells(nb) == [1, 2]
    assert nb.cells[0].metadata["tags"] == [SKIP_TAG] and nb.cells[1].metadata["tags"] == ["other"]
    assert ExecuteWithoutDemos().skip_cells_with_tag == SKIP_TAG


def test_the_course_config_skips_demos_while_autograding():
    from traitlets.config.loader import PyFileConfigLoader

    from tools.grading import PROJECT_ROOT
    from tools.nbgrader_preprocessors import ExecuteWithoutDemos

    config = PyFileConfigLoader("nbgrader_config.py", path=str(PROJECT_ROOT)).load_config()
    assert config.Autograde.autograde_preprocessors[0] is ExecuteWithoutDemos


def test_the_lessons_demo_tags_are_up_to_date():
    from tools.demo_cells import main

    assert main([]) == 0, "run `python -m tools.demo_cells --write`"


@pytest.mark.parametrize(("source", "defined", "read"), [
    ("x = f(x)", {"x"}, {"f", "x"}),
    ("x = 1\nprint(x)", {"x"}, {"print"}),
    ("def g(p):\n    q = [p * t for t in p]\n    return q + r", {"g"}, {"r"}),
    ("model.fit(faces)", set(), {"model", "faces"}),
    ("import numpy as np\nnp.zeros(3)", {"np"}, set()),
    ("%time y = 1\n!ls", set(), set()),
    # a loop's target is bound by the loop: not a read of an earlier cell's value ...
    ("for layer in model.layers:\n    print(layer)", {"layer"}, {"model", "print"}),
    ("rows = []\nfor r in data:\n    rows.append(r)", {"rows", "r"}, {"data"}),
    # ... but what a loop or a branch binds may not happen: a later read may see the earlier cell's value
    ("for i in []:\n    pass\nprint(i)", {"i"}, {"print", "i"}),
    ("if flag:\n    y = 1\nprint(y)", {"y"}, {"flag", "print", "y"}),
    ("while n:\n    total = total + n", {"total"}, {"n", "total"}),
])
def test_what_a_cell_defines_and_reads(source, defined, read):
    from tools.demo_cells import defined_and_read

    assert defined_and_read(source) == (defined, read)
