"""The instructor's grading steps, one command each, plain nbgrader underneath.

    python tools/grading.py release [LESSON ...]   # lessons/ -> source/ -> nbgrader generate_assignment
        [--lang ro|en]                             # the single-language edition, as assignment <lesson>_<lang>
    python tools/grading.py autograde LESSON ...   # nbgrader autograde LESSON --student S --create --force, per student
        [--student S ...] [--force]                # only these students; also those already graded and unchanged
    python tools/grading.py check LESSON ...       # which submissions changed or deleted a test cell of the release
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
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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


def release(lessons: Sequence[str] = (), course: Path | None = None, out: Path | None = None,
            lang: str | None = None) -> list[Path]:
    """Copy the lessons into ``source/`` and run generate_assignment on each; return the student notebooks.

    Without ``lang`` each lesson is the assignment ``<lesson>`` (the bilingual edition). With
    ``lang`` ("en" or "ro") it is the single-language edition, released in the same course
    directory as the assignment ``<lesson>_<lang>``: one gradebook and one course id for every
    edition, distinct names on the exchange. The graded cells are the same in every edition
    (tools/editions.py), and :func:`grade_table` counts each lesson once per student.
    """
    course = Path(course) if course else course_dir()
    out = Path(out) if out else PROJECT_ROOT / "build" / "student"
    suffix = f"_{lang}" if lang else ""
    for path in editions.lesson_paths(editions.LESSONS_DIR, lessons):
        # what it runs, as the instructor would type it (nbgrader's API is called in-process)
        what = f"the {lang} edition of lessons/{path.name}" if lang else f"lessons/{path.name}"
        name = path.stem + suffix
        print(f"$ cp {what} {course}/source/{name}/{name}.ipynb && nbgrader generate_assignment {name} --create --force",
              flush=True)
    return editions.build_student_editions(out, names=lessons, lang=lang, course_dir=course, suffix=suffix)


EDITION_SUFFIX = re.compile(r"_(en|ro)$")


def lesson_of(assignment: str) -> str:
    """The lesson an assignment is an edition of: ``01_images_bgr_rgb_ro`` -> ``01_images_bgr_rgb``."""
    return EDITION_SUFFIX.sub("", assignment)


@dataclass(frozen=True)
class Submission:
    """One student's folder ``submitted/<student>/<lesson>/``: its notebook (None: none usable) and what was done."""

    student: str
    folder: Path
    notebook: Path | None
    note: str = ""


def find_submissions(lesson: str, course: Path | None = None) -> list[Submission]:
    """Every student's submission of ``lesson``, made gradeable without losing anything.

    A notebook saved under another name (``lesson (1).ipynb``, ``Copy of lesson.ipynb``) is
    *copied* to ``<lesson>.ipynb`` when it is the folder's only notebook (the original stays);
    a folder with several other notebooks, or none, is reported and skipped. A hand-placed
    folder without nbgrader's ``timestamp.txt`` gets one from the notebook's modification time,
    because ``release_feedback`` needs it.
    """
    course = Path(course) if course else course_dir()
    found = []
    for folder in sorted((course / "submitted").glob(f"*/{lesson}")):
        if not folder.is_dir():
            continue
        student, expected, note = folder.parent.name, folder / f"{lesson}.ipynb", ""
        if not expected.exists():
            others = sorted(path for path in folder.glob("*.ipynb") if not path.name.startswith("."))
            if len(others) != 1:
                names = ", ".join(path.name for path in others) or "no notebook"
                found.append(Submission(student, folder, None, f"skipped: {names} in {folder}; leave one notebook named {expected.name}"))
                continue
            shutil.copy2(others[0], expected)
            note = f"graded {others[0].name} (copied to {expected.name})"
        stamp = folder / "timestamp.txt"
        if not stamp.exists():
            moment = datetime.fromtimestamp(expected.stat().st_mtime, tz=UTC)
            stamp.write_text(moment.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
            note = (note + "; " if note else "") + "timestamp.txt written from the file's time"
        found.append(Submission(student, folder, expected, note))
    return found


def _needs_grading(submission: Submission, course: Path, lesson: str) -> bool:
    graded = course / "autograded" / submission.student / lesson / f"{lesson}.ipynb"
    return not graded.exists() or graded.stat().st_mtime < submission.notebook.stat().st_mtime


def autograde(lesson: str, course: Path | None = None, students: Sequence[str] = (), force: bool = False,
              report: Callable[[str], None] = print) -> str:
    """Autograde ``lesson`` student by student (students are added to the gradebook); return nbgrader's logs.

    Only submissions that are new or changed since their last autograding are graded, unless
    ``force``; ``students`` limits it to those. Each student's line reports the time it took.
    """
    course = Path(course) if course else course_dir()
    submissions = find_submissions(lesson, course)
    if students:
        unknown = sorted(set(students) - {s.student for s in submissions})
        if unknown:
            raise GradingError(f"no submission of {lesson} for {', '.join(unknown)} in {course / 'submitted'}")
        submissions = [s for s in submissions if s.student in students]
    if not submissions:
        raise GradingError(f"no submissions of {lesson} in {course / 'submitted'}/<student>/{lesson}/")
    logs = []
    for number, submission in enumerate(submissions, 1):
        prefix = f"[{number}/{len(submissions)}] {lesson} {submission.student}"
        if submission.notebook is None:
            report(f"{prefix}: {submission.note}")
            continue
        if not force and not _needs_grading(submission, course, lesson):
            report(f"{prefix}: unchanged since it was graded (--force grades it again)")
            continue
        started = time.perf_counter()
        logs.append(run_nbgrader("autograde", lesson, "--student", submission.student, "--create", "--force", course_dir=course))
        note = f" ({submission.note})" if submission.note else ""
        report(f"{prefix}: graded in {time.perf_counter() - started:.1f} s{note}")
    for problem in check_integrity(lesson, course):
        report(f"warning: {problem}")
    return "\n".join(logs)


def reference_submission(student_edition, source, written_answer: str = "A reference answer."):
    """The student edition with the source's solutions filled in: a submission that must earn every point.

    Instructors use it to check the autograder after editing a lesson; the benchmark and the
    tests grade it. Markdown answers (graded by hand) get ``written_answer``.
    """
    import nbformat

    markers = ("### BEGIN SOLUTION", "### END SOLUTION")
    solutions = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in source.cells
                 if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution")}
    notebook = nbformat.from_dict(student_edition)
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        if cell.cell_type == "code" and meta.get("grade_id") in solutions:
            cell.source = "\n".join(line for line in solutions[meta["grade_id"]].splitlines() if line.strip() not in markers)
        elif cell.cell_type == "markdown":
            cell.source = written_answer
    return notebook


def _locked_cells(notebook) -> dict[str, str]:
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in notebook.cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("locked") and "grade_id" in cell.metadata["nbgrader"]}


def check_integrity(lesson: str, course: Path | None = None) -> list[str]:
    """Submissions whose locked cells (tests, instructions) differ from the release, or are missing.

    nbgrader puts the locked cells back before autograding, so an edited test cannot earn
    points; this report tells the instructor who tried (or broke a cell by accident).
    """
    import nbformat

    course = Path(course) if course else course_dir()
    released = course / "release" / lesson / f"{lesson}.ipynb"
    if not released.exists():
        raise GradingError(f"no release of {lesson} at {released}: run `tools/grading.py release {lesson}` first")
    reference = _locked_cells(nbformat.read(released, as_version=4))
    problems = []
    for submission in find_submissions(lesson, course):
        if submission.notebook is None:
            continue
        try:
            submitted = _locked_cells(nbformat.read(submission.notebook, as_version=4))
        except Exception as error:  # a file that is not a notebook any more
            problems.append(f"{lesson} {submission.student}: the notebook cannot be read ({error})")
            continue
        deleted = sorted(set(reference) - set(submitted))
        edited = sorted(grade_id for grade_id in set(reference) & set(submitted)
                        if submitted[grade_id].strip() != reference[grade_id].strip())
        if deleted:
            problems.append(f"{lesson} {submission.student}: locked cells deleted: {', '.join(deleted)}")
        if edited:
            problems.append(f"{lesson} {submission.student}: locked cells edited (restored before grading): {', '.join(edited)}")
    return problems


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


def needs_manual_grade(course: Path | None = None) -> set[tuple[str, str]]:
    """``(lesson, student)`` pairs whose submission still waits for a grade by hand."""
    from nbgrader.api import Gradebook

    course = Path(course) if course else course_dir()
    waiting = set()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                if submission.needs_manual_grade:
                    waiting.add((assignment.name, submission.student.id))
    return waiting


def grade_table(rows: list[dict[str, str]], waiting: set[tuple[str, str]] = frozenset()) -> str:
    """One line per student and lesson, then each student's course total (``*``: waits for a grade by hand).

    The editions of a lesson (``<lesson>``, ``<lesson>_ro``, ``<lesson>_en``) count as one
    lesson: the line shows the edition the student handed in (the best-scored one if several),
    and a lesson without any edition handed in shows "not submitted".
    """
    by_lesson: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        by_lesson.setdefault((row["student_id"], lesson_of(row["assignment"])), []).append(row)
    lines, totals = [], {}
    for (student, _lesson), editions_of_lesson in sorted(by_lesson.items()):
        handed_in = [row for row in editions_of_lesson if row.get("timestamp", "x").strip()]
        best = max(handed_in or editions_of_lesson, key=lambda row: float(row["score"]))
        score, maximum = float(best["score"]), max(float(row["max_score"]) for row in editions_of_lesson)
        flags = []
        if not handed_in:
            flags.append("not submitted")
        if len(handed_in) > 1:
            others = ", ".join(row["assignment"] for row in handed_in if row is not best)
            flags.append(f"also handed in {others}; the best counts")
        if (best["assignment"], student) in waiting:
            flags.append("* needs manual grade")
        flag = "  " + "; ".join(flags) if flags else ""
        lines.append(f"{best['assignment']:<24} {student:<16} {score:6.1f} / {maximum:.1f}{flag}")
        got, out_of, lessons = totals.get(student, (0.0, 0.0, 0))
        totals[student] = (got + score, out_of + maximum, lessons + 1)
    lines.append("")
    for student, (got, out_of, lessons) in sorted(totals.items()):
        share = f" ({100 * got / out_of:.0f}%)" if out_of else ""
        lines.append(f"{'course total':<24} {student:<16} {got:6.1f} / {out_of:.1f}{share}, {lessons} lessons")
    if waiting:
        lines.append(f"* {len(waiting)} submissions wait for a grade by hand: formgrader, then `feedback` and `grades` again")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/grading.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--course-dir", type=Path, help="nbgrader course directory (default: nbgrader_config.py's, build/nbgrader)")
    commands = parser.add_subparsers(dest="command", required=True)
    step = commands.add_parser("release", help="student editions of the lessons (nbgrader generate_assignment)")
    step.add_argument("lessons", nargs="*", help="lesson names (default: all)")
    step.add_argument("--out", type=Path, help="also copy the student editions here (default: build/student)")
    step.add_argument("--lang", choices=editions.LANGUAGES,
                      help="release the single-language edition as <lesson>_<lang>, beside the others (same gradebook)")
    step = commands.add_parser("autograde", help="nbgrader autograde, student by student: grade submitted/*/<lesson>")
    step.add_argument("lessons", nargs="+", help="lesson names")
    step.add_argument("--student", action="append", default=[], help="only this student (repeat for several)")
    step.add_argument("--force", action="store_true", help="also grade submissions graded before and unchanged since")
    for name, text in [("feedback", "nbgrader generate_feedback: HTML feedback per student"),
                       ("check", "locked cells edited or deleted in the submissions")]:
        step = commands.add_parser(name, help=text)
        step.add_argument("lessons", nargs="+", help="lesson names")
    for name, text in [("export", "nbgrader export: grades CSV"), ("grades", "export, then print the grades")]:
        step = commands.add_parser(name, help=text)
        step.add_argument("--to", type=Path, help=f"CSV file (default: <course dir>/{GRADES_CSV})")
    args = parser.parse_args(argv)
    course = args.course_dir.resolve() if args.course_dir else None
    try:
        if args.command == "release":
            for path in release(args.lessons, course, args.out, lang=args.lang):
                print(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path)
        elif args.command == "autograde":
            for lesson in args.lessons:
                autograde(lesson, course, students=args.student, force=args.force)
        elif args.command == "feedback":
            for lesson in args.lessons:
                print(feedback(lesson, course).strip())
        elif args.command == "check":
            problems = [problem for lesson in args.lessons for problem in check_integrity(lesson, course)]
            print("\n".join(problems) if problems else "every submission's locked cells match the release")
        else:
            path = export(args.to, course)
            print(path)
            if args.command == "grades":
                print(grade_table(read_grades(path), needs_manual_grade(course)))
    except (GradingError, editions.EditionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
