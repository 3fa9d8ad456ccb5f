"""Shared test set-up: quiet TensorFlow, where the data lives, small face fixtures."""

import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LESSONS_DIR = PROJECT_ROOT / "lessons"
SHARED_FER2013 = PROJECT_ROOT.parent / "shared" / "fer2013"
TIMINGS_FILE = PROJECT_ROOT / "build" / "test-timings.json"


@pytest.fixture(scope="session")
def shared_fer2013() -> Path:
    """The real FER2013 copy beside the project (development and CI machines have one)."""
    if not (SHARED_FER2013 / "train").is_dir():
        pytest.skip(f"FER2013 is not at {SHARED_FER2013}")
    return SHARED_FER2013


@pytest.fixture(scope="session")
def small_faces() -> tuple[np.ndarray, np.ndarray]:
    """70 synthetic faces, 10 per class: stands in for FER2013 in format tests."""
    from utils.synthetic import make_faces

    return make_faces(70, seed=7, balanced=True)


_timings: dict[str, float] = {}


def record_timing(name: str, seconds: float) -> None:
    """Keep a duration to print at the end of the run (and in build/test-timings.json)."""
    _timings[name] = round(seconds, 2)


def pytest_terminal_summary(terminalreporter):
    if not _timings:
        return
    terminalreporter.section("measured durations")
    for name, seconds in _timings.items():
        terminalreporter.write_line(f"{seconds:8.1f} s  {name}")
    TIMINGS_FILE.parent.mkdir(exist_ok=True)
    previous = json.loads(TIMINGS_FILE.read_text()) if TIMINGS_FILE.exists() else {}
    previous.update(_timings)
    TIMINGS_FILE.write_text(json.dumps(previous, indent=1))
