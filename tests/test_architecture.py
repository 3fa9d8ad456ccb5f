"""The codebase's shape, enforced: who may import what (lazy imports inside functions included).

The rules (README.md, "For maintainers"):

- ``utils.constants`` and ``utils.errors`` are leaves: they import nothing of the project;
- only ``utils/widgets/`` imports ipywidgets;
- the library core (data, images, synthetic, models, training, layers, metrics, pipeline)
  imports no screen code: no matplotlib, IPython, ipywidgets, nor ``utils.i18n``, ``utils.viz``,
  ``utils.widgets``, ``utils.lesson`` -- not even through another module;
- ``utils.data`` and ``utils.images`` know nothing of models;
- the web demo (``webapp/``) reuses images and models, never ``utils.viz`` or the widgets;
- no import cycles among the project's modules.

The checker reads the source with :mod:`ast` (nothing is imported), so a test can run it
on a temporary tree with a deliberately bad import and see it reported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from utils.constants import PROJECT_ROOT

PACKAGES = ("utils", "webapp")
LEAVES = {"utils.constants", "utils.errors"}
CORE = {"utils.data", "utils.images", "utils.synthetic", "utils.models", "utils.training", "utils.metrics",
        "utils.pipeline", "utils.constants", "utils.errors"}
CORE_PREFIXES = ("utils.layers",)
SCREEN_LIBRARIES = ("matplotlib", "IPython", "ipywidgets")
SCREEN_MODULES = ("utils.i18n", "utils.viz", "utils.widgets", "utils.lesson")
KNOWS_NO_MODELS = {"utils.data": ("utils.models", "utils.training", "utils.explain", "utils.pipeline", "utils.metrics"),
                   "utils.images": ("utils.models", "utils.training", "utils.explain", "utils.pipeline", "utils.metrics")}
#: (module, import) pairs allowed despite the rules, each with its reason.
EXCEPTIONS = {
    ("utils.images", "matplotlib.cbook"): "sample_photo_path() only locates the sample photo that ships with matplotlib",
}


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_files(root: Path) -> dict[str, Path]:
    """Module name -> file, for every ``.py`` file of the project's packages under ``root``."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module ``name`` imports anywhere in its file (top level or inside functions).

    ``from package import module`` counts as importing ``package.module`` when that is a
    project module (and always for other packages); relative imports are resolved.
    """
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if any(_under(source, package) for package in PACKAGES):
                found.add(source)
                found.update(f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in known)
            else:  # from matplotlib import cbook -> matplotlib.cbook (an exception can name exactly that)
                found.update(f"{source}.{alias.name}" for alias in node.names)
    return found


def import_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """``(project, external)``: per module, the project modules and the other modules it imports."""
    files = module_files(root)
    known = set(files)
    project, external = {}, {}
    for name, path in files.items():
        imported = imports_of(name, path, known)
        project[name] = {i for i in imported if i in known and i != name}
        external[name] = {i for i in imported if not any(_under(i, p) for p in PACKAGES)}
    return project, external


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles (each as a path ``a -> b -> ... -> a``), found by depth-first search."""
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def violations(root: Path) -> list[str]:
    """Every broken rule under ``root``, one readable line each (empty: the shape holds)."""
    project, external = import_graph(root)
    problems = []
    for name in sorted(project):
        outside = external[name] | project[name]
        if name in LEAVES and project[name]:
            problems.append(f"{name} must be a leaf but imports {sorted(project[name])}")
        if not _under(name, "utils.widgets"):
            for imported in sorted(outside):
                if _under(imported, "ipywidgets"):
                    problems.append(f"{name} imports {imported}: only utils/widgets/ may import ipywidgets")
        is_core = name in CORE or any(_under(name, p) for p in CORE_PREFIXES)
        if is_core:
            for module in sorted({name} | reachable(project, name)):
                for imported in sorted(external.get(module, ())):
                    if any(_under(imported, lib) for lib in SCREEN_LIBRARIES) and (module, imported) not in EXCEPTIONS:
                        via = "" if module == name else f" (through {module})"
                        problems.append(f"{name} imports {imported}{via}: the library core draws no screens")
            for module in sorted(reachable(project, name)):
                if any(_under(module, s) for s in SCREEN_MODULES):
                    problems.append(f"{name} imports {module} (directly or not): the library core knows no screens")
        for forbidden in KNOWS_NO_MODELS.get(name, ()):
            for module in sorted(reachable(project, name)):
                if _under(module, forbidden):
                    problems.append(f"{name} imports {module}: data and images know nothing of models")
        if _under(name, "webapp"):
            for module in sorted(reachable(project, name)):
                if _under(module, "utils.viz") or _under(module, "utils.widgets"):
                    problems.append(f"{name} imports {module} (directly or not): the web demo never uses viz or widgets")
    for cycle in find_cycles(project):
        problems.append("import cycle: " + " -> ".join(cycle))
    return problems


# --------------------------------------------------------------------------- the project itself


def test_the_project_keeps_its_shape():
    assert violations(PROJECT_ROOT) == []


def test_the_checker_sees_every_module_and_lazy_import():
    project, external = import_graph(PROJECT_ROOT)
    assert {"utils.data", "utils.layers.convolution", "utils.widgets.model", "webapp.app"} <= set(project)
    assert "utils.synthetic" in project["utils.data"], "a lazy import inside a function counts"
    assert "matplotlib.cbook" in external["utils.images"]


# --------------------------------------------------------------------------- the checker on bad trees


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    base = {
        "utils/__init__.py": "", "utils/constants.py": "X = 1\n", "utils/errors.py": "",
        "utils/data.py": "from utils.constants import X\n", "utils/models.py": "import numpy\n",
        "utils/viz.py": "import matplotlib.pyplot as plt\n", "utils/widgets/__init__.py": "",
        "utils/widgets/model.py": "import ipywidgets\nfrom utils import viz\n",
        "webapp/__init__.py": "", "webapp/app.py": "from utils.models import X\n",
    }
    for relative, text in {**base, **files}.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_clean_tree_passes(tmp_path):
    assert violations(_tree(tmp_path, {})) == []


@pytest.mark.parametrize("files, expected", [
    ({"utils/data.py": "def f():\n    import ipywidgets\n"}, "only utils/widgets/ may import ipywidgets"),
    ({"utils/models.py": "def plot():\n    import matplotlib.pyplot\n"}, "utils.models imports matplotlib.pyplot"),
    ({"utils/models.py": "def say():\n    from utils.i18n import tr\n", "utils/i18n.py": ""}, "knows no screens"),
    ({"utils/models.py": "from utils import viz\n"}, "utils.models imports utils.viz"),
    ({"utils/data.py": "def f():\n    from utils.models import build\n"}, "data and images know nothing of models"),
    ({"webapp/app.py": "from utils.viz import EMOTIONS_RO\n"}, "the web demo never uses viz or widgets"),
    ({"webapp/app.py": "from utils.models import X\n", "utils/models.py": "from utils.widgets.model import W\n"},
     "webapp.app imports utils.widgets.model (directly or not)"),
    ({"utils/constants.py": "from utils.data import Y\n"}, "utils.constants must be a leaf"),
    ({"utils/synthetic.py": "from utils.data import X\n", "utils/data.py": "def f():\n    from utils.synthetic import g\n"},
     "import cycle: utils.data -> utils.synthetic -> utils.data"),
])
def test_a_bad_import_is_reported(tmp_path, files, expected):
    problems = violations(_tree(tmp_path, files))
    assert any(expected in problem for problem in problems), problems


def test_the_readme_lists_every_module_of_utils():
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme[readme.index("## For maintainers"):readme.index("## Română")]
    top_level = sorted(p.name for p in (PROJECT_ROOT / "utils").iterdir()
                       if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").exists())
    missing = [name for name in top_level if f"`utils/{name}" not in section]
    assert not missing, f"README.md's maintainer section does not list {missing}"
