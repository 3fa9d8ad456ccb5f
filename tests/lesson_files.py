"""Helpers for tests that read the lesson notebooks (the editions tool's own definitions)."""

from pathlib import Path

import nbformat

from tools.editions import LESSONS_DIR, language_of, lesson_paths  # noqa: F401  (re-exported for the tests)

lang_of = language_of


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def is_manual_answer(cell) -> bool:
    """A markdown answer a teacher grades by hand: nbgrader solution + grade, tagged ``answer`` (no language)."""
    meta = cell.get("metadata", {})
    grading = meta.get("nbgrader", {})
    return (cell.get("cell_type") == "markdown" and "answer" in meta.get("tags", [])
            and bool(grading.get("solution")) and bool(grading.get("grade")))
