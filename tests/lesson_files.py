"""Helpers for tests that read the lesson notebooks."""

from pathlib import Path

import nbformat

LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"


def lesson_paths() -> list[Path]:
    """Every lesson notebook, in order (``lessons/NN_*.ipynb``)."""
    return sorted(LESSONS_DIR.glob("[0-9][0-9]_*.ipynb"))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def lang_of(cell) -> str | None:
    """'en' or 'ro' for a tagged theory cell, else None."""
    tags = cell.get("metadata", {}).get("tags", [])
    langs = [t.split(":", 1)[1] for t in tags if t.startswith("lang:")]
    return langs[0] if langs else None
