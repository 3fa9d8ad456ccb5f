"""./start.sh's options, checked with --print-command (nothing is installed, built or served)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def start(*arguments: str, **environment: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("LANG", "LC_ALL", "FACEEXPR_COURSE_DIR")}
    env.update(environment)
    return subprocess.run([str(ROOT / "start.sh"), *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def server_command(result: subprocess.CompletedProcess) -> str:
    return [line for line in result.stdout.splitlines() if "jupyter lab" in line][-1]


@pytest.mark.parametrize("arguments, environment, root", [
    ((), {}, "build/student/en"),
    ((), {"LANG": "ro_RO.UTF-8"}, "build/student/ro"),
    ((), {"LANG": "en_US.UTF-8", "LC_ALL": "ro_RO.UTF-8"}, "build/student/ro"),
    (("--lang", "en"), {"LANG": "ro_RO.UTF-8"}, "build/student/en"),
    (("--lang=ro",), {}, "build/student/ro"),
    (("--solutions", "--lang", "ro"), {}, "build/editions/ro"),
    (("--instructor",), {}, "."),
])
def test_the_server_root_is_the_chosen_edition(arguments, environment, root):
    result = start("--print-command", *arguments, **environment)
    assert result.returncode == 0, result.stderr
    assert server_command(result).endswith(f"--ServerApp.root_dir={root}")
    if root.startswith("build/student"):
        assert f"tools/editions.py student --lang {root[-2:]} --if-stale" in result.stdout
        assert "./start.sh --instructor" in result.stdout and "--solutions" in result.stdout
    if root == ".":
        assert "warning" not in result.stderr, "build/nbgrader is inside the server root"


def test_instructor_warns_when_the_course_directory_is_outside_the_server_root(tmp_path):
    result = start("--print-command", "--instructor", FACEEXPR_COURSE_DIR=str(tmp_path))
    assert result.returncode == 0 and "formgrader will not work" in result.stderr


def test_headless_executes_the_lessons():
    result = start("--print-command", "--headless")
    assert result.returncode == 0 and "nbconvert --to html --execute" in result.stdout and "jupyter lab" not in result.stdout


@pytest.mark.parametrize("arguments, message", [(("--lang", "fr"), "--lang must be 'ro' or 'en'"),
                                               (("--lang",), "--lang needs a value"), (("--bogus",), "unknown option")])
def test_bad_arguments_say_what_is_wrong(arguments, message):
    result = start("--print-command", *arguments)
    assert result.returncode == 2 and message in result.stderr
