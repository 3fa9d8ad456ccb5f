"""The course's two nbgrader preprocessors: feedback without hidden tests, autograding without demos.

**Feedback.**
nbgrader's feedback renders the *autograded* notebook, in which the hidden tests are back (they
ran), so by default every student reads them word for word, and a failing one's traceback quotes
the line that failed. :class:`HideHiddenTests` removes each ``### BEGIN HIDDEN TESTS`` ...
``### END HIDDEN TESTS`` region again, as ``generate_assignment`` did, and cuts the traceback of a
graded cell that had such a region down to its last line (the error and the message the check
wrote for the student). nbgrader_config.py puts it into ``GenerateFeedback.preprocessors``.

**Autograding.** The lessons' demonstrations (training a network, evaluating the shipped model on
thousands of faces, Grad-CAM galleries) cost a minute per submission and no graded cell needs
them. Their cells carry the tag ``autograde-skip``; :class:`ExecuteWithoutDemos` (nbgrader's
Execute, in ``Autograde.autograde_preprocessors``) skips them. Tags come from the student's copy,
so the tag is first removed from every graded, solution or locked cell: tagging a test cell can
never skip it.
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests, Execute
from traitlets import Unicode

#: The tag of a lesson cell that autograding does not run (a demonstration no graded cell needs).
SKIP_TAG = "autograde-skip"

#: Shown in place of a removed region, so that the student knows more tests ran.
HIDDEN_NOTE = "# (hidden tests ran here; their messages, if any, are below)"


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests for feedback: also shortens the tracebacks of the cells it changed."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or self.begin_test_delimeter not in cell.source:
            return cell, resources
        lines, kept, inside = cell.source.split("\n"), [], False
        for line in lines:
            if self.begin_test_delimeter in line:
                inside = True
                kept.append(line[: len(line) - len(line.lstrip())] + HIDDEN_NOTE)
            elif self.end_test_delimeter in line:
                inside = False
            elif not inside:
                kept.append(line)
        if inside:
            raise RuntimeError(f"cell {cell_index}: no '{self.end_test_delimeter}' after '{self.begin_test_delimeter}'")
        cell.source = "\n".join(kept)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                # the frames quote the cell's code, hidden lines included; the last line is the message
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


def _nbgrader_role(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade") or meta.get("solution") or meta.get("locked") or meta.get("task"))


def protect_graded_cells(nb, tag: str = SKIP_TAG) -> list[int]:
    """Remove ``tag`` from every cell nbgrader grades, owns or locks; return their indices."""
    protected = []
    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if tag in tags and (_nbgrader_role(cell) or cell.cell_type != "code"):
            cell.metadata["tags"] = [other for other in tags if other != tag]
            protected.append(index)
    return protected


class ExecuteWithoutDemos(Execute):
    """nbgrader's Execute, skipping the cells tagged :data:`SKIP_TAG` unless nbgrader owns them."""

    skip_cells_with_tag = Unicode(SKIP_TAG).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        protect_graded_cells(nb, self.skip_cells_with_tag)
        return super().preprocess(nb, resources, km=km)


__all__ = ["HIDDEN_NOTE", "SKIP_TAG", "ExecuteWithoutDemos", "HideHiddenTests", "protect_graded_cells"]
