"""The instructor's nbgrader round trip, end to end, on every lesson in lessons/.

In a temporary course directory (the repository's nbgrader_config.py, pointed there with
FACEEXPR_COURSE_DIR): release the student editions (tools/grading.py release = nbgrader
generate_assignment), hand in two submissions per lesson -- ``untouched`` (the student edition
as released) and ``solver`` (the student edition with every solution cell filled in from the
instructor's source) -- then run the plain nbgrader commands autograde, generate_feedback and
export, and check the gradebook and the grades CSV: 0 for the untouched edition, full marks
for the solved one.
"""

from __future__ import annotations

import html as htmllib
import re
import time

import nbformat
import pytest
from lesson_files import lesson_paths, read

from tools import grading

pytestmark = pytest.mark.grading

LESSONS = lesson_paths()
ids = [p.stem for p in LESSONS]
STUDENTS = ("untouched", "solver")
_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def autograded_points(notebook) -> float:
    """The points nbgrader's autograder can award: graded cells that are not answers written by hand."""
    return sum(float(nbgrader_meta(c).get("points", 0)) for c in notebook.cells
               if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution"))


def all_points(notebook) -> float:
    """Every point of the lesson: autograded tests and answers graded by hand."""
    return sum(float(nbgrader_meta(c).get("points", 0)) for c in notebook.cells if nbgrader_meta(c).get("grade"))


REFLECTION = "A student's reflection: the model reads a facial configuration, not a feeling."


def solved(student_edition, source):
    """The student edition with every solution cell's code taken from the source, markers dropped."""
    notebook = grading.reference_submission(student_edition, source, written_answer=REFLECTION)
    solutions = [c for c in source.cells if c.cell_type == "code" and nbgrader_meta(c).get("solution")]
    filled = [c for c in notebook.cells if c.cell_type == "code" and nbgrader_meta(c).get("solution")
              and "YOUR CODE HERE" not in c.source]
    assert len(filled) == len(solutions) > 0, "every solution cell of the source is in the student edition"
    assert not any(_MARKERS.match(line) for c in filled for line in c.source.splitlines())
    return notebook


def region_lines(notebook, begin: str, end: str) -> set[str]:
    """Non-trivial code lines inside ``begin``/``end`` regions that appear nowhere else in the notebook."""
    inside_lines, outside_lines = set(), set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            else:
                (inside_lines if inside else outside_lines).add(stripped)
    return {line for line in inside_lines - outside_lines
            if len(line) >= 8 and not line.startswith("#") and line not in ("pass", "return None")}


TAMPERED: list[str] = []  # the grade ids of lesson 02's test cells the tamperer edited / deleted


@pytest.fixture(scope="module")
def course(tmp_path_factory, record_timing):
    """One full round trip for all lessons; the tests below read what it left behind."""
    root = tmp_path_factory.mktemp("course")
    start = time.perf_counter()
    editions = grading.release(ids, course=root, out=root / "student")
    assert [p.stem for p in editions] == ids
    for source_path, edition_path in zip(LESSONS, editions):
        lesson = source_path.stem
        submissions = {"untouched": read(edition_path), "solver": solved(read(edition_path), read(source_path))}
        for student, notebook in submissions.items():
            folder = root / "submitted" / student / lesson
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / source_path.name)
    # Lesson 02 also gets the submissions an instructor meets in a real class.
    source_path, edition_path = LESSONS[1], editions[1]
    renamed = root / "submitted" / "renamer" / source_path.stem
    renamed.mkdir(parents=True)
    nbformat.write(solved(read(edition_path), read(source_path)), renamed / f"{source_path.stem} (1).ipynb")
    tampered = solved(read(edition_path), read(source_path))
    tests = [c for c in tampered.cells if c.cell_type == "code" and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("locked")]
    tests[0].source = "assert True"
    tampered.cells.remove(tests[1])
    (root / "submitted" / "tamperer" / source_path.stem).mkdir(parents=True)
    nbformat.write(tampered, root / "submitted" / "tamperer" / source_path.stem / source_path.name)
    TAMPERED[:] = [nbgrader_meta(tests[0])["grade_id"], nbgrader_meta(tests[1])["grade_id"]]
    for lesson in ids:
        lesson_start = time.perf_counter()
        grading.autograde(lesson, course=root)
        grading.feedback(lesson, course=root)
        record_timing(f"nbgrader autograde + feedback, {lesson} x {len(STUDENTS)} submissions", time.perf_counter() - lesson_start)
    # The Romanian edition of lesson 01 in the same course, as its own assignment: a student solves it.
    lesson = ids[0]
    (romanian,) = grading.release([lesson], course=root, out=root / "student", lang="ro")
    assert romanian == root / "student" / "ro" / f"{lesson}_ro" / f"{lesson}_ro.ipynb"
    assert read(romanian).metadata["language"] == "ro"
    folder = root / "submitted" / "romanian" / f"{lesson}_ro"
    folder.mkdir(parents=True)
    nbformat.write(solved(read(romanian), read(LESSONS[0])), folder / f"{lesson}_ro.ipynb")
    grading.autograde(f"{lesson}_ro", course=root)
    grading.feedback(f"{lesson}_ro", course=root)
    grading.export(root / "grades.csv", course=root)
    record_timing(f"nbgrader round trip: {len(ids)} lessons x {len(STUDENTS)} submissions", time.perf_counter() - start)
    return root


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_student_edition_hides_solutions_and_hidden_tests(course, path):
    source, edition = read(path), read(course / "release" / path.stem / path.name)
    text = "\n".join(c.source for c in edition.cells)
    for begin, end in [("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")]:
        assert begin not in text and end not in text
        secret = region_lines(source, begin, end)
        assert secret, f"{path.name} has no {begin} regions"
        leaked = secret & {line.strip() for line in text.splitlines()}
        assert not leaked, f"{path.name}: the student edition shows {sorted(leaked)[:3]}"
    assert all(c.outputs == [] for c in edition.cells if c.cell_type == "code")
    guides = [c.source.splitlines()[0] for c in source.cells if c.cell_type == "markdown" and nbgrader_meta(c).get("solution")]
    assert not any(guide in text or guide in "\n".join(c.source for c in edition.cells if c.cell_type == "markdown")
                   for guide in guides), f"{path.name}: the student edition shows a marking guide"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_autograde_scores_untouched_zero_and_solved_full(course, path):
    from nbgrader.api import Gradebook

    lesson, total, maximum = path.stem, autograded_points(read(path)), all_points(read(path))
    assert total > 0
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        untouched = gradebook.find_submission(lesson, "untouched")
        solver = gradebook.find_submission(lesson, "solver")
        assert untouched.max_score == solver.max_score == maximum
        assert untouched.score == 0, "an untouched student edition earns nothing"
        grades = [g for notebook in solver.notebooks for g in notebook.grades]
        assert solver.score == total, [(g.name, g.score, g.max_score) for g in grades
                                       if g.score != g.max_score and g.cell.cell_type == "code"]
        written = [g for g in grades if g.cell.cell_type == "markdown"]
        assert all(g.needs_manual_grade for g in written), "a written answer waits for the teacher"
        assert solver.needs_manual_grade == bool(written)
    for student in STUDENTS:
        graded = read(course / "autograded" / student / lesson / path.name)
        errors = {c.metadata["nbgrader"]["grade_id"] for c in graded.cells if c.cell_type == "code"
                  and nbgrader_meta(c).get("grade") and any(o.output_type == "error" for o in c.outputs)}
        graded_ids = {nbgrader_meta(c)["grade_id"] for c in graded.cells if c.cell_type == "code" and nbgrader_meta(c).get("grade")}
        # Hidden tests ran at autograding: they are back in the graded copy.
        assert "### BEGIN HIDDEN TESTS" in "\n".join(c.source for c in graded.cells)
        assert errors == (graded_ids if student == "untouched" else set()), f"{student}: failing graded cells {sorted(errors)}"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_feedback_html_for_every_submission(course, path):
    for student in STUDENTS:
        page = course / "feedback" / student / path.stem / f"{path.stem}.html"
        assert page.exists(), f"no feedback for {student}"
        html = page.read_text()
        assert "<html" in html.lower() and path.stem in html
    # no hidden test is quoted, in the code or in a traceback: the lines only found between the markers
    hidden_lines = region_lines(read(path), "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
    assert hidden_lines, f"{path.stem} has no hidden tests to check"
    for student in STUDENTS:
        html = (course / "feedback" / student / path.stem / f"{path.stem}.html").read_text()
        text = htmllib.unescape(re.sub(r"<[^>]+>", "", html))
        leaked = sorted(line for line in hidden_lines if line and line in text)
        assert not leaked, f"{student}'s feedback shows hidden tests: {leaked[:3]}"
        assert "BEGIN HIDDEN TESTS" not in text
    total, maximum = autograded_points(read(path)), all_points(read(path))
    solver_html = (course / "feedback" / "solver" / path.stem / f"{path.stem}.html").read_text()
    assert re.search(rf"Score:\s*{total:g}(\.0)?\s*/\s*{maximum:g}", solver_html), "the solved feedback reports every autograded point"


def test_renamed_and_tampered_submissions(course, capsys):
    lesson = LESSONS[1].stem
    folder = course / "submitted" / "renamer" / lesson
    assert (folder / f"{lesson} (1).ipynb").exists(), "the student's own file is kept"
    assert (folder / f"{lesson}.ipynb").exists() and (folder / "timestamp.txt").exists()
    problems = grading.check_integrity(lesson, course)
    assert problems == [f"{lesson} tamperer: locked cells deleted: {TAMPERED[1]}",
                        f"{lesson} tamperer: locked cells edited (restored before grading): {TAMPERED[0]}"]
    rows = {row["student_id"]: float(row["score"]) for row in grading.read_grades(course / "grades.csv") if row["assignment"] == lesson}
    total = autograded_points(read(LESSONS[1]))
    # both solved the lesson: the renamed file is graded, the edited and the deleted test are put back and pass
    assert rows["renamer"] == rows["tamperer"] == total
    graded = read(course / "autograded" / "tamperer" / lesson / f"{lesson}.ipynb")
    restored = {nbgrader_meta(c).get("grade_id"): c.source for c in graded.cells}
    assert restored[TAMPERED[0]] != "assert True" and TAMPERED[1] in restored
    # a second autograde skips what is unchanged, --force regrades
    lines = []
    grading.autograde(lesson, course=course, students=["renamer"], report=lines.append)
    assert lines == [f"[1/1] {lesson} renamer: unchanged since it was graded (--force grades it again)"] + \
        [f"warning: {p}" for p in problems]
    with pytest.raises(grading.GradingError, match="nobody"):
        grading.autograde(lesson, course=course, students=["nobody"])


def test_grade_table_has_course_totals_and_manual_flags(course):
    rows = grading.read_grades(course / "grades.csv")
    waiting = grading.needs_manual_grade(course)
    table = grading.grade_table(rows, waiting)
    maximum = sum(all_points(read(path)) for path in LESSONS)
    assert f"{'course total':<24} {'untouched':<16} {0.0:6.1f} / {maximum:.1f} (0%), {len(LESSONS)} lessons" in table
    manual = [path.stem for path in LESSONS if autograded_points(read(path)) < all_points(read(path))]
    assert manual and {(lesson, "solver") for lesson in manual} <= waiting
    assert "needs manual grade" in table


def test_the_romanian_edition_is_graded_in_the_same_gradebook(course):
    lesson = ids[0]
    rows = {(row["assignment"], row["student_id"]): row for row in grading.read_grades(course / "grades.csv")}
    mine = rows[(f"{lesson}_ro", "romanian")]
    assert float(mine["score"]) == autograded_points(read(LESSONS[0])) > 0
    assert grading.check_integrity(f"{lesson}_ro", course) == []
    feedback = (course / "feedback" / "romanian" / f"{lesson}_ro" / f"{lesson}_ro.html").read_text()
    assert "Lecția 1" in feedback and "Lesson 1 —" not in feedback, "the Romanian edition's theory, in Romanian"
    table = grading.grade_table(list(rows.values()), grading.needs_manual_grade(course))
    assert re.search(rf"^{lesson}_ro\s+romanian\s+{float(mine['score']):.1f} / ", table, re.M)
    assert re.search(rf"^{ids[1]}\s+romanian\s+0\.0 / \S+\s+not submitted", table, re.M)
    # every student counts every lesson once, whichever edition: the solver did not hand in lesson 01 in Romanian
    assert re.search(rf"^{lesson}\s+solver\s", table, re.M) and not re.search(rf"^{lesson}_ro\s+solver", table, re.M)
    assert all(f"{len(LESSONS)} lessons" in line for line in table.splitlines() if line.startswith("course total"))


def test_grade_table_counts_the_best_of_two_editions_once():
    rows = [{"assignment": "01_x", "student_id": "s", "score": "3", "max_score": "10", "timestamp": "2026-12-03 10:00"},
            {"assignment": "01_x_ro", "student_id": "s", "score": "7", "max_score": "10", "timestamp": "2026-12-03 11:00"},
            {"assignment": "02_y", "student_id": "s", "score": "0", "max_score": "5", "timestamp": ""}]
    table = grading.grade_table(rows)
    assert "01_x_ro                  s                   7.0 / 10.0  also handed in 01_x; the best counts" in table
    assert "02_y                     s                   0.0 / 5.0  not submitted" in table
    assert f"{'course total':<24} {'s':<16} {7.0:6.1f} / 15.0 (47%), 2 lessons" in table
    assert grading.lesson_of("05_inside_the_network_en") == "05_inside_the_network" == grading.lesson_of("05_inside_the_network")


def test_grades_csv_full_versus_zero(course):
    rows = [row for row in grading.read_grades(course / "grades.csv") if row["student_id"] in STUDENTS and row["assignment"] in ids]
    got = {(row["assignment"], row["student_id"]): (float(row["score"]), float(row["max_score"])) for row in rows}
    expected = {}
    for path in LESSONS:
        total, maximum = autograded_points(read(path)), all_points(read(path))
        expected[(path.stem, "untouched")] = (0.0, maximum)
        expected[(path.stem, "solver")] = (total, maximum)
    assert got == expected


def test_command_line_refuses_an_unknown_lesson(tmp_path, capsys):
    assert grading.main(["--course-dir", str(tmp_path), "release", "99_nothing"]) == 1
    assert "no lesson named" in capsys.readouterr().err


def test_plain_nbgrader_from_the_repository_root_uses_the_course_config(tmp_path):
    """`nbgrader` typed in the repository root reads nbgrader_config.py: its gradebook lands in the course directory."""
    config = grading.editions.course_config()
    assert config.Execute.timeout >= 600, "lesson 04 trains a network: nbgrader's default of 30 s per cell is too short"
    assert config.CourseDirectory.course_id == "faceexpr"
    grading.run_nbgrader("db", "student", "add", "ada", "--last-name=Lovelace", course_dir=tmp_path)
    assert (tmp_path / "gradebook.db").exists()
    assert "ada" in grading.run_nbgrader("db", "student", "list", course_dir=tmp_path)
