"""The course's Romanian terminology: the glossary of lessons/README.md, checked on every Romanian text.

The glossary's third column lists rejected variants (`caiet`, `deplasament`, ...). A variant matches
case-insensitively at the start of a word, with any ending. The Romanian texts are: the ``lang:ro``
markdown cells of lessons/*.ipynb and apps/*.ipynb, the Romanian argument of every ``tr(en, ro)`` call
(lesson code cells, utils/, webapp/), the ``ro`` texts of webapp/static/app.js and the Romanian halves
(from "## Română" on) of the READMEs and the instructor guide.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "lessons" / "README.md"
DOCS = [ROOT / "README.md", ROOT / "webapp" / "README.md", ROOT / "docs" / "instructor_guide.md"]
ROMANIAN_HEADING = re.compile(r"^## Română\s*$", re.MULTILINE)


def rejected_variants(readme: Path = GLOSSARY) -> list[str]:
    """The backticked items of the glossary table's third column."""
    text = readme.read_text(encoding="utf-8")
    start = text.index("## 4. Glossary")
    end = text.find("\n## ", start + 1)
    section = text[start:] if end < 0 else text[start:end]
    variants = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and not set(cells[0]) <= set("-"):
            variants += re.findall(r"`([^`]+)`", cells[2])
    return variants


def find_rejected(text: str, variants: list[str]) -> list[str]:
    """Each rejected variant that ``text`` uses, with its context."""
    found = []
    for variant in variants:
        pattern = r"(?<![\w-])" + (re.escape(variant[:-1]) + r"(?![\w-])" if variant.endswith("!") else re.escape(variant))
        for match in re.finditer(pattern, text, re.IGNORECASE):
            found.append(f"{variant!r} in …{text[max(0, match.start() - 40):match.end() + 40]}…".replace("\n", " "))
    return found


def romanian_tr_arguments(source: str) -> list[str]:
    """The source text of the second argument of every ``tr(en, ro)`` call (IPython lines skipped)."""
    source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [ast.get_source_segment(source, node.args[1]) or "" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"
            and len(node.args) == 2]


def notebook_texts(path: Path) -> list[tuple[str, str]]:
    texts = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "markdown" and "lang:ro" in cell.metadata.get("tags", []):
            texts.append((f"{path.name} cell {index}", cell.source))
        elif cell.cell_type == "code":
            texts += [(f"{path.name} cell {index} tr()", arg) for arg in romanian_tr_arguments(cell.source)]
    return texts


def python_texts(path: Path) -> list[tuple[str, str]]:
    return [(f"{path.relative_to(ROOT)} tr()", arg) for arg in romanian_tr_arguments(path.read_text(encoding="utf-8"))]


def app_js_texts(path: Path) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8")
    block = re.search(r"^  ro: \{\n(.*?)^  \},", text, re.MULTILINE | re.DOTALL)
    return [(f"{path.relative_to(ROOT)} TEXTS.ro", block.group(1))] if block else []


def doc_texts(path: Path) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8")
    match = ROMANIAN_HEADING.search(text)
    return [(f"{path.relative_to(ROOT)} (ro)", text[match.start():])] if match else []


def romanian_texts() -> list[tuple[str, str]]:
    texts = []
    for path in sorted((ROOT / "lessons").glob("*.ipynb")) + sorted((ROOT / "apps").glob("*.ipynb")):
        texts += notebook_texts(path)
    for folder in ("utils", "webapp"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            texts += python_texts(path)
    texts += app_js_texts(ROOT / "webapp" / "static" / "app.js")
    for path in DOCS:
        texts += doc_texts(path)
    return texts


def test_the_glossary_lists_rejected_variants():
    variants = rejected_variants()
    for must in ("caiet", "deplasament", "descompunere a ponderilor", "valoarea așteptată", "dispersi"):
        assert must in variants, f"the glossary of lessons/README.md should reject {must!r}"


def test_every_source_of_romanian_text_is_read():
    where = {name.split(" ")[0] for name, _ in romanian_texts()}
    for must in ("01_images_bgr_rgb.ipynb", "05_inside_the_network.ipynb", "utils/viz.py", "utils/widgets/model.py",
                 "webapp/static/app.js", "README.md", "webapp/README.md", "docs/instructor_guide.md"):
        assert must in where, f"no Romanian text read from {must}"


# Sources whose Romanian has not been rewritten to the glossary yet (issue 19, in progress): the check
# skips them, and fails as soon as one of them is clean, so the list can only shrink.
NOT_YET_REVIEWED: set[str] = set()


def _source(where: str) -> str:
    return where.split(" ")[0]


def test_romanian_texts_use_the_glossary():
    variants = rejected_variants()
    problems = [f"{where}: {hit}" for where, text in romanian_texts() if _source(where) not in NOT_YET_REVIEWED
                for hit in find_rejected(text, variants)]
    assert not problems, "rejected terms (see the glossary in lessons/README.md):\n" + "\n".join(problems)


def test_the_not_yet_reviewed_list_only_holds_sources_with_rejected_terms():
    variants = rejected_variants()
    dirty = {_source(where) for where, text in romanian_texts() if find_rejected(text, variants)}
    clean = NOT_YET_REVIEWED - dirty
    assert not clean, f"no rejected term left in {sorted(clean)}: remove them from NOT_YET_REVIEWED"


# ------------------------------------------------------------------ the checker itself can fail

@pytest.mark.parametrize("planted", ["Deschideți caietul Jupyter", "un deplasament b", "cu descompunere a ponderilor",
                                     "valoarea așteptată a ieșirii", "dropout-ul oprește", "Dispersia pixelilor"])
def test_a_planted_rejected_term_is_found(planted):
    assert find_rejected(planted, rejected_variants())


def test_words_that_only_contain_a_variant_pass():
    variants = rejected_variants()
    assert not find_rejected("bias (termen liber), biasul; dropoutul; un nivel de referință; notebookul", variants)
    assert not find_rejected("pooling (subeșantionare), poolingul; un widget; hărțile de trăsături", variants)


def test_a_planted_notebook_cell_and_tr_call_are_found(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("The notebook", metadata={"tags": ["lang:en"]}),
                nbformat.v4.new_markdown_cell("Caietul", metadata={"tags": ["lang:ro"]}),
                nbformat.v4.new_code_cell('print(tr(f"{n} offsets", f"{n} deplasamente"))\n%matplotlib inline')]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    hits = [hit for _, text in notebook_texts(path) for hit in find_rejected(text, rejected_variants())]
    assert len(hits) == 2, hits
    module = tmp_path / "bad.py"
    module.write_text('label = tr("the notebook", "caietul")\nother = tr("notebook", "notebookul")\n', encoding="utf-8")
    assert [text for _, text in romanian_tr_arguments_of(module)] == ['"caietul"', '"notebookul"']


def romanian_tr_arguments_of(path: Path) -> list[tuple[str, str]]:
    return [(str(path), arg) for arg in romanian_tr_arguments(path.read_text(encoding="utf-8"))]
