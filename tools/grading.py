"""The instructor's grading steps, one command each, plain nbgrader underneath.

    python tools/grading.py release [LESSON ...]   # lessons/ -> source/ -> nbgrader generate_assignment
    python tools/grading.py autograde LESSON ...   # nbgrader autograde LESSON --create --force
    python tools/grading.py feedback LESSON ...    # nbgrader generate_feedback LESSON --force
    python tools/grading.py export [--to FILE]     # nbgrader export --to FILE  (grades CSV)
    python tools/grading.py grades [--to FILE]     # print the exported grades as a table

Every step runs in the course directory named by the repository's nbgrader_config.py
(build/nbgrader/, or FACEEXPR_COURSE_DIR), and prints the nbgrader command it runs, so the
instructor can also type that command directly from the repository root. ``release`` is the
one step nbgrader cannot do alone: nbgrader wants ``source/<lesson>/<lesson>.ipynb``, and the
lessons live in lessons/, so it copies them there first (tools/editions.py does it).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

try:
    from tools import editions
except ImportError:  # run as a script (python tools/grading.py): its own folder is on sys.path, the project's is not
    import editions

PROJECT_ROOT = Path(__file__).resolve().parents[1]

GRADES_CSV = "grades.csv"


class GradingError(Exception):
    """An nbgrader step that failed, with its output."""


def nbgrader_executable() -> str:
    """The ``nbgrader`` script beside this Python (the virtual environment's), else the one on PATH."""
    beside = Path(sys.executable).parent / "nbgrader"
    return str(beside) if beside.exists() else "nbgrader"


def run_nbgrader(*arguments: str, course_dir: Path | None = None) -> str:
    """Run ``nbgrader ARGUMENTS`` from the repository root (so it reads nbgrader_config.py); return its log."""
    environment = dict(os.environ)
    if course_dir is not None:
        environment["FACEEXPR_COURSE_DIR"] = str(Path(course_dir).resolve())
    # nbgrader calls `alembic` for a new gradebook: the one beside this Python must be findable.
    environment["PATH"] = str(Path(sys.executable).parent) + os.pathsep + environment.get("PATH", "")
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    environment.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    command = [nbgrader_executable(), *arguments]
    print("$ nbgrader " + " ".join(arguments), flush=True)
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True)
    log = result.stdout + result.stderr
    # nbgrader logs a failed notebook as an error but may still exit 0: look at both.
    if result.returncode != 0 or "[ERROR]" in log:
        raise GradingError(f"`nbgrader {' '.join(arguments)}` failed (exit {result.returncode}):\n{log}")
    return log


def course_dir() -> Path:
    return editions.default_course_dir()


def release(lessons: Sequence[str] = (), course: Path | None = None, out: Path | None = None) -> list[Path]:
    """Copy the lessons into ``source/`` and run generate_assignment on each; return the student notebooks."""
    course = Path(course) if course else course_dir()
    out = Path(out) if out else PROJECT_ROOT / "build" / "student"
    return editions.build_student_editions(out, names=lessons, course_dir=course)


def autograde(lesson: str, course: Path | None = None) -> str:
    """Autograde every submission of ``lesson`` in ``submitted/*/<lesson>/`` (students are added to the gradebook)."""
    return run_nbgrader("autograde", lesson, "--create", "--force", course_dir=course)


def feedback(lesson: str, course: Path | None = None) -> str:
    """Write ``feedback/<student>/<lesson>/<lesson>.html`` for every autograded submission of ``lesson``."""
    return run_nbgrader("generate_feedback", lesson, "--force", course_dir=course)


def export(to: Path | None = None, course: Path | None = None) -> Path:
    """Export the gradebook as CSV (one row per student and assignment); return the file."""
    course = Path(course) if course else course_dir()
    to = Path(to) if to else course / GRADES_CSV
    to.parent.mkdir(parents=True, exist_ok=True)
    run_nbgrader("export", "--to", str(to.resolve()), course_dir=course)
    if not to.exists():
        raise GradingError(f"nbgrader export reported success but wrote no {to}")
    return to


def read_grades(path: Path) -> list[dict[str, str]]:
    """The rows of an nbgrader grades CSV (columns assignment, student_id, score, max_score, ...)."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/grading.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--course-dir", type=Path, help="nbgrader course directory (default: nbgrader_config.py's, build/nbgrader)")
    commands = parser.add_subparsers(dest="command", required=True)
    step = commands.add_parser("release", help="student editions of the lessons (nbgrader generate_assignment)")
    step.add_argument("lessons", nargs="*", help="lesson names (default: all)")
    step.add_argument("--out", type=Path, help="also copy the student editions here (default: build/student)")
    for name, text in [("autograde", "nbgrader autograde: grade submitted/*/<lesson>"),
                       ("feedback", "nbgrader generate_feedback: HTML feedback per student")]:
        step = commands.add_parser(name, help=text)
        step.add_argument("lessons", nargs="+", help="lesson names")
    for name, text in [("export", "nbgrader export: grades CSV"), ("grades", "export, then print the grades")]:
        step = commands.add_parser(name, help=text)
        step.add_argument("--to", type=Path, help=f"CSV file (default: <course dir>/{GRADES_CSV})")
    args = parser.parse_args(argv)
    course = args.course_dir.resolve() if args.course_dir else None
    try:
        if args.command == "release":
            for path in release(args.lessons, course, args.out):
                print(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path)
        elif args.command in ("autograde", "feedback"):
            for lesson in args.lessons:
                print((autograde if args.command == "autograde" else feedback)(lesson, course).strip())
        else:
            path = export(args.to, course)
            print(path)
            if args.command == "grades":
                for row in read_grades(path):
                    print(f"{row['assignment']:<24} {row['student_id']:<16} {float(row['score']):6.1f} / {float(row['max_score']):.1f}")
    except (GradingError, editions.EditionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
