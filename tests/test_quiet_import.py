"""Importing utils first keeps TensorFlow's start-up lines (oneDNN notice, CPU features) off stderr."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True)


def test_tensorflow_imports_silently_with_onednn_on():
    result = _run("import utils, os, keras, tensorflow as tf; print(os.environ['TF_ENABLE_ONEDNN_OPTS'], tf.__spec__.origin)")
    assert result.returncode == 0, result.stderr
    onednn, origin = result.stdout.split()
    assert onednn == "1" and origin.endswith("tensorflow/__init__.py")
    assert "oneDNN" not in result.stderr and "absl" not in result.stderr, result.stderr
    assert result.stderr.strip() == ""


def test_without_utils_tensorflow_does_print_them():
    # The reference: the same import without the hook writes the notice (so the test above can fail).
    result = _run("import tensorflow", TF_ENABLE_ONEDNN_OPTS="1")
    assert "oneDNN custom operations are on" in result.stderr


def test_errors_after_the_import_still_reach_stderr():
    result = _run("import utils, tensorflow, sys; print('after', file=sys.stderr); raise SystemExit(3)")
    assert result.returncode == 3 and "after" in result.stderr
