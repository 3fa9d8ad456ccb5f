"""tools/editions.py: single-language editions and nbgrader student editions of every lesson."""

import hashlib
import re
import subprocess
import sys
import time

import nbformat
import pytest
from lesson_files import is_manual_answer, lang_of, lesson_paths, read
from nbclient import NotebookClient

from tools import editions
from utils.constants import PROJECT_ROOT

LESSONS = lesson_paths()
ids = [p.stem for p in LESSONS]


def region_lines(source: str, begin: str, end: str) -> list[str]:
    """The stripped lines between ``begin`` and ``end`` markers (all regions of a cell)."""
    lines, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line.strip())
    return lines


def outside_regions(notebook, begin: str, end: str) -> set[str]:
    """Every stripped line of the notebook's code cells that is not inside a ``begin``/``end`` region."""
    lines, inside = set(), False
    for cell in notebook.cells:
        for line in cell.source.splitlines():
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            elif not inside:
                lines.add(line.strip())
    return lines


def secret_lines(notebook, begin: str, end: str) -> set[str]:
    """Lines inside the regions that would give something away: non-trivial and not also shown elsewhere."""
    shown = outside_regions(notebook, begin, end)
    secret = set()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for line in region_lines(cell.source, begin, end):
                if len(line) >= 8 and not line.startswith("#") and line not in shown and line not in ("pass", "return None"):
                    secret.add(line)
    return secret


def digest(paths) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


# --------------------------------------------------------------------------- language editions


@pytest.fixture(scope="module")
def language_editions(tmp_path_factory):
    out = tmp_path_factory.mktemp("editions")
    before = digest(LESSONS)
    for lang in ("en", "ro"):
        editions.build_language_editions(lang, out, names=ids)
    assert digest(LESSONS) == before, "building editions must not touch lessons/"
    return out


@pytest.mark.parametrize("lang", ["en", "ro"])
@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_language_edition_has_one_language(language_editions, path, lang):
    source = read(path)
    edition = read(language_editions / lang / path.name)
    other = "ro" if lang == "en" else "en"
    assert not [c for c in edition.cells if lang_of(c) == other], f"the {lang} edition has {other} cells"
    kept = [c.source for c in edition.cells if c.cell_type == "markdown" and not is_manual_answer(c)]
    assert kept == [c.source for c in source.cells if lang_of(c) == lang], "all of this language's theory, in order"
    answers = [c.source for c in source.cells if is_manual_answer(c)]
    assert [c.source for c in edition.cells if is_manual_answer(c)] == answers, "both editions keep the written answers"
    assert len(kept) * 2 + len(answers) == sum(c.cell_type == "markdown" for c in source.cells)
    language_cell = [c for c in edition.cells if "language" in c.metadata.get("tags", [])]
    assert len(language_cell) == 1 and f'set_language("{lang}")' in language_cell[0].source
    assert f'set_language("{other}")' not in language_cell[0].source
    source_code = [c for c in source.cells if c.cell_type == "code"]
    edition_code = [c for c in edition.cells if c.cell_type == "code"]
    assert [c.metadata.get("nbgrader") for c in edition_code] == [c.metadata.get("nbgrader") for c in source_code]
    for mine, theirs in zip(edition_code, source_code):
        if "language" in theirs.metadata.get("tags", []) or "utils.i18n import" in theirs.source:
            continue
        if editions.is_locked(theirs):
            assert mine.source == theirs.source, "graded, locked cells are the same in both editions"
            continue
        assert mine.source == editions.resolve_tr_calls(theirs.source, lang), "code changes only where tr(...) is resolved"
    leftover = [c.source for c in edition_code if re.search(r"\btr\b", editions._TR_IMPORT.sub("", c.source))
                and not editions.is_locked(c)]
    assert not leftover, f"the {lang} edition still calls tr(...): {leftover[:2]}"
    assert edition.metadata["language"] == lang and edition.metadata["kernelspec"] == source.metadata["kernelspec"]


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_both_editions_can_be_graded_in_one_gradebook(language_editions, path):
    """nbgrader restores graded and locked cells from the release by grade_id: they must not differ by language."""
    def locked(lang):
        return {c.metadata["nbgrader"]["grade_id"]: c.source
                for c in read(language_editions / lang / path.name).cells if editions.is_locked(c)}

    english, romanian = locked("en"), locked("ro")
    assert english and english == romanian


def test_locked_cells_keep_their_tr_calls_and_still_speak_the_edition_language():
    notebook = nbformat.v4.new_notebook()
    test_cell = 'assert 1 + 1 == 2, tr("arithmetic", "aritmetică")'
    notebook.cells = [
        nbformat.v4.new_code_cell('from utils.i18n import set_language, tr\nset_language("en")', metadata={"tags": ["language"]}),
        nbformat.v4.new_code_cell('print(tr("hello", "salut"))'),
        nbformat.v4.new_code_cell(test_cell, metadata={"nbgrader": {"grade": True, "locked": True, "grade_id": "t", "points": 1}}),
    ]
    edition = editions.language_edition(notebook, "ro")
    assert edition.cells[1].source == 'print("salut")'
    assert edition.cells[2].source == test_cell
    assert "tr" in edition.cells[0].source, "the import stays while a locked cell calls tr"
    namespace: dict = {}
    exec(edition.cells[0].source, namespace)
    exec('message = tr("arithmetic", "aritmetică")', namespace)
    assert namespace["message"] == "aritmetică"
    namespace["set_language"]("en")


def test_resolve_tr_calls_keeps_the_chosen_argument_verbatim():
    resolve = editions.resolve_tr_calls
    source = (
        'print(tr(f"{n:,} faces", f"{n} fețe"), tr("ș", "ț"))\n'
        '%matplotlib inline\n'
        'label = tr("first line "\n          "second", "rând")\n'
        'title = tr("outer", tr("inner ă", "interior"))\n'
        'other = translate("a", "b"); tr("only one")\n'
    )
    assert resolve(source, "en") == (
        'print(f"{n:,} faces", "ș")\n'
        '%matplotlib inline\n'
        'label = ("first line "\n          "second")\n'
        'title = "outer"\n'
        'other = translate("a", "b"); tr("only one")\n'
    )
    assert resolve(source, "ro").splitlines()[3] == 'title = "interior"'
    assert resolve("def broken(:\n    tr('a', 'b')", "ro") == "def broken(:\n    tr('a', 'b')", "invalid cells stay as they are"
    namespace = {"n": 1234}
    exec(resolve('text = tr(f"{n:,} faces", f"{n} fețe")', "ro"), namespace)
    assert namespace["text"] == "1234 fețe"


def test_language_edition_drops_the_unused_tr_import():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell('from utils.i18n import set_language, tr\nset_language("en")', metadata={"tags": ["language"]}),
        nbformat.v4.new_code_cell('print(tr("hello", "salut"))'),
    ]
    edition = editions.language_edition(notebook, "ro")
    assert edition.cells[0].source == 'from utils.i18n import set_language\nset_language("ro")'
    assert edition.cells[1].source == 'print("salut")'
    assert "tr(" in notebook.cells[1].source, "the source notebook is untouched"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_romanian_edition_executes_offline(language_editions, path, record_timing, monkeypatch):
    """The Romanian edition (tr(...) resolved to Romanian strings) runs top to bottom like its source."""
    from utils.data import PROJECT_ROOT as ROOT

    if (ROOT / "data" / "fer2013").exists():
        pytest.skip("data/fer2013 exists here, so the lesson would find FER2013 without $FER2013_DIR")
    monkeypatch.delenv("FER2013_DIR", raising=False)
    notebook = read(language_editions / "ro" / path.name)
    client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(PROJECT_ROOT / "lessons")}})
    start = time.perf_counter()
    client.execute()
    record_timing(f"notebook {path.name} (Romanian edition, offline)", time.perf_counter() - start)
    errors = [f"{o.ename}: {o.evalue}" for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors


def test_language_command_line(tmp_path):
    result = subprocess.run([sys.executable, "tools/editions.py", "language", "--lang", "ro", "--out", str(tmp_path)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "ro").glob("*.ipynb")) == [p.name for p in lesson_paths()]


def test_bad_requests_are_refused(tmp_path):
    with pytest.raises(editions.EditionError, match="no lesson named"):
        editions.build_language_editions("en", tmp_path, names=["99_nothing"])
    with pytest.raises(editions.EditionError, match="--lang"):
        editions.language_edition(read(LESSONS[0]), "fr")
    with pytest.raises(editions.EditionError, match="never write into"):
        editions.build_student_editions(PROJECT_ROOT / "lessons" / "student", names=[LESSONS[0].stem])
    with pytest.raises(editions.EditionError, match="never write into"):
        editions.build_language_editions("ro", PROJECT_ROOT / "lessons")
    result = subprocess.run([sys.executable, "tools/editions.py", "language", "--lang", "en", "--out", str(tmp_path), "99_nothing"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "no lesson named" in result.stderr


def test_a_lesson_without_language_cell_is_refused():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(editions.EditionError, match="language"):
        editions.language_edition(notebook, "ro")


# --------------------------------------------------------------------------- student editions


@pytest.fixture(scope="module")
def student_editions(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    course = tmp_path_factory.mktemp("nbgrader")
    before = digest(LESSONS)
    written = editions.build_student_editions(out, names=ids, course_dir=course)
    assert digest(LESSONS) == before, "building student editions must not touch lessons/"
    assert [p.name for p in written] == [p.name for p in LESSONS]
    return out


@pytest.mark.grading
@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_student_edition_has_no_solutions(student_editions, path):
    source = read(path)
    student = read(student_editions / path.stem / path.name)
    text = "\n".join(c.source for c in student.cells)
    assert "### BEGIN SOLUTION" not in text and "### END SOLUTION" not in text
    secrets = secret_lines(source, "### BEGIN SOLUTION", "### END SOLUTION")
    assert secrets, f"{path.name}: no solution lines found in the source"
    student_lines = {line.strip() for line in text.splitlines()}
    leaked = secrets & student_lines
    assert not leaked, f"{path.name}: solution code in the student edition: {sorted(leaked)[:5]}"
    solutions = [c for c in student.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    assert solutions and all("raise NotImplementedError()" in c.source for c in solutions)
    # what the student must write is still described: signatures stay outside the markers
    for cell in solutions:
        assert re.search(r"^def \w+\(", cell.source, re.M) or "YOUR CODE HERE" in cell.source


@pytest.mark.grading
@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_student_edition_has_no_hidden_tests(student_editions, path):
    source = read(path)
    student = read(student_editions / path.stem / path.name)
    text = "\n".join(c.source for c in student.cells)
    assert "### BEGIN HIDDEN TESTS" not in text and "### END HIDDEN TESTS" not in text
    secrets = secret_lines(source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
    assert secrets, f"{path.name}: no hidden test lines found in the source"
    leaked = secrets & {line.strip() for line in text.splitlines()}
    assert not leaked, f"{path.name}: hidden tests in the student edition: {sorted(leaked)[:5]}"
    graded = [c for c in student.cells if c.metadata.get("nbgrader", {}).get("grade")]
    source_graded = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(graded) == len(source_graded) >= 4, "every graded cell is there, with its visible tests"
    for cell in graded:
        if is_manual_answer(cell):                   # the student's own text: emptied, for the teacher to grade
            assert cell.source.strip() == "YOUR ANSWER HERE" and not cell.metadata["nbgrader"].get("locked")
            continue
        assert "assert" in cell.source and cell.metadata["nbgrader"].get("checksum"), "locked and checksummed for autograding"
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.grading
@pytest.mark.notebooks
@pytest.mark.parametrize("path", [p for p in LESSONS if p.stem.startswith("01_")], ids=lambda p: p.stem)
def test_unsolved_student_edition_runs_to_the_end(student_editions, path, record_timing):
    """A student can run the whole lesson before solving anything: only the graded cells fail, with NotImplementedError."""
    notebook = read(student_editions / path.stem / path.name)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(PROJECT_ROOT / "lessons")}})
    start = time.perf_counter()
    client.execute()
    record_timing(f"student edition {path.name} (unsolved)", time.perf_counter() - start)
    failing = []
    for cell in notebook.cells:
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors:
            failing.append((cell.metadata.get("nbgrader", {}).get("grade", False), errors[0].ename))
    graded = sum(1 for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade"))
    assert failing == [(True, "NotImplementedError")] * graded, failing


@pytest.mark.grading
def test_student_command_line_single_language(tmp_path):
    lesson = LESSONS[0].stem
    result = subprocess.run([sys.executable, "tools/editions.py", "student", "--lang", "ro", "--out", str(tmp_path / "student"),
                             "--course-dir", str(tmp_path / "course"), lesson],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    student = read(tmp_path / "student" / "ro" / lesson / f"{lesson}.ipynb")
    assert not [c for c in student.cells if lang_of(c) == "en"]
    language_cell = next(c for c in student.cells if "language" in c.metadata.get("tags", []))
    assert 'set_language("ro")' in language_cell.source
    assert "### BEGIN SOLUTION" not in "\n".join(c.source for c in student.cells)
    assert not [c.source for c in student.cells if c.cell_type == "code" and not editions.is_locked(c)
                and re.search(r"\btr\b", editions._TR_IMPORT.sub("", c.source))], \
        "a single-language student edition reads as plain Python: no tr(...) outside the graded, locked cells"
    assert (tmp_path / "course" / "source" / lesson / f"{lesson}.ipynb").exists(), "the nbgrader course directory is kept"


# The autograde round trip of every lesson (untouched vs solved) lives in tests/test_grading.py.
