"""The lessons' widgets and the filter lab in a real browser: JupyterLab and Voila in headless Chromium.

JupyterLab runs headless on 127.0.0.1 and a free port (its own token and Jupyter folders, see
browser_support.jupyter_server), serving a copy of lessons/ so that nothing the browser does
(outputs, autosave) can reach the instructor's source. For every lesson lessons/NN_*.ipynb:

1. open it in Chromium and run every cell up to and including the lesson's **main widget**
   (JupyterLab's own "Run All Above" + "Run Selected Cell" commands);
2. check that no cell raised and the widget rendered (no "Error displaying widget");
3. move its controls one at a time, as a student would (choose another option of a dropdown,
   press another toggle button, move a slider with the keyboard, tick a box) until one of them
   changes the rendered output: the widget's images (an Image widget's blob URL is replaced
   when the kernel sends new bytes) and HTML texts are compared before and after;
4. fail on any JavaScript error or widget error in the page.

The main widget of a lesson is the code cell tagged ``main-widget`` when there is one; else
the cell calling the lesson's entry in MAIN_WIDGETS below; else the first cell that calls a
builder imported from ``utils.widgets``. Running only up to it keeps the test short.

The filter lab (apps/filter_lab.ipynb) is served by Voila exactly as the instructor guide says,
and tested the same way: its kernel explorer and its feature-map browser.

Screenshots of each main widget go to build/screenshots/; with UPDATE_SCREENSHOTS=1 they are
also written to docs/screenshots/ (the ones the README and the instructor guide show).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from browser_support import PROJECT_ROOT, jupyter_server, open_page, wait_until
from lesson_files import lesson_paths, read

pytestmark = pytest.mark.browser

LESSONS = lesson_paths()
APP = PROJECT_ROOT / "apps" / "filter_lab.ipynb"
SCREENSHOTS = PROJECT_ROOT / "build" / "screenshots"
DOC_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 1800}  # tall: a whole widget fits in one screenshot
RUN_TIMEOUT_MS = 600_000     # running a lesson up to its widget on a busy 2-core machine
UPDATE_TIMEOUT_MS = 30_000   # one control change -> kernel -> new picture

#: The lesson's central explorer when it is not the first widget of the lesson.
MAIN_WIDGETS = {"01": "channel_explorer", "02": "kernel_explorer", "03": "pooling_explorer", "04": "descent_explorer",
                "05": "receptive_field_explorer"}

#: Voila's page template links Font Awesome's CSS from a CDN although its own bundle already
#: carries Font Awesome 5: offline (a classroom, CI) those two requests fail harmlessly. The test
#: answers exactly them with an empty style sheet; any other failed request still fails it.
FONT_AWESOME_CDN = {re.compile(r"https://cdn\.jsdelivr\.net/npm/@fortawesome/fontawesome-free@[^/]+/css/[\w.-]+\.css"):
                    lambda route: route.fulfill(status=200, content_type="text/css", body="")}

#: Text ipywidgets puts in the page when a widget cannot be shown (missing extension, model error).
WIDGET_ERRORS = ("Error displaying widget", "Error rendering", "Loading widget...", "model not found",
                 "A Jupyter widget could not be displayed")


def widget_builders(notebook) -> list[str]:
    """Names imported from utils.widgets in the notebook's code."""
    names = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for match in re.finditer(r"from utils\.widgets[\w.]* import \(?([\w\s,]+)\)?", cell.source):
                names += [n.strip() for n in match.group(1).replace("\n", " ").split(",") if n.strip()]
    return names


def main_widget_cell(notebook, lesson_number: str) -> int:
    """Index of the cell that shows the lesson's main widget (see the module docstring)."""
    code = [(i, c) for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    tagged = [i for i, c in code if "main-widget" in c.metadata.get("tags", [])]
    if tagged:
        return tagged[0]
    calls = lambda name: [i for i, c in code if re.search(rf"\b{name}\(", c.source)]  # noqa: E731
    preferred = MAIN_WIDGETS.get(lesson_number)
    if preferred and calls(preferred):
        return calls(preferred)[0]
    candidates = sorted(i for name in widget_builders(notebook) for i in calls(name))
    assert candidates, "the lesson shows no widget from utils.widgets"
    return candidates[0]


# --------------------------------------------------------------------------- page helpers (JavaScript)

_NOTEBOOK = "window.jupyterapp && window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.content"
_KERNEL_IDLE = f"""() => {{
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
    return !!(kernel && kernel.status === 'idle' && {_NOTEBOOK} && panel.content.widgets.length);
}}"""
_RUN_UP_TO = f"""(last) => {{
    const app = window.jupyterapp, notebook = {_NOTEBOOK};
    if (last + 1 < notebook.widgets.length) {{
        notebook.activeCellIndex = last + 1;
        app.commands.execute('notebook:run-all-above');  // not awaited: the test polls the cells
    }} else {{
        app.commands.execute('notebook:run-all-cells');
    }}
    return true;
}}"""
_CELLS_DONE = """(last) => {
    const panel = window.jupyterapp.shell.currentWidget, notebook = panel.content;
    const kernel = panel.sessionContext.session.kernel;
    const cells = notebook.widgets.slice(0, last + 1).filter(c => c.model.type === 'code');
    const failed = cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
    return failed || (kernel.status === 'idle' && cells.every(c => c.model.executionCount !== null));
}"""
_CELL_ERRORS = f"""(last) => {{
    const notebook = {_NOTEBOOK};
    return notebook.widgets.slice(0, last + 1).flatMap((c, i) => c.model.type !== 'code' ? [] :
        c.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => `cell ${{i}}: ${{o.ename}}: ${{o.evalue}}`));
}}"""
_MARK_CELL = f"""(index) => {{
    const cell = ({_NOTEBOOK}).widgets[index];
    cell.node.setAttribute('data-main-widget', 'yes');
    cell.node.scrollIntoView({{block: 'start'}});
    return true;
}}"""
#: What the widget shows, as text: images (by URL: an Image widget gets a new blob URL for new
#: bytes) and the HTML/label texts, leaving out the controls themselves.
_RENDERED = """(root) => {
    const node = document.querySelector(root);
    if (!node) return null;
    const images = [...node.querySelectorAll('img')].map(img => img.src + ' ' + img.naturalWidth + 'x' + img.naturalHeight);
    const texts = [...node.querySelectorAll('.widget-html-content, .jp-RenderedHTMLCommon, .jp-RenderedText')]
        .filter(el => !el.closest('.widget-dropdown, .widget-toggle-buttons, .widget-slider, .widget-checkbox'))
        .map(el => el.innerText);
    return JSON.stringify({images, texts});
}"""


def page_widget_errors(page, root: str) -> list[str]:
    text = page.inner_text(root) if page.locator(root).count() else ""
    return [marker for marker in WIDGET_ERRORS if marker in text]


def wait_rendered(page, root: str) -> str:
    """Wait until the widget under ``root`` shows at least one loaded image; return what it shows."""
    wait_until(page, """(root) => { const n = document.querySelector(root);
        return !!n && n.querySelector('.jupyter-widgets') !== null &&
               [...n.querySelectorAll('img')].some(img => img.complete && img.naturalWidth > 0); }""", UPDATE_TIMEOUT_MS, root)
    return page.evaluate(_RENDERED, root)


def controls(page, root: str) -> list[tuple[str, object]]:
    """Each control of the widget with the action that moves it, in the order they are tried."""
    found = []
    selects = page.locator(f"{root} .widget-dropdown select")
    for i in range(selects.count()):
        found.append(("dropdown", selects.nth(i)))
    toggles = page.locator(f"{root} .widget-toggle-buttons")
    for i in range(toggles.count()):
        found.append(("toggle buttons", toggles.nth(i)))
    sliders = page.locator(f"{root} .widget-slider .noUi-handle, {root} .widget-hslider .noUi-handle")
    for i in range(sliders.count()):
        found.append(("slider", sliders.nth(i)))
    boxes = page.locator(f"{root} .widget-checkbox input[type=checkbox]")
    for i in range(boxes.count()):
        found.append(("checkbox", boxes.nth(i)))
    return found


def move(kind: str, control) -> str:
    """Change ``control`` the way a user would; return what was done."""
    control.scroll_into_view_if_needed()
    if kind == "dropdown":
        values = control.evaluate("s => [...s.options].map(o => o.value)")
        current = control.input_value()
        target = next(v for v in values if v != current)
        control.select_option(target)
        return f"dropdown {current!r} -> {target!r}"
    if kind == "toggle buttons":
        buttons = control.locator("button:not(.mod-active)")
        label = buttons.first.inner_text()
        buttons.first.click()
        return f"toggle button {label!r}"
    if kind == "slider":
        control.focus()
        for _ in range(3):
            control.press("ArrowRight")
        return "slider +3 steps"
    control.click()
    return "checkbox toggled"


def change_a_control(page, root: str) -> list[str]:
    """Move the widget's controls one by one until the rendered output changes; return what was done."""
    done = []
    for kind, control in controls(page, root):
        before = page.evaluate(_RENDERED, root)
        try:
            done.append(move(kind, control))
        except StopIteration:  # a dropdown with a single option
            continue
        deadline = time.monotonic() + UPDATE_TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            page.wait_for_timeout(200)
            after = page.evaluate(_RENDERED, root)
            if after != before and json.loads(after)["images"] and all(
                    page.evaluate("u => [...document.querySelectorAll('img')].filter(i => i.src === u).every(i => i.complete)", u)
                    for u in json.loads(after)["images"][:1]):
                return done
    raise AssertionError(f"no control changed the widget's output; tried: {done or 'no control found'}")


def save_screenshot(locator, name: str) -> Path:
    """A small PNG of ``locator`` in build/screenshots/ (and docs/screenshots/ with UPDATE_SCREENSHOTS=1)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    locator.screenshot(path=str(path))
    from PIL import Image  # comes with matplotlib

    image = Image.open(path).convert("RGB")
    if image.width > 640:  # keep the repository light: 640 px wide is plenty for a README
        image = image.resize((640, round(image.height * 640 / image.width)), Image.LANCZOS)
    # 256 colours are plenty for widgets on a white page and make the PNG several times smaller
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOC_SCREENSHOTS / path.name)
    return path


# --------------------------------------------------------------------------- fixtures




def _lab_settings(home: Path) -> None:
    """JupyterLab settings of the test server: never save (the copy is thrown away anyway), no news pop-up."""
    settings = home / "lab-settings"
    for plugin, values in {"@jupyterlab/docmanager-extension/plugin": {"autosave": False},
                           "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
                           "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"}}.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory, record_timing):
    home = tmp_path_factory.mktemp("jupyterlab")
    copy = home / "course"
    shutil.copytree(PROJECT_ROOT / "lessons", copy / "lessons")
    _lab_settings(home)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in LESSONS}
    start = time.perf_counter()
    with jupyter_server("lab", home, root_dir=copy) as (base, token):
        record_timing("JupyterLab start (browser tests)", time.perf_counter() - start)
        yield base, token
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in LESSONS} == before, "lessons/ must stay untouched"


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_main_widget_reacts_in_jupyterlab(chromium, lab, path, record_timing):
    base, token = lab
    index = main_widget_cell(read(path), path.stem[:2])
    start = time.perf_counter()
    context, page, problems = open_page(chromium, f"{base}/lab/tree/lessons/{path.name}?reset&token={token}", viewport=VIEWPORT)
    try:
        wait_until(page, _KERNEL_IDLE, RUN_TIMEOUT_MS)
        page.evaluate(_RUN_UP_TO, index)
        wait_until(page, _CELLS_DONE, RUN_TIMEOUT_MS, index)
        assert page.evaluate(_CELL_ERRORS, index) == [], "a cell raised in the browser"
        ran = time.perf_counter() - start
        page.evaluate(_MARK_CELL, index)
        root = "[data-main-widget=yes] .jp-Cell-outputArea"
        wait_rendered(page, root)
        assert page_widget_errors(page, root) == []
        save_screenshot(page.locator(root), f"{path.stem[:2]}_main_widget")
        moved = change_a_control(page, root)
        page.wait_for_timeout(300)
        assert page_widget_errors(page, root) == []
        assert page.evaluate(_CELL_ERRORS, index) == [], "moving a control raised in the kernel"
        assert problems == [], f"JavaScript errors in the page: {problems}"
        record_timing(f"browser: {path.stem} up to its main widget (cell {index}) {ran:.0f} s, then {', '.join(moved)}",
                      time.perf_counter() - start)
    finally:
        # Free the kernel's memory and CPU for the next lesson (closing the page would leave it running).
        page.evaluate("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                      "window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        context.close()


def test_filter_lab_as_a_voila_app(chromium, tmp_path, record_timing):
    """The filter lab served by Voila as apps/filter_lab.sh does: both explorers render and react to their controls."""
    start = time.perf_counter()
    # What apps/filter_lab.sh runs: voila in apps/ (so that apps/voila.json applies), no browser.
    with jupyter_server("voila", tmp_path, APP.name, root_dir=APP.parent) as (base, _):
        context, page, problems = open_page(chromium, f"{base}/", viewport=VIEWPORT, routes=FONT_AWESOME_CDN)
        try:
            # Voila shows the page once every cell has run; the page (FilterLab) holds both explorers.
            wait_until(page, "() => document.querySelectorAll('.course-widget .course-widget').length >= 2", RUN_TIMEOUT_MS)
            page.evaluate("""() => document.querySelectorAll('.course-widget .course-widget').forEach((n, i) =>
                n.setAttribute('data-app-widget', String(i)))""")
            roots = page.evaluate("() => [...document.querySelectorAll('[data-app-widget]')].map(n => n.getAttribute('data-app-widget'))")
            assert len(roots) == 2, f"expected the kernel explorer and the feature-map browser, found {len(roots)} widgets"
            page_text = page.inner_text("body")
            assert "Filter lab" in page_text and "Română" in page_text, "the English page, with its language switch"
            assert not re.search(r"Traceback|Error\b", page_text), "a cell of the app raised"
            for name, key in zip(("filter_lab_kernel_explorer", "filter_lab_feature_maps"), roots):
                root = f"[data-app-widget='{key}']"
                wait_rendered(page, root)
                assert page_widget_errors(page, root) == []
                save_screenshot(page.locator(root), name)
                change_a_control(page, root)
                assert page_widget_errors(page, root) == []
            assert problems == [], f"JavaScript errors in the page: {problems}"
        finally:
            context.close()
    record_timing("browser: filter lab in Voila (start, render, both explorers)", time.perf_counter() - start)
