"""Seconds per submission per lesson for nbgrader's autograder, with the course's config.

    .venv/bin/python benchmarks/bench_autograde.py [--students 3] [LESSON ...]

Releases the lessons into a temporary course directory, hands in ``--students`` copies of the
reference submission (every solution filled in) per lesson, autogrades them student by student
(tools/grading.py, so the demonstrations tagged ``autograde-skip`` are skipped) and prints one
JSON object: seconds per submission for each lesson (median and maximum), and the points earned.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    import nbformat

    from tools import grading

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="default: every lesson")
    parser.add_argument("--students", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        course = Path(folder)
        editions = grading.release(args.lessons, course=course, out=course / "student")
        results = {}
        for edition in editions:
            lesson = edition.stem
            source = nbformat.read(ROOT / "lessons" / edition.name, as_version=4)
            for number in range(args.students):
                target = course / "submitted" / f"student{number + 1:02d}" / lesson
                target.mkdir(parents=True)
                nbformat.write(grading.reference_submission(nbformat.read(edition, as_version=4), source), target / edition.name)
            seconds = []
            for number in range(args.students):
                started = time.perf_counter()
                grading.autograde(lesson, course=course, students=[f"student{number + 1:02d}"], report=lambda line: None)
                seconds.append(time.perf_counter() - started)
            results[lesson] = {"submissions": args.students, "median_s": round(statistics.median(seconds), 1),
                               "max_s": round(max(seconds), 1)}
            print(lesson, results[lesson], file=sys.stderr, flush=True)
        grading.export(course / "grades.csv", course=course)
        for row in grading.read_grades(course / "grades.csv"):
            results[row["assignment"]].setdefault("scores", []).append(f"{float(row['score']):g}/{float(row['max_score']):g}")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
