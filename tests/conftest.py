"""Shared test set-up: quiet TensorFlow, where the data lives, small face and model fixtures, timings.

Tests get these as fixtures (arguments), never with ``from conftest import``.
"""

import json
import os
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


@pytest.fixture
def romanian():
    """The course in Romanian for one test (an exercise check's messages); English again afterwards, even on failure."""
    from utils.i18n import set_language

    set_language("ro")
    try:
        yield
    finally:
        set_language("en")


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


#: A small model of the course's architecture family: builds and predicts in a fraction of a second.
TINY_ARCHITECTURE_SETTINGS = {"filters": (4, 8), "block_dropout": (0.1, 0.2), "dense_units": 8}


@pytest.fixture(scope="session")
def tiny_architecture():
    """:data:`TINY_ARCHITECTURE_SETTINGS` as a :class:`utils.models.Architecture`."""
    from utils.models import Architecture

    return Architecture(**TINY_ARCHITECTURE_SETTINGS)


@pytest.fixture(scope="session")
def make_tiny_model(tiny_architecture):
    """``make_tiny_model(seed)``: an untrained tiny model, its weights drawn with ``seed``."""
    def make(seed: int = 0, **kwargs):
        import keras

        from utils.models import build_emotion_cnn

        keras.utils.set_random_seed(seed)
        return build_emotion_cnn(tiny_architecture, **kwargs)

    return make


_timings: dict[str, float] = {}


def _record_timing(name: str, seconds: float) -> None:
    _timings[name] = round(seconds, 2)


@pytest.fixture(scope="session")
def record_timing():
    """``record_timing(name, seconds)``: a duration to print at the end of the run (and in build/test-timings.json)."""
    return _record_timing


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


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium driven by Playwright, for the browser tests (skipped, or failed in CI, without it)."""
    from browser_support import launch_chromium, playwright_session

    with playwright_session() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()
