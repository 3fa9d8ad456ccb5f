"""Build the editions of the lessons from their bilingual instructor source in lessons/.

    python -m tools.editions language --lang ro      # (or python tools/editions.py ...) -> build/editions/ro/<lesson>.ipynb
    python tools/editions.py language --lang en      # -> build/editions/en/<lesson>.ipynb
    python tools/editions.py student                 # -> build/student/<lesson>/<lesson>.ipynb
    python tools/editions.py student --lang ro       # -> build/student/ro/<lesson>/<lesson>.ipynb

``language`` keeps only one language's theory cells (tags ``lang:en`` / ``lang:ro``) and
switches the ``language`` cell to ``set_language("<lang>")``; in code cells every
``tr(english, romanian)`` call becomes its ``lang`` argument (:func:`resolve_tr_calls`), so the
notebook a student opens reads as plain Python in its language -- except in the graded, locked
cells, which stay the same in both editions (:func:`is_locked`). The instructor source keeps both.

``student`` runs nbgrader's own ``generate_assignment`` on every lesson: solutions between
``### BEGIN SOLUTION`` / ``### END SOLUTION`` become ``# YOUR CODE HERE`` +
``raise NotImplementedError()``, hidden tests are removed, outputs cleared, graded cells
locked and checksummed. It works in an nbgrader course directory under build/
(``build/nbgrader[/<lang>]``: ``source/<lesson>/<lesson>.ipynb``, ``release/...``, gradebook),
configured by the repository's nbgrader_config.py, which the instructor keeps using for
``nbgrader autograde`` (see tools/grading.py and docs/instructor_guide.md). Nothing is written into
lessons/. Give lesson names (e.g. ``01_images_bgr_rgb``) to build only those.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LESSONS_DIR = PROJECT_ROOT / "lessons"
LANGUAGES = ("en", "ro")
_SET_LANGUAGE = re.compile(r"""set_language\(\s*["'](\w+)["']\s*\)""")


class EditionError(Exception):
    """A lesson that cannot be turned into an edition, with what to fix."""


def _refuse_lessons_dir(*paths: Path) -> None:
    """The instructor's source is never overwritten: no output may land in lessons/."""
    lessons = LESSONS_DIR.resolve()
    for path in paths:
        resolved = Path(path).resolve()
        if resolved == lessons or lessons in resolved.parents:
            raise EditionError(f"the editions never write into {LESSONS_DIR}: choose another --out / --course-dir than {path}")


def lesson_paths(lessons_dir: Path = LESSONS_DIR, names: Sequence[str] = ()) -> list[Path]:
    """The lesson notebooks ``NN_*.ipynb`` in order, or only those named (by stem or file name)."""
    paths = sorted(Path(lessons_dir).glob("[0-9][0-9]_*.ipynb"))
    if names:
        wanted = {Path(name).stem for name in names}
        missing = wanted - {p.stem for p in paths}
        if missing:
            raise EditionError(f"no lesson named {sorted(missing)} in {lessons_dir}; there are {[p.stem for p in paths]}")
        paths = [p for p in paths if p.stem in wanted]
    if not paths:
        raise EditionError(f"no lesson notebooks (NN_*.ipynb) in {lessons_dir}")
    return paths


def language_of(cell) -> str | None:
    """'en' or 'ro' for a theory cell tagged ``lang:..``, else None (shared cells)."""
    tags = cell.get("metadata", {}).get("tags", [])
    found = [tag.split(":", 1)[1] for tag in tags if tag.startswith("lang:")]
    return found[0] if found else None


_MAGIC_LINE = re.compile(r"^\s*[%!]")
_TR_IMPORT = re.compile(r"^(\s*from utils\.i18n import )(.+)$", re.MULTILINE)


def resolve_tr_calls(source: str, lang: str) -> str:
    """``source`` with every ``tr(en, ro)`` call replaced by the source text of its ``lang`` argument.

    Only calls with exactly two positional arguments are rewritten; anything else named ``tr``
    is left alone. IPython magics (``%``/``!`` lines) are skipped; a cell that is not valid
    Python is returned unchanged.
    """
    index = LANGUAGES.index(lang)
    lines = source.splitlines(keepends=True)
    parsable = "".join("#" + line[1:] if _MAGIC_LINE.match(line) else line for line in lines)
    try:
        tree = ast.parse(parsable)
    except SyntaxError:
        return source
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
             and node.func.id == "tr" and len(node.args) == 2 and not node.keywords]
    # Offsets of each line's start, so (line, column) positions become string offsets.
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    edits = []
    for call in calls:
        chosen = call.args[index]
        segment = ast.get_source_segment(parsable, chosen)
        if segment is None:
            continue
        if "\n" in segment:
            segment = f"({segment})"  # the call's parentheses held its lines together
        begin = starts[call.lineno - 1] + _utf8_column(lines[call.lineno - 1], call.col_offset)
        end = starts[call.end_lineno - 1] + _utf8_column(lines[call.end_lineno - 1], call.end_col_offset)
        edits.append((begin, end, segment))
    # Outermost calls only (a tr inside a chosen argument is resolved by the next pass).
    edits.sort()
    outer, last_end = [], -1
    for begin, end, segment in edits:
        if begin >= last_end:
            outer.append((begin, end, segment))
            last_end = end
    for begin, end, segment in reversed(outer):
        source = source[:begin] + segment + source[end:]
    return resolve_tr_calls(source, lang) if outer else source


def _utf8_column(line: str, byte_offset: int) -> int:
    """``ast`` columns count UTF-8 bytes; Python strings count characters."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8"))


def _drop_unused_tr_import(cells: list) -> None:
    """Remove ``tr`` from the ``from utils.i18n import ...`` lines once no code cell uses it."""
    code = [cell for cell in cells if cell.cell_type == "code"]
    if any(re.search(r"\btr\b", _TR_IMPORT.sub("", cell.source)) for cell in code):
        return

    def without_tr(match: re.Match) -> str:
        names = [name.strip() for name in match.group(2).split(",") if name.strip() != "tr"]
        return match.group(1) + ", ".join(names) if names else ""

    for cell in code:
        if _TR_IMPORT.search(cell.source):
            cell.source = re.sub(r"\n{3,}", "\n\n", _TR_IMPORT.sub(without_tr, cell.source)).strip("\n")


def is_locked(cell) -> bool:
    """Whether nbgrader restores this cell from the release when it grades (graded tests, locked cells).

    Such cells keep their ``tr(english, romanian)`` calls in both editions, so they are the same
    text in English and Romanian: one gradebook grades either edition, cell for cell by
    ``grade_id``, and the checksums match (an edited cell is still caught). Their messages
    still come out in the edition's language, since ``tr`` follows ``set_language``.
    """
    grading = cell.get("metadata", {}).get("nbgrader", {})
    return bool(grading.get("locked") or grading.get("grade"))


def language_edition(notebook: nbformat.NotebookNode, lang: str) -> nbformat.NotebookNode:
    """A copy of a bilingual lesson with only ``lang``'s theory cells and the language cell switched."""
    if lang not in LANGUAGES:
        raise EditionError(f"--lang must be one of {LANGUAGES}, got {lang!r}")
    edition = nbformat.from_dict(notebook)  # deep copy: the source stays untouched
    edition.cells = [cell for cell in edition.cells if language_of(cell) in (None, lang)]
    language_cells = [cell for cell in edition.cells if "language" in cell.get("metadata", {}).get("tags", [])]
    if len(language_cells) != 1 or not _SET_LANGUAGE.search(language_cells[0].source):
        raise EditionError("a lesson needs exactly one code cell tagged 'language' containing set_language(\"en\")")
    language_cells[0].source = _SET_LANGUAGE.sub(f'set_language("{lang}")', language_cells[0].source)
    for cell in edition.cells:
        if cell.cell_type == "code" and not is_locked(cell):
            cell.source = resolve_tr_calls(cell.source, lang)
    _drop_unused_tr_import(edition.cells)
    edition.metadata["language"] = lang  # the notebook-level record of which edition this is
    return edition


def build_language_editions(lang: str, out_dir: Path, names: Sequence[str] = (), lessons_dir: Path = LESSONS_DIR) -> list[Path]:
    """Write ``out_dir/<lang>/<lesson>.ipynb`` for every lesson; return the written paths."""
    target = Path(out_dir) / lang
    _refuse_lessons_dir(target)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in lesson_paths(lessons_dir, names):
        edition = language_edition(nbformat.read(path, as_version=4), lang)
        destination = target / path.name
        nbformat.write(edition, destination)
        written.append(destination)
    return written


NBGRADER_CONFIG = PROJECT_ROOT / "nbgrader_config.py"


def course_config(course_dir: Path | None = None):
    """The course's nbgrader configuration (nbgrader_config.py), pointed at ``course_dir`` when given."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if NBGRADER_CONFIG.exists():
        config.merge(PyFileConfigLoader(NBGRADER_CONFIG.name, str(NBGRADER_CONFIG.parent)).load_config())
    if course_dir is not None:
        course_dir = Path(course_dir).resolve()
        config.CourseDirectory.root = str(course_dir)
        config.CourseDirectory.db_url = f"sqlite:///{course_dir / 'gradebook.db'}"
    return config


def default_course_dir() -> Path:
    """The course directory that nbgrader_config.py names (build/nbgrader unless FACEEXPR_COURSE_DIR says otherwise)."""
    return Path(course_config().CourseDirectory.get("root", PROJECT_ROOT / "build" / "nbgrader"))


def _nbgrader_api(course_dir: Path):
    """nbgrader's Python API on ``course_dir`` with the course's configuration (nbgrader_config.py)."""
    from nbgrader.apps import NbGraderAPI

    # A new gradebook runs the `alembic` command: make the one beside this Python findable
    # when the virtual environment is used without being activated (.venv/bin/python ...).
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    return NbGraderAPI(config=course_config(course_dir))


def build_student_editions(out_dir: Path, names: Sequence[str] = (), lang: str | None = None,
                           course_dir: Path | None = None, lessons_dir: Path = LESSONS_DIR,
                           suffix: str = "") -> list[Path]:
    """Run nbgrader generate_assignment on every lesson; write ``out_dir/<lesson>/<lesson>.ipynb``.

    With ``lang``, the single-language edition is the source and the output goes to
    ``out_dir/<lang>/<lesson>/``. With ``suffix`` (e.g. ``"_ro"``) the assignment and its
    notebook are named ``<lesson><suffix>``, so that several editions of a lesson live side by
    side in one course directory (one gradebook, one course id on the exchange).
    Returns the written student notebooks.
    """
    out_dir = Path(out_dir) / lang if lang else Path(out_dir)
    course_dir = Path(course_dir) if course_dir else default_course_dir() / (lang or "")
    course_dir = course_dir.resolve()
    _refuse_lessons_dir(out_dir, course_dir)
    api = _nbgrader_api(course_dir)
    written = []
    for path in lesson_paths(lessons_dir, names):
        lesson = path.stem + suffix
        notebook = nbformat.read(path, as_version=4)
        if lang:
            notebook = language_edition(notebook, lang)
        source_dir = course_dir / "source" / lesson
        if source_dir.exists():
            shutil.rmtree(source_dir)  # a lesson removed or renamed in lessons/ must not linger
        source_dir.mkdir(parents=True)
        nbformat.write(notebook, source_dir / f"{lesson}.ipynb")
        result = api.generate_assignment(lesson, force=True, create=True)
        if not result.get("success"):
            raise EditionError(f"nbgrader generate_assignment failed for {lesson}:\n{result.get('error') or result.get('log')}")
        released = course_dir / "release" / lesson / f"{lesson}.ipynb"
        if not released.exists():
            raise EditionError(f"nbgrader reported success for {lesson} but wrote no {released}:\n{result.get('log')}")
        destination = out_dir / lesson
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(released.parent, destination)
        written.append(destination / f"{lesson}.ipynb")
    return written


def sources_hash(lessons_dir: Path = LESSONS_DIR) -> str:
    """A hash of everything an edition is built from: the lessons, this builder and the nbgrader config."""
    import hashlib

    digest = hashlib.sha256()
    for path in [*lesson_paths(lessons_dir), Path(__file__).resolve(), NBGRADER_CONFIG]:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


STAMP = ".sources-sha256"


def is_stale(out_dir: Path, lessons_dir: Path = LESSONS_DIR) -> bool:
    """True when ``out_dir`` was not built from the current sources (missing, or built before an edit)."""
    stamp = Path(out_dir) / STAMP
    return not stamp.exists() or stamp.read_text().strip() != sources_hash(lessons_dir)


def mark_built(out_dir: Path, lessons_dir: Path = LESSONS_DIR) -> None:
    """Record that ``out_dir`` holds the editions of the current sources."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / STAMP).write_text(sources_hash(lessons_dir) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/editions.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    language = commands.add_parser("language", help="single-language editions: build/editions/<lang>/<lesson>.ipynb")
    language.add_argument("--lang", required=True, choices=LANGUAGES)
    language.add_argument("--out", type=Path, default=PROJECT_ROOT / "build" / "editions")
    language.add_argument("lessons", nargs="*", help="lesson names (default: all)")
    language.add_argument("--if-stale", action="store_true", help="build all lessons only when lessons/ changed since the last build")
    student = commands.add_parser("student", help="student editions via nbgrader: build/student/<lesson>/<lesson>.ipynb")
    student.add_argument("--lang", choices=LANGUAGES, help="start from this single-language edition (default: bilingual)")
    student.add_argument("--out", type=Path, default=PROJECT_ROOT / "build" / "student")
    student.add_argument("--course-dir", type=Path, help="nbgrader course directory (default: build/nbgrader[/<lang>])")
    student.add_argument("lessons", nargs="*", help="lesson names (default: all)")
    student.add_argument("--if-stale", action="store_true", help="build all lessons only when lessons/ changed since the last build")
    args = parser.parse_args(argv)
    target = args.out / args.lang if args.lang else args.out
    if args.if_stale and not args.lessons and not is_stale(target):
        print(f"{target}: up to date with lessons/")
        return 0
    try:
        if args.command == "language":
            written = build_language_editions(args.lang, args.out, args.lessons)
        else:
            written = build_student_editions(args.out, args.lessons, args.lang, args.course_dir)
        if not args.lessons:
            mark_built(target)
    except EditionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
