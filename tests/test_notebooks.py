"""Every lesson executes top to bottom, headless, as a student would run it."""

import time

import nbformat
import pytest
from lesson_files import lesson_paths
from nbclient import NotebookClient

LESSONS = lesson_paths()


@pytest.mark.notebooks
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_executes(path, tmp_path, record_timing):
    notebook = nbformat.read(path, as_version=4)
    # A run in the tests must not write into the student's data folders or cache by accident:
    # the lessons read FER2013 from $FER2013_DIR when set, else the offline synthetic faces.
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    record_timing(f"notebook {path.name}", seconds)
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
