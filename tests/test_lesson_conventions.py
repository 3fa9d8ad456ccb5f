"""The rules of lessons/README.md, checked on every lesson notebook."""

import re

import pytest
from lesson_files import is_manual_answer, lang_of, lesson_paths, read

LESSONS = lesson_paths()
ids = [p.stem for p in LESSONS]


def test_there_are_lessons():
    assert LESSONS, "no lesson notebooks found in lessons/"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_stored_without_outputs(path):
    for index, cell in enumerate(read(path).cells):
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name} cell {index} has outputs: strip them"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_every_theory_cell_has_its_pair_in_the_other_language(path):
    cells = read(path).cells
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown" or is_manual_answer(cell):
            continue
        lang = lang_of(cell)
        assert lang in ("en", "ro"), f"{path.name} markdown cell {index} has no lang:en / lang:ro tag"
        if lang == "en":
            twin = cells[index + 1] if index + 1 < len(cells) else None
            assert twin is not None and twin.cell_type == "markdown" and lang_of(twin) == "ro", (
                f"{path.name} cell {index} (lang:en) is not followed by its lang:ro twin")
            english, romanian = cell.source, twin.source
            # the twins have the same structure: headings, formulas, list items, images
            for what, pattern in [("headings", r"(?m)^#+ "), ("display formulas", r"\$\$"),
                                  ("list items", r"(?m)^\s*(?:[-*]|\d+\.) "), ("images", r"!\[")]:
                assert len(re.findall(pattern, english)) == len(re.findall(pattern, romanian)), (
                    f"{path.name} cells {index}/{index + 1}: different number of {what}")
        else:
            previous = cells[index - 1] if index else None
            assert previous is not None and lang_of(previous) == "en", (
                f"{path.name} cell {index} (lang:ro) does not follow its lang:en twin")


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_romanian_uses_comma_below_diacritics(path):
    text = "\n".join(c.source for c in read(path).cells if lang_of(c) == "ro")
    assert re.search("[ăâîșțĂÂÎȘȚ]", text), f"{path.name}: Romanian text without diacritics?"
    assert not re.search("[şţŞŢ]", text), f"{path.name}: use ș/ț (comma below), not ş/ţ (cedilla)"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_language_cell_comes_first(path):
    code = [c for c in read(path).cells if c.cell_type == "code"]
    assert code and "language" in code[0].metadata.get("tags", []), f"{path.name}: first code cell must be tagged 'language'"
    assert 'set_language("en")' in code[0].source


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_exercises_follow_nbgrader_conventions(path):
    cells = read(path).cells
    manual = [i for i, c in enumerate(cells) if is_manual_answer(c)]
    solutions = [i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("solution") and i not in manual]
    graded = [i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade") and i not in manual]
    assert len(graded) >= 4, f"{path.name}: at least four autograded exercises"
    for i in manual:
        meta = cells[i].metadata["nbgrader"]
        assert not meta.get("locked") and meta.get("points", 0) > 0, f"{path.name} cell {i}: a manual answer is editable and gives points"
        assert i >= 2 and lang_of(cells[i - 2]) == "en" and lang_of(cells[i - 1]) == "ro", (
            f"{path.name} cell {i}: a manual answer comes right after its bilingual task (lang:en, lang:ro)")
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            assert i in manual, f"{path.name} cell {i}: a markdown answer must be a graded, tagged 'answer' cell"
    grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in cells if "nbgrader" in c.metadata]
    assert len(grade_ids) == len(set(grade_ids)), f"{path.name}: grade_id values must be unique"
    for i in solutions:
        cell = cells[i]
        assert cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    for i in graded:
        meta = cells[i].metadata["nbgrader"]
        assert meta.get("locked") and meta.get("points", 0) > 0, f"{path.name} cell {i}: graded cells are locked and give points"
        assert "### BEGIN HIDDEN TESTS" in cells[i].source, f"{path.name} cell {i}: graded cells have hidden tests"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_lesson_has_goals_recap_and_questions(path):
    english = "\n".join(c.source for c in read(path).cells if lang_of(c) == "en").lower()
    for section in ("goals", "recap", "check your understanding"):
        assert section in english, f"{path.name}: missing a '{section}' section"


def test_lesson_05_speaks_of_limits_and_ethics_before_the_first_upload():
    path = next(p for p in LESSONS if p.stem.startswith("05_"))
    cells = read(path).cells
    upload = next(i for i, c in enumerate(cells) if c.cell_type == "code" and "photo_predictor(" in c.source
                  and not c.source.lstrip().startswith(("import", "from")))
    for lang, heading in (("en", "Limits and ethics"), ("ro", "Limite și etică")):
        ethics = [i for i, c in enumerate(cells) if lang_of(c) == lang and heading in c.source]
        assert ethics and ethics[0] < upload, f"{path.name}: the {lang} '{heading}' section must come before the upload widget"
        text = cells[ethics[0]].source
        for must in ("2024/1689", "5(1)(f)" if lang == "en" else "alineatul (1) litera (f)", "Barrett", "FER+"):
            assert must in text, f"{path.name}: the {lang} ethics section names {must}"


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_questions_have_answers_and_the_lesson_has_references(path):
    """Check-your-understanding answers in collapsible cells and a reading list, in both languages."""
    cells = read(path).cells
    for language, questions, references in (("en", "## Check your understanding", "## References"),
                                            ("ro", "## Întrebări de verificare", "## Bibliografie")):
        theory = [c.source for c in cells if c.cell_type == "markdown" and lang_of(c) == language]
        start = next(i for i, s in enumerate(theory) if s.startswith(questions))
        asked = len(re.findall(r"^\d+\.", theory[start], re.M))
        after = "\n".join(theory[start + 1:])
        assert "<details>" in after and "</details>" in after, f"{path.name} ({language}): no collapsible answers"
        summaries = after.count("<summary>")
        assert summaries == 1 or summaries >= asked, f"{path.name} ({language}): {asked} questions, {summaries} answers"
        assert any(s.startswith(references) for s in theory[start + 1:]), f"{path.name} ({language}): no references"
