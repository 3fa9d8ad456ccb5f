"""Which lesson cells autograding may skip: ``python -m tools.demo_cells [--write]``.

A code cell is a *demonstration* when no graded or solution cell needs what it defines, directly
or through other cells. The analysis is static (the names each cell assigns, imports or defines,
and the names each cell reads), run backwards from the graded cells; the first two code cells
(language and imports) always run. ``--write`` stores the result as the ``autograde-skip`` tag
(tools/nbgrader_preprocessors.py skips those cells while nbgrader autogrades); without it the
command lists the cells and exits 1 when the stored tags are out of date, as the tests do.
"""

from __future__ import annotations

import argparse
import ast
import symtable
import sys
from pathlib import Path

import nbformat

try:
    from tools.nbgrader_preprocessors import SKIP_TAG
except ImportError:  # run as a script
    from nbgrader_preprocessors import SKIP_TAG

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ALWAYS_RUN = 2  # the first code cells: the language switch and the imports


def _python(source: str) -> str:
    """The cell without IPython's magics and shell lines, which ``ast`` cannot read."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _global_reads(table: symtable.SymbolTable) -> set[str]:
    """Names the functions, lambdas and comprehensions of a cell read from the notebook's globals."""
    names = set()
    for child in table.get_children():
        names |= {sym.get_name() for sym in child.get_symbols() if sym.is_referenced() and sym.is_global()}
        names |= _global_reads(child)
    return names


def defined_and_read(source: str) -> tuple[set[str], set[str]]:
    """``(names the cell binds at its top level, names it reads from earlier cells)``.

    A name counts as read from an earlier cell when a statement uses it before any earlier
    statement of the same cell bound it (``x = f(x)`` reads ``x``; ``x = 1; f(x)`` does not;
    ``for x in xs: f(x)`` does not read ``x``, whose value comes from ``xs``).
    The names local to a function or comprehension of the cell are not reads.
    """
    code = _python(source)
    try:
        tree, table = ast.parse(code), symtable.symtable(code, "<cell>", "exec")
    except SyntaxError:  # a student's broken cell: assume it needs and defines nothing
        return set(), set()
    top = {sym.get_name(): sym for sym in table.get_symbols()}
    visible = {name for name, sym in top.items() if sym.is_referenced()} | _global_reads(table)
    defined = {name for name, sym in top.items() if sym.is_assigned() or sym.is_imported() or sym.is_namespace()}
    bound_before, read = set(), set()

    def loads_of(node) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}

    def stores_of(node) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}

    def visit(statements) -> None:
        nonlocal read, bound_before
        for statement in statements:
            if isinstance(statement, (ast.For, ast.AsyncFor, ast.If, ast.While)):
                # A loop's iterable (or a test) is read first; a loop then binds its target and runs
                # its body. What the body binds may not happen (an empty loop, a false test), so
                # after the statement only the bindings made before it count.
                before = set(bound_before)
                if isinstance(statement, (ast.For, ast.AsyncFor)):
                    read |= (loads_of(statement.iter) & visible) - bound_before
                    bound_before |= stores_of(statement.target) & defined
                else:
                    read |= (loads_of(statement.test) & visible) - bound_before
                visit(statement.body)
                bound_before = set(before)
                visit(statement.orelse)
                bound_before = before
                continue
            loads = loads_of(statement)
            read |= (loads & visible) - bound_before
            stores = stores_of(statement)
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stores.add(statement.name)
            elif isinstance(statement, (ast.Import, ast.ImportFrom)):
                stores |= {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
            bound_before |= stores & defined

    visit(tree.body)
    return defined, read


def is_graded_or_solution(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade") or meta.get("solution"))


def demo_cells(nb) -> list[int]:
    """Indices of the code cells no graded or solution cell depends on."""
    code = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    if not any(is_graded_or_solution(nb.cells[index]) for index in code):
        return []  # a lesson without exercises is not autograded at all
    needed_cells = set(code[:ALWAYS_RUN])
    needed_names: set[str] = set()
    for index in reversed(code):
        cell = nb.cells[index]
        defined, read = defined_and_read(cell.source)
        if index in needed_cells or is_graded_or_solution(cell) or defined & needed_names:
            needed_cells.add(index)
            # x.fit() or x[i] = ... reads x: the cell that made x is needed too
            needed_names |= read
    return [index for index in code if index not in needed_cells]


def stale_lessons(paths: list[Path], write: bool = False) -> list[str]:
    """Lessons whose stored tags differ from :func:`demo_cells` (rewritten when ``write``)."""
    stale = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        demos = set(demo_cells(nb))
        changed = False
        for index, cell in enumerate(nb.cells):
            tags = list(cell.metadata.get("tags", []))
            want = index in demos
            if want != (SKIP_TAG in tags):
                changed = True
                cell.metadata["tags"] = tags + [SKIP_TAG] if want else [tag for tag in tags if tag != SKIP_TAG]
                if not cell.metadata["tags"]:
                    del cell.metadata["tags"]
        if changed:
            stale.append(f"{path.name}: demonstrations {sorted(demos)}")
            if write:
                nbformat.write(nb, path)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="store the tags in the lessons")
    parser.add_argument("lessons", nargs="*", type=Path, help="default: lessons/*.ipynb")
    args = parser.parse_args(argv)
    paths = args.lessons or sorted((PROJECT_ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    stale = stale_lessons(paths, write=args.write)
    for line in stale:
        print(("updated " if args.write else "out of date: ") + line)
    if stale and not args.write:
        print("run `python -m tools.demo_cells --write` to update the tags", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
