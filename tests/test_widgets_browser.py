"""Every explorer in a real browser, checked against the layout standard (utils/widgets/layout.py).

JupyterLab at 1280x800 **with the file browser open** (its default layout) runs the widget
gallery (tests/widget_gallery.py: every builder of utils.widgets, on the lessons' inputs).
For every widget, before and after each control change (every dropdown, toggle, slider,
check box, button and weight box, moved as a user would):

- no horizontal scrollbar inside the widget or its output area, and the widget no wider than its cell;
- every image shown at its data's aspect ratio (±2%) and loaded (no broken-image icon);
- no truncated label (``scrollWidth <= clientWidth`` for descriptions, readouts, buttons);
- the output changed (images, texts, or the number of inputs, e.g. a 5x5 kernel grid);
- no JavaScript error, no widget error.

The time from the control event to the next repaint of the widget's output is measured in
the page (a MutationObserver on the outputs, then one animation frame) and recorded, not
asserted (speed is a benchmark's job): build/widget_repaint_ms.json and the timing report.

The Voila filter lab is checked the same way at 1280x800 and at 390x844 (a phone), in both
languages (its language switch). Screenshots of every widget go to build/screenshots/ and,
with UPDATE_SCREENSHOTS=1, to docs/screenshots/ (``UPDATE_SCREENSHOTS=1 ./test.sh -m browser``).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import time

import nbformat
import pytest
from browser_support import PROJECT_ROOT, jupyter_server, open_page, wait_until
from test_lessons_browser import (
    _CELL_ERRORS,
    _KERNEL_IDLE,
    FONT_AWESOME_CDN,
    RUN_TIMEOUT_MS,
    UPDATE_TIMEOUT_MS,
    _lab_settings,
    page_widget_errors,
    save_screenshot,
)
from widget_gallery import CELLS, GALLERY, SETUP, gallery_notebook

from utils.layers.convolution import KERNELS

KERNEL_PRESETS = list(KERNELS)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
APP = PROJECT_ROOT / "apps" / "filter_lab.ipynb"
REPAINT_FILE = PROJECT_ROOT / "build" / "widget_repaint_ms.json"


def _sample_photo():
    from matplotlib.cbook import get_sample_data

    return get_sample_data("grace_hopper.jpg", asfileobj=False)


SAMPLE_PHOTO = _sample_photo()

# --------------------------------------------------------------------------- JavaScript run in the page

#: Everything that breaks the layout standard inside ``root`` (a CSS selector), as readable strings.
LAYOUT_PROBLEMS = r"""(root) => {
    const node = document.querySelector(root);
    if (!node) return ['widget not found: ' + root];
    const problems = [];
    const name = el => (el.className && typeof el.className === 'string' ? el.className.split(' ').slice(0, 3).join('.') : el.tagName)
                       + (el.innerText ? ' "' + el.innerText.slice(0, 30).replace(/\n/g, ' ') + '"' : '');
    const visible = el => el.offsetParent !== null && el.getClientRects().length > 0;
    const widget = node.querySelector('.jupyter-widgets');
    if (widget && widget.getBoundingClientRect().right > node.getBoundingClientRect().right + 1)
        problems.push(`widget wider than its output area: ${Math.round(widget.getBoundingClientRect().width)} px`);
    for (const el of [node, ...node.querySelectorAll('*')]) {
        if (!visible(el)) continue;
        const style = getComputedStyle(el);
        if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1)
            problems.push(`horizontal scrollbar in ${name(el)} (${el.scrollWidth} > ${el.clientWidth})`);
    }
    for (const img of node.querySelectorAll('img')) {
        if (!visible(img)) continue;
        if (!img.complete || img.naturalWidth === 0) { problems.push(`broken image ${img.alt || img.src.slice(0, 40)}`); continue; }
        const shown = img.clientWidth / img.clientHeight, data = img.naturalWidth / img.naturalHeight;
        if (Math.abs(shown / data - 1) > 0.02)
            problems.push(`image ${img.naturalWidth}x${img.naturalHeight} shown at ${img.clientWidth}x${img.clientHeight}`);
    }
    const labels = node.querySelectorAll('.widget-label, .widget-label-basic, .widget-readout, .widget-toggle-button, ' +
                                         '.widget-button, .widget-inline-hbox > label');
    for (const el of labels) {
        if (visible(el) && el.scrollWidth > el.clientWidth + 1) problems.push(`truncated label "${el.innerText}"`);
    }
    return problems;
}"""

#: What the widget shows: image URLs, output texts and the number of inputs (not the controls' own state).
RENDERED = """(root) => {
    const node = document.querySelector(root);
    if (!node) return null;
    const images = [...node.querySelectorAll('img')].filter(i => i.offsetParent !== null).map(i => i.src.slice(-64));
    const texts = [...node.querySelectorAll('.widget-html-content')]
        .filter(el => !el.closest('.widget-dropdown, .widget-toggle-buttons, .widget-slider, .widget-checkbox'))
        .map(el => el.innerText);
    return JSON.stringify({images, texts, inputs: node.querySelectorAll('input').length});
}"""

#: Start measuring: the first control event in ``root`` sets t0, the first repaint of an output after it t1.
#: An upload starts when the chosen file starts being read (ipywidgets' FileUpload reads it with a
#: FileReader on its detached file input's change), not at the click that opens the file dialog:
#: the time a person spends in that dialog is theirs, not the widget's.
WATCH = """([root, upload]) => {
    const node = document.querySelector(root);
    const state = window.__repaint = {t0: null, t1: null};
    const start = () => { if (state.t0 === null) state.t0 = performance.now(); };
    if (upload) {
        const read = window.__readAsArrayBuffer = window.__readAsArrayBuffer || FileReader.prototype.readAsArrayBuffer;
        FileReader.prototype.readAsArrayBuffer = function (...args) { start(); return read.apply(this, args); };
    } else {
        for (const kind of ['pointerdown', 'keydown', 'change', 'input'])
            node.addEventListener(kind, start, {capture: true, once: true});
    }
    const observer = new MutationObserver(records => {
        if (state.t0 === null || state.t1 !== null) return;
        const output = records.some(r => (r.target.tagName === 'IMG' && r.attributeName === 'src') ||
            (r.target.closest && r.target.closest('.widget-html-content') && !r.target.closest('.widget-slider, .widget-toggle-buttons')) ||
            (r.target.parentElement && r.target.parentElement.closest('.widget-html-content')));
        if (output) requestAnimationFrame(() => { if (state.t1 === null) state.t1 = performance.now(); observer.disconnect(); });
    });
    observer.observe(node, {subtree: true, childList: true, attributes: true, attributeFilter: ['src'], characterData: true});
    return true;
}"""


#: Under the pointer: the patch on the input, the panel shown, the current step's hidden.
HOVER_STATE = """([root, cell]) => {
    const node = document.querySelector(root);
    const shown = el => !!el && getComputedStyle(el).display !== 'none' && el.getClientRects().length > 0;
    const patch = [...node.querySelectorAll(`.sws-input td[data-windows~='${cell}']`)];
    const others = [...node.querySelectorAll('.sws-input td')].filter(td => !patch.includes(td));
    const panel = node.querySelector(`.sws-hover[data-cell='${cell}']`);
    const window_colour = 'rgb(255, 209, 102)';  // COLOURS["window"]
    const step = [...node.querySelectorAll('.sws-input td.sws-step')].filter(td => !patch.includes(td));
    return {patch: patch.length, lit: patch.filter(td => getComputedStyle(td).outlineStyle === 'solid').length,
            step_still_lit: step.filter(td => getComputedStyle(td).backgroundColor === window_colour).length,
            others_lit: others.filter(td => getComputedStyle(td).outlineStyle === 'solid').length,
            panel: shown(panel) ? panel.innerText : null, current: shown(node.querySelector('.sws-current'))};
}"""


def linked_view_problems(page, root: str, screenshot: str, kernel_cells: int = 9) -> list[str]:
    """The sliding-window stepper's hover link: pointing at output cell (1, 1) shows where it comes from."""
    problems = []
    cell = page.locator(f"{root} .sws-output td[data-cell='1-1']")
    # The whole widget in view first: a screenshot that scrolled would move the cell from under the pointer.
    page.locator(root).evaluate("n => n.scrollIntoView({block: 'center'})")
    cell.hover()
    page.wait_for_timeout(100)
    state = page.evaluate(HOVER_STATE, [root, "1-1"])
    save_screenshot(page.locator(root), screenshot)
    if state["patch"] != kernel_cells or state["lit"] != kernel_cells:
        problems.append(f"stepper hover: {state['lit']} of {state['patch']} patch cells lit, expected {kernel_cells}")
    if state["others_lit"] or state["step_still_lit"]:
        problems.append(f"stepper hover: {state['others_lit']} input cells outside the patch outlined, "
                        f"{state['step_still_lit']} cells of the current step still coloured")
    if not state["panel"] or "(1, 1)" not in state["panel"] or state["current"]:
        problems.append(f"stepper hover: panel of (1, 1) {'shown' if state['panel'] else 'hidden'}, "
                        f"current step {'shown' if state['current'] else 'hidden'}")
    page.mouse.move(2, 2)
    page.wait_for_timeout(100)
    state = page.evaluate(HOVER_STATE, [root, "1-1"])
    if state["panel"] or not state["current"] or state["lit"]:
        problems.append("stepper hover: the link stays after the pointer left the feature map")
    return problems


#: The kernel explorer's pointer link, in CSS pixels: the pictures, the hover grid, the cell and patch boxes, the readout.
KERNEL_HOVER_STATE = """([root, row, col]) => {
    const node = document.querySelector(root);
    const box = el => { const r = el.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; };
    const inside = el => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);  // the box inside the border
        const [t, rt, b, l] = ['Top', 'Right', 'Bottom', 'Left'].map(side => parseFloat(s[`border${side}Width`]));
        return {x: r.left + l, y: r.top + t, w: r.width - l - rt, h: r.height - t - b}; };
    const [input, map] = [...node.querySelectorAll('.kx-stack img')];
    const rows = [...node.querySelectorAll('.kx-cells tr')];
    const cell = rows[row] ? rows[row].children[col] : null;
    const patch = node.querySelector('.kx-patch');
    const first = rows.length ? rows[0].children[0] : null;
    return {input: box(input), input_size: [input.naturalHeight, input.naturalWidth], map: box(map),
            grid: [rows.length, rows.length ? rows[0].children.length : 0],
            first: first ? [first.dataset.v || null, first.dataset.lo || null, first.dataset.hi || null] : null,
            cell: cell ? box(cell) : null, cell_outlined: !!cell && getComputedStyle(cell).outlineStyle === 'solid',
            patch: getComputedStyle(patch).display === 'none' ? null : inside(patch),
            hint: {bottom: node.querySelector('.kx-hint').getBoundingClientRect().bottom},
            hint_hidden: getComputedStyle(node.querySelector('.kx-hint')).visibility === 'hidden'};
}"""

#: The readout's words (utils/widgets/convolution.py), to check what it says.
KERNEL_READOUT = {"en": {"row": ("row", "rows"), "col": ("column", "columns"), "value": "value {}", "range": "values from {} to {}",
                         "clipped": "patch clipped"},
                  "ro": {"row": ("rândul", "rândurile"), "col": ("coloana", "coloanele"), "value": "valoarea {}",
                         "range": "valori de la {} la {}", "clipped": "fereastră tăiată"}}


def _under(index: int, roots: set[int], parents: list[int]) -> bool:
    """Whether node ``index`` of a DOM snapshot is one of ``roots`` or inside one."""
    while index >= 0 and index not in roots:
        index = parents[index]
    return index >= 0


def readout(page) -> tuple[str, dict] | None:
    """The text the browser renders in a feature-map cell's ``::after`` (the kernel explorer's readout) and its
    box in CSS pixels, or None when no readout is shown.

    CSS counters are only resolved in the rendering, not in ``getComputedStyle``: Chromium's DOM
    snapshot (DevTools protocol) has the laid-out text and box of everything, pseudo-elements included.
    """
    cdp = page.context.new_cdp_session(page)
    try:
        snapshot = cdp.send("DOMSnapshot.captureSnapshot", {"computedStyles": []})
    finally:
        cdp.detach()
    strings = snapshot["strings"]
    for document in snapshot["documents"]:
        nodes, layout = document["nodes"], document["layout"]
        parents, names = nodes["parentIndex"], nodes["nodeName"]
        pseudo = nodes.get("pseudoType", {"index": [], "value": []})
        readouts = {i for i, kind in zip(pseudo["index"], pseudo["value"])
                    if strings[kind] == "after" and strings[names[parents[i]]] == "TD"}
        texts = [strings[text] for node, text in zip(layout["nodeIndex"], layout["text"])
                 if text >= 0 and _under(node, readouts, parents)]
        boxes = [bounds for node, bounds in zip(layout["nodeIndex"], layout["bounds"]) if node in readouts]
        if texts and boxes:
            x, y, w, h = boxes[0]
            return "".join(texts), {"x": x, "y": y, "w": w, "h": h}
    return None


def _gallery_faces() -> dict:
    """The kernel explorer's images in the gallery and the kernel-explorer test: name -> 2D face."""
    from utils import images
    from utils.synthetic import make_faces

    gray = images.to_gray(images.load_sample_photo())
    return {"photo": images.crop(gray, images.detect_faces(gray)[0], margin=0.1),
            "synthetic": make_faces(7, seed=2, balanced=True)[0][0, ..., 0]}


def _groups(cells: int, group: int) -> list[tuple[int, int]]:
    """The output cells (first, last) under each hover row or column: ``group`` at a time, a last group of one
    cell joined to the one before it (utils/widgets/convolution.py)."""
    firsts = list(range(0, cells, group))
    if group > 1 and len(firsts) > 1 and cells - firsts[-1] == 1:
        firsts.pop()
    return [(first, (firsts[i + 1] if i + 1 < len(firsts) else cells) - 1) for i, first in enumerate(firsts)]


def _expected_span(size: int, kernel: int, stride: int, padding: str, first: int, last: int) -> tuple[int, int, bool]:
    """Input pixels read by output cells first..last along one axis, clipped to the image, and whether they were clipped."""
    from utils.layers.convolution import pad_amounts

    pad = pad_amounts(size, kernel, stride, padding)[0]
    start, end = first * stride - pad, last * stride - pad + kernel
    return max(start, 0), min(end, size), start < 0 or end > size


def kernel_link_problems(page, root: str, faces: dict, case: dict, language: str = "en", screenshot: str | None = None) -> list[str]:
    """The kernel explorer's hover link: set ``case`` (source, stride, padding) with the controls, point at hover
    cell ``case['cell']`` and check, in CSS pixels, the cell's outline, the patch box over the input (the window
    correlate2d reads, clipped to the image), the readout (row, column, value; the clipping said) and that all of
    it goes away when the pointer leaves. The kernel is whatever the weight boxes hold."""
    import numpy as np

    from utils.i18n import fmt
    from utils.layers.convolution import correlate2d

    problems, words = [], KERNEL_READOUT[language]
    where = f"kernel hover {case}"
    if "source" in case:
        page.locator(f"{root} .widget-dropdown select").first.select_option(label=case["source"])
    for index, name in ((1, "stride"), (2, "padding")):
        if name in case:
            button = page.locator(f"{root} .widget-toggle-buttons").nth(index).locator("button", has_text=str(case[name]))
            if "mod-active" not in (button.get_attribute("class") or ""):
                button.click()
    source = page.locator(f"{root} .widget-dropdown select").first.evaluate("s => s.options[s.selectedIndex].text")
    active = [t.strip() for t in page.locator(f"{root} .widget-toggle-buttons button.mod-active").all_inner_texts()]
    size, stride, padding = int(active[0][0]), int(active[1]), active[2]
    weights = [float(v) for v in page.locator(f"{root} .course-kernel-grid input").evaluate_all("els => els.map(e => e.value)")]
    image = np.asarray(faces[source], dtype=np.float32)
    fmap = correlate2d(image, np.array(weights, np.float32).reshape(size, size), stride, padding)
    group = max(1, -(-max(fmap.shape) // 48))
    row_groups, col_groups = _groups(fmap.shape[0], group), _groups(fmap.shape[1], group)
    grid = [len(row_groups), len(col_groups)]

    def number(value) -> str:
        return fmt(float(value) + 0.0, ".4g", language)

    corner = fmap[:row_groups[0][1] + 1, :col_groups[0][1] + 1]
    first = [number(corner[0, 0]), None, None] if group == 1 else [None, number(corner.min()), number(corner.max())]
    try:  # the new map and its hover grid arrive from the kernel
        wait_until(page, """([root, grid, first]) => { const n = document.querySelector(root);
            const rows = n.querySelectorAll('.kx-cells tr'); if (rows.length !== grid[0]) return false;
            const td = rows[0].children[0]; return rows[0].children.length === grid[1] &&
                [td.dataset.v || null, td.dataset.lo || null, td.dataset.hi || null].join() === first.join(); }""",
                   UPDATE_TIMEOUT_MS, [root, grid, first])
    except AssertionError:
        state = page.evaluate(KERNEL_HOVER_STATE, [root, 0, 0])
        return [f"{where}: the hover grid shows {state['grid']} cells, first {state['first']}; expected {grid}, {first}"]
    row, col = case["cell"]
    cell = page.locator(f"{root} .kx-cells tr:nth-child({row + 1}) td:nth-child({col + 1})")
    page.locator(root).evaluate("n => n.scrollIntoView({block: 'center'})")
    state = page.evaluate(KERNEL_HOVER_STATE, [root, row, col])
    if state["patch"] or readout(page):
        problems.append(f"{where}: patch box or readout shown before pointing")
    cell.hover()
    page.wait_for_timeout(150)
    state = page.evaluate(KERNEL_HOVER_STATE, [root, row, col])
    if screenshot:
        save_screenshot(page.locator(root), screenshot)
    problems += [f"{where} while pointing: {problem}" for problem in page.evaluate(LAYOUT_PROBLEMS, root)]
    rows, cols = row_groups[row], col_groups[col]
    top, bottom, clipped_rows = _expected_span(image.shape[0], size, stride, padding, *rows)
    left, right, clipped_cols = _expected_span(image.shape[1], size, stride, padding, *cols)
    # the input picture: image pixels -> CSS pixels; the map: output cells -> CSS pixels
    scale_y, scale_x = state["input"]["h"] / image.shape[0], state["input"]["w"] / image.shape[1]
    expected_patch = {"x": state["input"]["x"] + left * scale_x, "y": state["input"]["y"] + top * scale_y,
                      "w": (right - left) * scale_x, "h": (bottom - top) * scale_y}
    cell_y, cell_x = state["map"]["h"] / fmap.shape[0], state["map"]["w"] / fmap.shape[1]
    expected_cell = {"x": state["map"]["x"] + cols[0] * cell_x, "y": state["map"]["y"] + rows[0] * cell_y,
                     "w": (cols[1] - cols[0] + 1) * cell_x, "h": (rows[1] - rows[0] + 1) * cell_y}
    near = lambda a, b: a is not None and all(abs(a[k] - b[k]) <= 0.6 for k in "xywh")  # noqa: E731
    if not near(state["patch"], expected_patch):
        problems.append(f"{where}: patch box at {state['patch']}, expected {expected_patch} "
                        f"(image rows {top}-{bottom}, columns {left}-{right})")
    if not (state["cell_outlined"] and near(state["cell"], expected_cell)):
        problems.append(f"{where}: map cell {'outlined' if state['cell_outlined'] else 'not outlined'} at {state['cell']}, "
                        f"expected {expected_cell}")
    label = lambda names, span: (f"{names[0]} {span[0]}" if span[0] == span[1] else f"{names[1]} {span[0]}–{span[1]}")  # noqa: E731
    block = fmap[rows[0]:rows[1] + 1, cols[0]:cols[1] + 1]
    value = (words["value"].format(number(block[0, 0])) if group == 1
             else words["range"].format(number(block.min()), number(block.max())))
    lines = [f"{label(words['row'], rows)}, {label(words['col'], cols)}", value]
    text, box = readout(page) or ("", None)
    # the readout lies on the space kept for it under the map (the hint), as wide as the map
    if box is None or not (abs(box["x"] - state["map"]["x"]) <= 1 and abs(box["w"] - state["map"]["w"]) <= 1 and
                           state["map"]["y"] + state["map"]["h"] <= box["y"] and box["y"] + box["h"] <= state["hint"]["bottom"] + 1):
        problems.append(f"{where}: readout drawn at {box}, not on the space under the map (map {state['map']}, "
                        f"hint ending at {state['hint']['bottom']})")
    if text.split("\n")[:2] != lines or (words["clipped"] in text) != (clipped_rows or clipped_cols):
        problems.append(f"{where}: readout {text!r}, expected {lines} {'with' if clipped_rows or clipped_cols else 'without'} "
                        "the clipping note")
    if not state["hint_hidden"]:
        problems.append(f"{where}: the hint stays under the readout")
    page.mouse.move(2, 2)
    page.wait_for_timeout(150)
    state = page.evaluate(KERNEL_HOVER_STATE, [root, row, col])
    if state["patch"] or readout(page) or state["cell_outlined"] or state["hint_hidden"]:
        problems.append(f"{where}: the link stays after the pointer left the feature map")
    return problems


def controls(page, root: str) -> list[tuple[str, object]]:
    """Every control of the widget, with its kind."""
    found = []
    for kind, selector in (("dropdown", ".widget-dropdown select"), ("toggle buttons", ".widget-toggle-buttons"),
                           ("slider", ".widget-slider .noUi-handle, .widget-hslider .noUi-handle"),
                           ("checkbox", ".widget-checkbox input[type=checkbox]"),
                           ("button", "button.widget-button:not(.widget-toggle-button)"),
                           ("number", ".widget-text input[type=number]"), ("upload", "button.widget-upload")):
        locator = page.locator(", ".join(f"{root} {part.strip()}" for part in selector.split(",")))
        found += [(kind, locator.nth(i)) for i in range(locator.count())]
    return found


def click_track(handle, fraction: float) -> None:
    """Click a slider's track at ``fraction`` of its length (0 = minimum)."""
    track = handle.locator("xpath=ancestor::*[contains(@class, 'noUi-target')][1]")
    # In the middle of the screen: near its edges JupyterLab's status bar or toolbar can take the click.
    track.evaluate("t => t.scrollIntoView({block: 'center'})")
    box = track.bounding_box()
    offset = min(max(fraction * box["width"], 1.5), box["width"] - 1.5)  # on the track, not on its border
    handle.page.mouse.click(box["x"] + offset, box["y"] + box["height"] / 2)


def slider_fraction(handle) -> float:
    return handle.evaluate("""h => { const [v, lo, hi] = ['aria-valuenow', 'aria-valuemin', 'aria-valuemax']
        .map(a => Number(h.getAttribute(a))); return hi > lo ? (v - lo) / (hi - lo) : 0; }""")


def move(kind: str, control) -> str:
    """Change ``control`` as a user would (a slider at its end moves back); return what was done."""
    control.scroll_into_view_if_needed()
    if kind == "dropdown":
        values = control.evaluate("s => [...s.options].map(o => o.value)")
        current = control.input_value()
        target = next((v for v in values if v != current), None)
        if target is None:
            return ""
        control.select_option(target)
        return f"dropdown -> {control.evaluate('s => s.options[s.selectedIndex].text')!r}"
    if kind == "toggle buttons":
        button = control.locator("button:not(.mod-active)").first
        label = button.inner_text()
        button.click()
        return f"toggle {label!r}"
    if kind == "slider":
        # A click on the track, as a user does: to 3/4 of the range, or 1/4 when already past the middle.
        state = control.evaluate("""h => { const s = h.closest('.widget-slider, .widget-hslider');
            const l = s && s.querySelector('.widget-label');
            const [v, lo, hi] = ['aria-valuenow', 'aria-valuemin', 'aria-valuemax'].map(a => Number(h.getAttribute(a)));
            return {label: l ? l.innerText : '', fraction: hi > lo ? (v - lo) / (hi - lo) : 0}; }""")
        click_track(control, 0.25 if state["fraction"] > 0.5 else 0.75)
        return f"slider {state['label']!r} -> {'1/4' if state['fraction'] > 0.5 else '3/4'}"
    if kind == "upload":
        with control.page.expect_file_chooser() as chooser:
            control.click()
        chooser.value.set_files(str(SAMPLE_PHOTO))
        return "upload grace_hopper.jpg"
    if kind == "number":
        control.fill("2.5")
        control.press("Enter")
        return "weight := 2.5"
    control.click()
    return f"{kind} {control.inner_text()!r}" if kind == "button" else "checkbox"


def check_widget(page, root: str, name: str) -> dict:
    """Layout before and after every control change.

    Returns ``{'moves': [...], 'repaint_ms': [...], 'failures': [...]}``: every broken rule is
    collected (not only the first), so one run shows all that is wrong with a widget.
    """
    failures = [f"{name} as first shown: {problem}" for problem in page.evaluate(LAYOUT_PROBLEMS, root)]
    moves, repaints = [], []
    for kind, control in controls(page, root):
        if not control.is_visible() or (kind == "button" and not control.is_enabled()):
            continue
        start_fraction = slider_fraction(control) if kind == "slider" else None
        start_value = float(control.get_attribute("aria-valuenow")) if kind == "slider" else None
        before = page.evaluate(RENDERED, root)
        page.evaluate(WATCH, [root, kind == "upload"])
        done = move(kind, control)
        if not done:
            continue
        deadline = time.monotonic() + UPDATE_TIMEOUT_MS / 1000
        after = before
        while after == before and time.monotonic() < deadline:
            page.wait_for_timeout(50)
            after = page.evaluate(RENDERED, root)
        if after == before:
            failures.append(f"{name}: the output did not change after {done} (it shows {after[-160:]})")
        page.wait_for_timeout(150)  # let the images of the new output load before measuring them
        timing = page.evaluate("() => window.__repaint")
        if timing["t0"] is not None and timing["t1"] is not None:
            repaints.append(round(timing["t1"] - timing["t0"], 1))
        failures += [f"{name} after {done}: {problem}" for problem in page.evaluate(LAYOUT_PROBLEMS, root)]
        failures += [f"{name} after {done}: {error}" for error in page_widget_errors(page, root)]
        moves.append(done)
        if start_fraction is not None:  # each slider is tried from the widget's first state, not from the last move's
            click_track(control, start_fraction)
            for _ in range(400):  # the click lands within a pixel; the arrow keys finish the job exactly
                now = float(control.get_attribute("aria-valuenow"))
                if abs(now - start_value) < 1e-9:
                    break
                control.press("ArrowLeft" if now > start_value else "ArrowRight")
            page.wait_for_timeout(300)
    if not moves:
        failures.append(f"{name}: no control was found to move")
    return {"moves": moves, "repaint_ms": repaints, "failures": failures}


# --------------------------------------------------------------------------- JupyterLab


def _run_gallery(chromium, tmp_path, language: str, record_timing) -> dict:
    home = tmp_path / "jupyterlab"
    course = home / "course"
    course.mkdir(parents=True)
    nbformat.write(gallery_notebook(language), course / "gallery.ipynb")
    _lab_settings(home)
    results = {}
    with jupyter_server("lab", home, root_dir=course) as (base, token):
        context, page, problems = open_page(chromium, f"{base}/lab/tree/gallery.ipynb?reset&token={token}", viewport=DESKTOP)
        try:
            wait_until(page, _KERNEL_IDLE, RUN_TIMEOUT_MS)
            # JupyterLab's default layout has the file browser open; make sure it is (the narrow case).
            page.evaluate("() => { const shell = window.jupyterapp.shell; if (shell.leftCollapsed) shell.expandLeft(); }")
            page.wait_for_timeout(300)
            assert page.evaluate("() => !window.jupyterapp.shell.leftCollapsed"), "the file browser must be open"
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            count = len(GALLERY) + 1
            wait_until(page, """(count) => { const panel = window.jupyterapp.shell.currentWidget;
                const cells = panel.content.widgets.filter(c => c.model.type === 'code');
                return cells.length === count && panel.sessionContext.session.kernel.status === 'idle' &&
                       cells.every(c => c.model.executionCount !== null); }""", RUN_TIMEOUT_MS, count)
            assert page.evaluate(_CELL_ERRORS, count) == [], "a gallery cell raised"
            for index, name in enumerate(GALLERY, start=1):
                page.evaluate("""([index, name]) => { const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
                    cell.node.setAttribute('data-gallery', name); cell.node.scrollIntoView({block: 'start'}); }""", [index, name])
                root = f"[data-gallery='{name}'] .jp-Cell-outputArea"
                wait_until(page, """(root) => { const n = document.querySelector(root);
                    return !!n && !!n.querySelector('.jupyter-widgets') &&
                           [...n.querySelectorAll('img')].every(i => i.offsetParent === null || (i.complete && i.naturalWidth > 0)); }""",
                           UPDATE_TIMEOUT_MS, root)
                page.wait_for_timeout(200)
                assert page_widget_errors(page, root) == [], name
                save_screenshot(page.locator(root), f"widget_{name}" + ("" if language == "en" else f"_{language}"))
                results[name] = check_widget(page, root, name)
                if name == "sliding_window_stepper":
                    hover_shot = "widget_sliding_window_stepper_hover" + ("" if language == "en" else f"_{language}")
                    results[name]["failures"] += linked_view_problems(page, root, hover_shot)
                if name == "kernel_explorer":  # back to Sobel x on the synthetic face, then point at the edge of its left eye
                    page.locator(f"{root} .widget-dropdown select").nth(1).select_option(index=KERNEL_PRESETS.index("sobel_x"))
                    hover_shot = "widget_kernel_explorer_hover" + ("" if language == "en" else f"_{language}")
                    case = {"source": "synthetic", "stride": 1, "padding": "same", "cell": (22, 17)}
                    results[name]["failures"] += kernel_link_problems(page, root, _gallery_faces(), case, language, hover_shot)
            assert problems == [], f"JavaScript errors in the page: {problems}"
        finally:
            context.close()
    for name, result in results.items():
        if result["repaint_ms"]:
            record_timing(f"browser repaint {name} ({language}), median of {len(result['repaint_ms'])} moves",
                          statistics.median(result["repaint_ms"]) / 1000)
    return results


@pytest.mark.parametrize("language", ["en", "ro"])
def test_every_widget_keeps_the_layout_standard_in_jupyterlab(chromium, tmp_path, language, record_timing):
    results = _run_gallery(chromium, tmp_path, language, record_timing)
    assert set(results) == set(GALLERY)
    failures = [failure for result in results.values() for failure in result["failures"]]
    assert failures == [], "\n".join(failures)
    REPAINT_FILE.parent.mkdir(parents=True, exist_ok=True)
    recorded = json.loads(REPAINT_FILE.read_text()) if REPAINT_FILE.exists() else {}
    recorded[language] = {name: r["repaint_ms"] for name, r in results.items()}
    REPAINT_FILE.write_text(json.dumps(recorded, indent=1) + "\n")


#: Where the kernel explorer's link is checked: grouped cells on the 266x266 photo, one cell per output on the
#: 48x48 face; 'same' patches that run off the image at a corner, interior ones, stride 1 and 2.
KERNEL_CASES = [{"cell": (0, 0)},  # the photo, as first shown: stride 1, 'same', 6x6 cells a hover cell
                {"cell": (44, 20)},  # the photo's last row of groups (only 2 output rows)
                {"stride": 2, "cell": (43, 43)},  # 133x133 in 3x3 groups: the last group has 4 rows and columns
                {"source": "synthetic", "stride": 2, "cell": (23, 23)},  # clipped at the bottom right
                {"cell": (5, 7)},
                {"stride": 1, "padding": "valid", "cell": (10, 20)},
                {"stride": 2, "cell": (0, 21)}]


@pytest.mark.parametrize("language", ["en", "ro"])
def test_kernel_explorer_links_each_feature_map_cell_to_its_patch(chromium, tmp_path, language):
    """Pointing at the kernel explorer's feature map shows the patch over the input, in a real browser."""
    home = tmp_path / "jupyterlab"
    course = home / "course"
    course.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    setup = SETUP.format(language=language).split("model, _ = load_shipped_or")[0]  # no model needed here
    notebook.cells = [nbformat.v4.new_code_cell(setup), nbformat.v4.new_code_cell(CELLS["kernel_explorer"])]
    nbformat.write(notebook, course / "kernel.ipynb")
    _lab_settings(home)
    faces = _gallery_faces()
    with jupyter_server("lab", home, root_dir=course) as (base, token):
        context, page, problems = open_page(chromium, f"{base}/lab/tree/kernel.ipynb?reset&token={token}", viewport=DESKTOP)
        try:
            wait_until(page, _KERNEL_IDLE, RUN_TIMEOUT_MS)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            wait_until(page, """() => { const cells = window.jupyterapp.shell.currentWidget.content.widgets;
                return cells.length === 2 && cells.every(c => c.model.executionCount !== null); }""", RUN_TIMEOUT_MS)
            assert page.evaluate(_CELL_ERRORS, 2) == [], "a cell raised"
            page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets[1].node.setAttribute('data-kernel', 'yes')")
            root = "[data-kernel='yes'] .jp-Cell-outputArea"
            wait_until(page, "(root) => !!document.querySelector(root + ' .kx-cells td')", UPDATE_TIMEOUT_MS, root)
            failures = []
            for case in KERNEL_CASES:
                failures += kernel_link_problems(page, root, faces, case, language)
            assert failures == [], "\n".join(failures)
            assert problems == [], f"JavaScript errors in the page: {problems}"
        finally:
            context.close()


def test_the_gallery_has_every_widget_builder():
    """A new explorer must be added to tests/widget_gallery.py, so the layout test covers it."""
    import inspect

    import utils.widgets.convolution
    import utils.widgets.descent
    import utils.widgets.images
    import utils.widgets.model
    import utils.widgets.pooling

    builders = {name for module in (utils.widgets.convolution, utils.widgets.descent, utils.widgets.images,
                                    utils.widgets.model, utils.widgets.pooling)
                for name, function in inspect.getmembers(module, inspect.isfunction)
                if function.__module__ == module.__name__ and not name.startswith("_") and name != "jpeg_bytes"}
    assert builders == set(GALLERY)


# --------------------------------------------------------------------------- Voila filter lab


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_filter_lab_keeps_the_layout_standard_in_voila(chromium, tmp_path, viewport, record_timing):
    """The app a student is sent a link to: both languages, no server paths or commands, no scrollbars."""
    app_dir = tmp_path / "apps"
    shutil.copytree(APP.parent, app_dir)
    with jupyter_server("voila", tmp_path, APP.name, root_dir=app_dir) as (base, _):
        for language, title in (("en", "Filter lab"), ("ro", "Laboratorul de filtre")):
            context, page, problems = open_page(chromium, f"{base}/?lang={language}", viewport=viewport, routes=FONT_AWESOME_CDN)
            try:
                wait_until(page, "() => document.querySelectorAll('.course-widget').length >= 3", RUN_TIMEOUT_MS)
                page.wait_for_timeout(500)
                body = page.inner_text("body")
                assert title in body
                assert not re.search(r"/work/|\.venv|python -m|\.keras|\.py\b|Traceback", body), "server detail shown to users"
                width = page.evaluate("() => document.documentElement.scrollWidth")
                assert width <= viewport["width"], f"the page scrolls sideways: {width} px"
                page.evaluate("""() => document.querySelectorAll('.course-widget').forEach((n, i) =>
                                      n.setAttribute('data-app-widget', String(i)))""")
                count = page.evaluate("() => document.querySelectorAll('[data-app-widget]').length")
                for index in range(count):
                    root = f"[data-app-widget='{index}']"
                    assert page.evaluate(LAYOUT_PROBLEMS, root) == [], f"{language} widget {index}"
                kind = "phone" if viewport is PHONE else "desktop"
                page.screenshot(path=str(PROJECT_ROOT / "build" / "screenshots" / f"filter_lab_{kind}_{language}.png"))
                save_screenshot(page.locator("body"), f"filter_lab_{kind}_{language}")
                if language == "en":
                    # The language switch re-labels everything in place.
                    page.locator(".widget-toggle-buttons button", has_text="Română").first.click()
                    wait_until(page, "() => document.body.innerText.includes('Exploratorul de nuclee')", UPDATE_TIMEOUT_MS)
                    assert "imagine" in page.inner_text("body")
                assert problems == [], f"JavaScript errors: {problems}"
            finally:
                context.close()
