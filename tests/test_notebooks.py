"""Every lesson executes top to bottom, headless, as a student would run it: on FER2013 and on the offline faces."""

import time

import nbformat
import pytest
from lesson_files import lesson_paths
from nbclient import NotebookClient

LESSONS = lesson_paths()


def run_lesson(path, record_timing, label: str) -> None:
    """Execute one lesson in a fresh kernel (which inherits this process's environment); no error output allowed."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    record_timing(f"notebook {path.name} ({label})", seconds)
    errors = [f"{o.ename}: {o.evalue}" for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors


@pytest.mark.notebooks
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_executes_on_fer2013(path, record_timing, shared_fer2013, monkeypatch):
    monkeypatch.setenv("FER2013_DIR", str(shared_fer2013))
    run_lesson(path, record_timing, "FER2013")


@pytest.mark.notebooks
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_executes_offline(path, record_timing, monkeypatch, tmp_path):
    from utils.data import PROJECT_ROOT

    if (PROJECT_ROOT / "data" / "fer2013").exists():
        pytest.skip("data/fer2013 exists here, so the lessons would find FER2013 without $FER2013_DIR")
    monkeypatch.delenv("FER2013_DIR", raising=False)
    run_lesson(path, record_timing, "offline synthetic faces")
