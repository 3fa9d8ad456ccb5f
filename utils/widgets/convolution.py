"""Explorers for lesson 02 (convolution): the sliding window, a kernel editor, a filter bank.

- :func:`sliding_window_stepper`: one output cell at a time on a small array: the patch,
  the element-wise products, their sum, and the feature map filling up.
- :func:`kernel_explorer`: an editable 3x3 / 5x5 kernel with presets, stride and padding,
  applied live to a choice of images; pointing at a cell of the feature map outlines its
  patch on the input and shows the cell's row, column and value (CSS only, like the stepper).
- :func:`filter_bank`: several kernels applied at once, all feature maps side by side
  (what one convolutional layer outputs).
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import ipywidgets as widgets
import numpy as np

from utils.i18n import fmt, tr
from utils.layers.convolution import KERNELS, ConvolutionError, conv2d, conv_step, correlate2d, pad_amounts
from utils.viz import DISPLAY_PERCENTILE, kernel_title, signed_range
from utils.widgets.display import png_bytes, to_uint8
from utils.widgets.layout import (
    COLOURS,
    column,
    explorer_box,
    image_view,
    label_style,
    rgb,
    row,
    show_image,
    style_sheet,
)

_DISPLAY_WIDTH = 240  # pixels: small images are enlarged to about this width
_OUTLINE = "#d4a017"  # the darker gold that outlines a lit patch / output cell (COLOURS["window"] on white is faint)


def _zoom_for(image: np.ndarray) -> int:
    return max(1, _DISPLAY_WIDTH // max(image.shape[:2]))


def _gray_2d(image: np.ndarray, name: str) -> np.ndarray:
    """A ``(H, W)`` float array from a grayscale image ``(H, W)`` / ``(H, W, 1)``, with a clear error otherwise."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim != 2:
        raise ValueError(f"{name}: expected a grayscale image (H, W) or (H, W, 1), got shape {image.shape}; "
                         "convert colour photos with utils.images.to_gray first")
    return image.astype(np.float32)


def _map_png(fmap: np.ndarray, zoom: int) -> bytes:
    low, high = signed_range(fmap, DISPLAY_PERCENTILE)
    return png_bytes(to_uint8(fmap, low, high), zoom=zoom)


def _range_text(fmap: np.ndarray) -> str:
    low, high = signed_range(fmap, DISPLAY_PERCENTILE)
    lo, hi = fmt(float(low), ".4g"), fmt(float(high), ".4g")  # decimal commas in Romanian
    if low < 0 and np.isclose(low, -high):  # centred on 0: an edge-like map
        scale = tr(f"mid-gray = 0, black &le; {lo}, white &ge; {hi}", f"gri mediu = 0, negru &le; {lo}, alb &ge; {hi}")
    else:
        scale = tr(f"black &le; {lo}, white &ge; {hi}", f"negru &le; {lo}, alb &ge; {hi}")
    return (f"{tr('feature map', 'hartă de trăsături')} {fmap.shape[0]}x{fmap.shape[1]}, "
            f"{tr('values from', 'valori de la')} {fmt(float(fmap.min()), '.4g')} {tr('to', 'la')} "
            f"{fmt(float(fmap.max()), '.4g')} ({scale})")


# --------------------------------------------------------------------------- sliding window


def _cell_style(background: str, bold: bool = False) -> str:
    weight = "font-weight:bold;" if bold else ""
    # compact cells: input, products and feature map of a 15x15 array fit one 840 px row
    return f"style='border:1px solid #999;padding:1px 3px;text-align:right;min-width:1.9em;background:{background};{weight}'"


def _table(values: np.ndarray, backgrounds: np.ndarray, fmt: str = "g", blank: np.ndarray | None = None,
           cell_attributes: np.ndarray | None = None, css_class: str = "") -> str:
    rows = []
    for i in range(values.shape[0]):
        cells = []
        for j in range(values.shape[1]):
            text = "&nbsp;" if blank is not None and blank[i, j] else format(values[i, j], fmt)
            extra = f" {cell_attributes[i, j]}" if cell_attributes is not None and cell_attributes[i, j] else ""
            cells.append(f"<td {_cell_style(backgrounds[i, j])}{extra}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    klass = f" class='{css_class}'" if css_class else ""
    return f"<table{klass} style='border-collapse:collapse;font-family:monospace;font-size:12px'>" + "".join(rows) + "</table>"


def _cell_name(row: int, col: int) -> str:
    return f"{row}-{col}"


def _hover_rules(scope: str, outputs: tuple[int, int]) -> str:
    """CSS that links the views on hover, no JavaScript: pointing at an output cell lights up its patch.

    ``:has()`` (every current browser) lets the widget's root react to the hovered cell; input
    cells carry the names of the output cells whose window covers them (``data-windows``),
    each output cell its own name (``data-cell``), each arithmetic panel the cell it explains.
    """
    window, output = COLOURS["window"], COLOURS["output"]
    hovering = f".{scope}:has(.sws-output td:hover)"
    rules = [f"{hovering} .sws-current {{display:none}}",
             # the current step fades while another cell is pointed at (the hovered cell's rules win: more specific)
             f"{hovering} .sws-input td.sws-step, {hovering} .sws-output td.sws-step {{background:white !important}}",
             f"{hovering} .sws-input td.sws-step.sws-pad {{background:{COLOURS['padding']} !important}}",
             f".{scope} .sws-hover {{display:none}}",
             f".{scope} .sws-output td[data-cell] {{cursor:crosshair}}"]
    for row_index in range(outputs[0]):
        for col_index in range(outputs[1]):
            name = _cell_name(row_index, col_index)
            hovered = f".{scope}:has(.sws-output td[data-cell='{name}']:hover)"
            rules.append(f"{hovered} .sws-input td[data-windows~='{name}'] "
                         f"{{background:{window} !important;outline:2px solid {_OUTLINE};outline-offset:-2px}}")
            rules.append(f"{hovered} .sws-output td[data-cell='{name}'] {{background:{output} !important;"
                         f"outline:2px solid {_OUTLINE};outline-offset:-2px}}")
            rules.append(f"{hovered} .sws-hover[data-cell='{name}'] {{display:block}}")
    return "<style>" + "\n".join(rules) + "</style>"


class SlidingWindowStepper(widgets.VBox):
    """Step the kernel over a small 2D array, one output cell per slider position.

    Controls: ``position`` (slider over output cells, row by row), ``play``, ``stride``,
    ``padding``. Outputs (HTML): ``input_view`` (padded input, patch highlighted),
    ``arithmetic`` (patch x kernel = products, their sum), ``output_view`` (the feature map,
    filled up to the current cell). ``step`` is the current :class:`ConvStep`.

    The views are linked: pointing at any cell of the feature map lights up its patch on the
    input and shows its products and sum in place of the current step's (``hover_view`` holds
    one panel per output cell, computed here in Python; the linking is CSS, see
    :func:`_hover_rules`), so the widget works the same in JupyterLab, Voila, VS Code and Colab.
    """

    _instances = 0

    def __init__(self, image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: str = "valid"):
        self.image = _gray_2d(image, "image")
        self.kernel = np.asarray(kernel, dtype=np.float32)
        if self.kernel.ndim != 2:
            raise ValueError(f"kernel: expected a 2D kernel (K, K), got shape {self.kernel.shape}")
        if self.image.size > 15 * 15:
            raise ValueError(f"the stepper shows every number: use a small array (at most 15x15), got {self.image.shape}")
        style = label_style(tr("output cell", "celula de ieșire"), tr("stride", "pas"), tr("padding", "bordare"))
        self.position = widgets.IntSlider(0, 0, 0, description=tr("output cell", "celula de ieșire"), continuous_update=True,
                                          style=style)
        self.play = widgets.Play(interval=700, min=0, max=0, description=tr("play", "pornire"))
        widgets.jslink((self.play, "value"), (self.position, "value"))
        buttons = {"button_width": "auto", **style}
        self.stride = widgets.ToggleButtons(options=[1, 2], value=stride, description=tr("stride", "pas"), style=buttons)
        self.padding = widgets.ToggleButtons(options=["valid", "same"], value=padding, description=tr("padding", "bordare"), style=buttons)
        self.input_view, self.arithmetic, self.output_view = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.hover_view, self.hover_rules = widgets.HTML(), widgets.HTML(layout=widgets.Layout(height="0px", margin="0px"))
        SlidingWindowStepper._instances += 1
        self.scope = f"sws-{SlidingWindowStepper._instances}"  # the CSS rules of one stepper never reach another
        for control in (self.position, self.stride, self.padding):
            control.observe(self._update, names="value")
        self._reshape()
        hint = widgets.HTML(f"<i>{tr('point at a cell of the feature map to see where it comes from', 'indicați o celulă a hărții de trăsături ca să vedeți de unde vine')}</i>")
        panels = row([
            column([widgets.HTML(f"<b>{tr('input', 'intrare')}</b>"), self.input_view]),
            column([widgets.HTML(f"<b>{tr('patch ⊙ kernel = products', 'fereastră ⊙ nucleu = produse')}</b>"),
                    self.arithmetic, self.hover_view]),
            column([widgets.HTML(f"<b>{tr('feature map', 'hartă de trăsături')}</b>"), self.output_view, hint]),
        ])
        super().__init__([style_sheet(), self.hover_rules, row([self.play, self.position, self.stride, self.padding], gap="4px 16px"),
                          panels])
        self.add_class(self.scope)
        explorer_box(self)

    def _reshape(self) -> None:
        """Recompute the whole feature map after a stride/padding change and resize the slider."""
        self.feature_map = correlate2d(self.image, self.kernel, self.stride.value, self.padding.value)
        cells = self.feature_map.size
        self.play.max = cells - 1
        with self.position.hold_trait_notifications():
            self.position.max = cells - 1
            self.position.value = min(self.position.value, cells - 1)
        self._draw_hover_panels()
        self._draw()

    def _arithmetic_html(self, step) -> str:
        """patch ⊙ kernel = products, and their sum: how one output cell is computed."""
        plain = np.full(self.kernel.shape, "white", dtype=object)
        kernel_colour = np.full(self.kernel.shape, COLOURS["kernel"], dtype=object)
        return (
            "<div style='display:flex;gap:8px;align-items:center'>"
            f"{_table(step.patch, np.full(self.kernel.shape, COLOURS['window'], dtype=object))}<span>&#x2299;</span>"
            f"{_table(self.kernel, kernel_colour)}<span>=</span>{_table(step.products, plain, '.3g')}</div>"
            f"<p>{tr('sum of the products', 'suma produselor')} = {step.products.sum():.4g} "
            f"&rarr; {tr('output cell', 'celula de ieșire')} ({step.row}, {step.col})</p>")

    def _draw_hover_panels(self) -> None:
        """One hidden arithmetic panel per output cell, and the CSS that shows it on hover."""
        rows, cols = self.feature_map.shape
        panels = []
        for row_index in range(rows):
            for col_index in range(cols):
                step = conv_step(self.image, self.kernel, row_index, col_index, self.stride.value, self.padding.value)
                panels.append(f"<div class='sws-hover' data-cell='{_cell_name(row_index, col_index)}'>"
                              f"{self._arithmetic_html(step)}</div>")
        self.hover_view.value = "".join(panels)
        self.hover_rules.value = _hover_rules(self.scope, (rows, cols))
        self._windows = None  # the input cells' data-windows, for the padded shape of this stride/padding

    def _update(self, change) -> None:
        if change["owner"] is self.position:
            self._draw()
        else:
            self._reshape()

    def _draw(self) -> None:
        rows, cols = self.feature_map.shape
        row, col = divmod(self.position.value, cols)
        step = conv_step(self.image, self.kernel, row, col, self.stride.value, self.padding.value)
        self.step = step
        k_h, k_w = self.kernel.shape
        pad_top, pad_left = self._pad_offsets()
        background = np.full(step.padded.shape, "white", dtype=object)
        background[:pad_top, :] = background[pad_top + self.image.shape[0]:, :] = COLOURS["padding"]
        background[:, :pad_left] = background[:, pad_left + self.image.shape[1]:] = COLOURS["padding"]
        if self._windows is None:
            self._windows = self._windows_attributes(step.padded.shape)
        attributes = self._windows.copy()
        for i in range(step.top, step.top + k_h):
            for j in range(step.left, step.left + k_w):
                # the current step's patch, so that pointing at another cell can fade it (see _hover_rules)
                kind = "sws-step sws-pad" if background[i, j] == COLOURS["padding"] else "sws-step"
                attributes[i, j] = f"{attributes[i, j]} class='{kind}'".strip()
        background[step.top:step.top + k_h, step.left:step.left + k_w] = COLOURS["window"]
        self.input_view.value = _table(step.padded, background, cell_attributes=attributes, css_class="sws-input")
        self.arithmetic.value = f"<div class='sws-current'>{self._arithmetic_html(step)}</div>"
        done = np.arange(rows * cols).reshape(rows, cols) > self.position.value
        out_background = np.full((rows, cols), "white", dtype=object)
        out_background[row, col] = COLOURS["output"]
        names = np.array([[f"data-cell='{_cell_name(i, j)}'" for j in range(cols)] for i in range(rows)], dtype=object)
        names[row, col] += " class='sws-step'"
        self.output_view.value = _table(self.feature_map, out_background, ".3g", blank=done, cell_attributes=names,
                                        css_class="sws-output")

    def _windows_attributes(self, padded_shape: tuple[int, int]) -> np.ndarray:
        """For each padded input cell, ``data-windows`` = the output cells whose window covers it."""
        covers = np.empty(padded_shape, dtype=object)
        for index in np.ndindex(padded_shape):
            covers[index] = []
        k_h, k_w = self.kernel.shape
        stride = self.stride.value
        for row_index, col_index in np.ndindex(self.feature_map.shape):
            top, left = row_index * stride, col_index * stride
            for i in range(top, top + k_h):
                for j in range(left, left + k_w):
                    covers[i, j].append(_cell_name(row_index, col_index))
        attributes = np.empty(padded_shape, dtype=object)
        for index in np.ndindex(padded_shape):
            attributes[index] = f"data-windows='{' '.join(covers[index])}'" if covers[index] else ""
        return attributes

    def _pad_offsets(self) -> tuple[int, int]:
        """Zero rows above and zero columns left of the image (gray in the input table)."""
        return (pad_amounts(self.image.shape[0], self.kernel.shape[0], self.stride.value, self.padding.value)[0],
                pad_amounts(self.image.shape[1], self.kernel.shape[1], self.stride.value, self.padding.value)[0])


def sliding_window_stepper(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: str = "valid") -> SlidingWindowStepper:
    """A step-by-step view of 2D cross-correlation on a small array (at most 15x15)."""
    return SlidingWindowStepper(image, kernel, stride, padding)


# --------------------------------------------------------------------------- kernel explorer


_CUSTOM = "custom"
#: At most this many hover cells per side of the feature map: a larger map (the 266x266 photo) is
#: pointed at in square groups of cells, which keeps the HTML of one update small (~2,300 cells).
_HOVER_SIDE = 48


@dataclass(frozen=True)
class HoverSpan:
    """One row (or column) of the kernel explorer's hover grid, along one axis.

    ``first``..``last``: the output cells it covers (inclusive; equal unless the map is grouped);
    ``start``..``end``: the input pixels their windows read, clipped to the image (end exclusive);
    ``clipped_before`` / ``clipped_after``: the windows run off the image there ('same' padding).
    """

    first: int
    last: int
    start: int
    end: int
    clipped_before: bool
    clipped_after: bool


@dataclass(frozen=True)
class HoverGeometry:
    """Where every hover cell of the kernel explorer reads the input: rows x columns of :class:`HoverSpan`."""

    image_shape: tuple[int, int]
    map_shape: tuple[int, int]
    group: int  # output cells per hover cell along each axis (1: one hover cell per output cell)
    rows: tuple[HoverSpan, ...]
    cols: tuple[HoverSpan, ...]
    kernel: int
    stride: int
    pads: tuple[int, int]  # zeros above and left of the image


def _hover_spans(size: int, kernel: int, stride: int, padding: str, out: int, group: int) -> tuple[HoverSpan, ...]:
    """The windows of output cells 0..out-1 along one axis, ``group`` cells at a time (a last group of
    one cell joins the one before it): in padded coordinates cell i reads ``i*stride .. i*stride + kernel``,
    so ``pad`` less in the image's."""
    pad = pad_amounts(size, kernel, stride, padding)[0]
    firsts = list(range(0, out, group))
    if group > 1 and len(firsts) > 1 and out - firsts[-1] == 1:
        firsts.pop()
    spans = []
    for index, first in enumerate(firsts):
        last = (firsts[index + 1] if index + 1 < len(firsts) else out) - 1
        start, end = first * stride - pad, last * stride - pad + kernel
        spans.append(HoverSpan(first, last, max(start, 0), min(end, size), start < 0, end > size))
    return tuple(spans)


def _hover_geometry(image_shape: tuple[int, int], map_shape: tuple[int, int], kernel: int, stride: int,
                    padding: str) -> HoverGeometry:
    """The hover grid of a ``map_shape`` feature map of a ``kernel`` x ``kernel`` correlation of ``image_shape``."""
    group = max(1, -(-max(map_shape) // _HOVER_SIDE))
    return HoverGeometry(tuple(image_shape), tuple(map_shape), group,
                         _hover_spans(image_shape[0], kernel, stride, padding, map_shape[0], group),
                         _hover_spans(image_shape[1], kernel, stride, padding, map_shape[1], group), kernel, stride,
                         (pad_amounts(image_shape[0], kernel, stride, padding)[0], pad_amounts(image_shape[1], kernel, stride, padding)[0]))


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ") + '"'


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.5f}%"


def _counter_rules(cells: str, geometry: HoverGeometry) -> list[str]:
    """CSS counters that number the hover grid's rows and columns: ``kx-r0``..``kx-r1`` the output rows of the
    hovered cell, ``kx-c0``..``kx-c1`` its columns (equal when every output cell has its own hover cell).

    Every group has ``group`` cells but the last (its own increment), so a handful of rules number them all;
    a rule per row or column (or a custom property per cell) would make every update's style work grow with
    the grid.
    """
    group = geometry.group

    def last_step(spans: tuple[HoverSpan, ...]) -> int:  # kx-*1 of the last group minus that of the one before
        return spans[-1].last - (spans[-2].last if len(spans) > 1 else -1)

    row_step, col_step = last_step(geometry.rows), last_step(geometry.cols)
    first_col = group if len(geometry.cols) > 1 else col_step
    reset_cols = f"counter-reset:kx-c0 {-group} kx-c1 -1"
    return [f"{cells} {{counter-reset:kx-r0 {-group} kx-r1 -1}}",
            f"{cells} td {{counter-increment:kx-c0 {group} kx-c1 {group}}}",
            f"{cells} td:last-child {{counter-increment:kx-c0 {group} kx-c1 {col_step}}}",
            # after td:last-child: a grid of one column has a first cell that is also the last
            f"{cells} td:first-child {{{reset_cols};counter-increment:kx-c0 {group} kx-c1 {first_col} kx-r0 {group} kx-r1 {group}}}",
            f"{cells} tr:last-child td:first-child {{{reset_cols};"
            f"counter-increment:kx-c0 {group} kx-c1 {first_col} kx-r0 {group} kx-r1 {row_step}}}"]


def _patch_rules(root: str, geometry: HoverGeometry, axis: str) -> list[str]:
    """Where the patch box goes along one axis ('row': top and height, 'col': left and width), in percent of the picture.

    Inside the image a hover cell's patch starts ``group * stride`` pixels after the one before
    it, so one formula places it: ``index * step - pad``. The hovered index reaches the box as
    its binary digits, one ``:has()`` rule per digit (``--kx-r0``, ``--kx-r1``, ... = 0 or 1);
    only the patches that differ (clipped at an edge, or a last group of another size) get a
    rule of their own. A rule per row and column would make the browser search the whole grid
    for the hovered cell once per rule, on every move of the pointer; this searches it about a
    dozen times (measured in Chromium: the difference between a smooth and a sluggish readout).
    """
    row = axis == "row"
    spans, size = (geometry.rows, geometry.image_shape[0]) if row else (geometry.cols, geometry.image_shape[1])
    pad = geometry.pads[0 if row else 1]
    start_name, extent_name, before, after = ("top", "height", "top", "bottom") if row else ("left", "width", "left", "right")
    extent = (geometry.group - 1) * geometry.stride + geometry.kernel
    name = "kx-r" if row else "kx-c"

    def hovered(indices: list[int]) -> str:  # the :has() argument: the hovered cell is in one of these rows / columns
        among = ", ".join(f":nth-child({index + 1})" for index in indices)
        return f".kx-cells tr:is({among}) td:hover" if row else f".kx-cells td:hover:is({among})"

    digits = max(1, (len(spans) - 1).bit_length())
    index = " + ".join(f"{1 << digit} * var(--{name}{digit}, 0)" for digit in range(digits))
    rules = [f"{root} .kx-patch {{{start_name}:calc(({index}) * {_percent(geometry.group * geometry.stride, size)} - "
             f"{_percent(pad, size)});{extent_name}:{_percent(extent, size)}}}"]
    for digit in range(digits):
        members = [i for i in range(len(spans)) if i >> digit & 1]
        if members:
            rules.append(f"{root}:has({hovered(members)}) .kx-patch {{--{name}{digit}:1}}")
    for i, span in enumerate(spans):
        start = span.first * geometry.stride - pad
        if (span.start, span.end) != (start, start + extent):  # clipped at an edge, or a group of another size
            dashes = (f";border-{before}-style:dashed" if span.clipped_before else "") + \
                     (f";border-{after}-style:dashed" if span.clipped_after else "")
            rules.append(f"{root}:has({hovered([i])}) .kx-patch "
                         f"{{{start_name}:{_percent(span.start, size)};{extent_name}:{_percent(span.end - span.start, size)}{dashes}}}")
    return rules


def _kernel_hover_rules(scope: str, geometry: HoverGeometry) -> str:
    """CSS that links the kernel explorer's two pictures on hover, no JavaScript (the idea of :func:`_hover_rules`).

    A transparent grid (``.kx-cells``, one cell per output cell, or per group of cells for a
    large map) lies over the feature map. Pointing at one of its cells outlines it, moves the box
    ``.kx-patch`` over the input onto the cell's patch (:func:`_patch_rules`, in percent of the
    picture, so the box follows a picture that a narrow screen shrinks) and shows a readout under
    the map: the cell's own ``::after``, whose row and column are CSS counters
    (:func:`_counter_rules`) and whose value is the cell's ``data-v`` attribute (``content:
    attr(...)``), so no rule is needed per cell. Only the geometry (image shape, kernel size,
    stride, padding) is in here: a weight edit changes the cells' values, not this.

    The grid is positioned out of flow with its layout contained: measured in Chromium, a
    readout that appears then costs a layout of the grid (2-4 ms) instead of one of the whole
    notebook page (12-15 ms).
    """
    window = COLOURS["window"]
    fill = "rgba({}, {}, {}, 0.3)".format(*rgb("window"))
    # ':has()' is anchored on the pictures' row (.kx-views), the nearest box holding both the map and the input:
    # a change elsewhere in the explorer (the kernel grid's boxes) then never makes the browser re-check these rules
    root, cells = f".{scope} .kx-views", f".{scope} .kx-cells"

    def tracks(spans: tuple[HoverSpan, ...]) -> str:  # grid tracks in output cells (the last group may differ)
        return " ".join(f"{span.last - span.first + 1}fr" for span in spans)

    if geometry.group > 1:
        where = (f'{_css_string(tr("rows ", "rândurile "))} counter(kx-r0) "–" counter(kx-r1) '
                 f'{_css_string(tr(", columns ", ", coloanele "))} counter(kx-c0) "–" counter(kx-c1)')
        value = (f'{_css_string(chr(10) + tr("values from ", "valori de la "))} attr(data-lo) '
                 f'{_css_string(tr(" to ", " la "))} attr(data-hi)')
    else:
        where = f'{_css_string(tr("row ", "rândul "))} counter(kx-r0) {_css_string(tr(", column ", ", coloana "))} counter(kx-c0)'
        value = f'{_css_string(chr(10) + tr("value ", "valoarea "))} attr(data-v)'
    rules = [
        f"{root} .kx-stack > * {{grid-area:1 / 1}}",
        f"{root} .kx-overlay {{margin:2px !important;min-width:0;min-height:0;width:auto;height:auto;"
        "align-self:stretch;justify-self:stretch}",
        f"{root} .kx-overlay > .widget-html-content {{height:100%;line-height:0}}",
        # out of flow and layout-contained: a readout appearing in the grid lays out the grid, not the page around it
        f"{cells} {{display:grid;position:absolute;left:0;top:0;width:100%;height:100%;contain:size layout;margin:0;"
        "border:0;cursor:crosshair;"
        f"grid-template-rows:{tracks(geometry.rows)};grid-template-columns:{tracks(geometry.cols)}}}",
        f"{cells} tbody, {cells} tr {{display:contents}}",
        f"{cells} td {{display:block;padding:0;margin:0;border:0;min-width:0;min-height:0;background:transparent}}",
        *_counter_rules(cells, geometry),
        f"{cells} td:hover {{background:{fill};outline:2px solid {window};box-shadow:0 0 0 3px {_OUTLINE}}}",
        f"{cells} td:hover::after {{content:{where} {value} var(--kx-clip, '');"
        "position:absolute;left:0;top:calc(100% + 6px);width:100%;box-sizing:border-box;white-space:pre-wrap;"
        f"font-size:12px;line-height:1.35;color:#222;background:white;border-left:4px solid {window};"
        "padding:1px 6px;text-align:left;pointer-events:none;z-index:2}",
        f"{root} .kx-patch {{display:none;position:absolute;box-sizing:content-box;margin:-2px;"
        f"border:2px solid {window};box-shadow:0 0 0 1px {_OUTLINE};background:{fill};pointer-events:none}}",
        f"{root}:has(.kx-cells td:hover) .kx-patch {{display:block}}",
        f"{root}:has(.kx-cells td:hover) .kx-hint {{visibility:hidden}}",
        *_patch_rules(root, geometry, "row"),
        *_patch_rules(root, geometry, "col"),
    ]
    clipped = ([f"{cells} tr:nth-child({i + 1}) td" for i, span in enumerate(geometry.rows) if span.clipped_before or span.clipped_after] +
               [f"{cells} td:nth-child({i + 1})" for i, span in enumerate(geometry.cols) if span.clipped_before or span.clipped_after])
    if clipped:  # one rule for the cells whose patch runs off the image (the first and last rows and columns)
        note = tr("patch clipped (dashed side): the rest of it is zero padding",
                  "fereastră tăiată (latura întreruptă): restul ei e bordare cu zerouri")
        rules.append(f"{', '.join(clipped)} {{--kx-clip:{_css_string(chr(10) + note)}}}")
    return "<style>" + "\n".join(rules) + "</style>"


def _cells_html(fmap: np.ndarray, geometry: HoverGeometry) -> str:
    """The transparent hover grid over the feature map: one ``<td>`` per hover cell, carrying its value(s).

    ``data-v`` is the output cell's value; a grouped cell carries its group's smallest and largest
    value (``data-lo``, ``data-hi``). The end tags of ``<tr>`` and ``<td>`` are optional in HTML:
    left out, they keep one update's HTML at about 15 bytes per cell (28 with two values).
    """
    if geometry.group == 1:
        numbers = [fmt(value, ".4g") for value in (fmap + 0.0).ravel().tolist()]  # + 0.0: no "-0"
        cells = [f"<td data-v={number}>" for number in numbers]
    else:  # each group's smallest and largest value: numpy's reduceat reduces the slices between the groups' starts
        rows, cols = [span.first for span in geometry.rows], [span.first for span in geometry.cols]
        low = np.minimum.reduceat(np.minimum.reduceat(fmap, rows, axis=0), cols, axis=1) + 0.0
        high = np.maximum.reduceat(np.maximum.reduceat(fmap, rows, axis=0), cols, axis=1) + 0.0
        cells = [f"<td data-lo={fmt(lo, '.4g')} data-hi={fmt(hi, '.4g')}>" for lo, hi in zip(low.ravel().tolist(), high.ravel().tolist())]
    width = len(geometry.cols)
    return ("<table class='kx-cells'>" + "".join("<tr>" + "".join(cells[start:start + width])
                                                  for start in range(0, len(cells), width)) + "</table>")


class KernelExplorer(widgets.VBox):
    """Edit a kernel and see its feature map on an image, live.

    Controls: ``source`` (which image), ``preset``, ``size`` (3 or 5), ``stride``,
    ``padding``, ``cells`` (5x5 list of lists of FloatText; a 3x3 kernel uses the centre
    3x3). Outputs: ``input_view`` and ``feature_view`` (Image widgets), ``info`` (HTML: the
    feature map's shape and value range). ``feature_map`` and ``kernel`` hold the last result;
    ``timings`` the seconds each update took.

    The two pictures are linked: pointing at a cell of the feature map outlines it, outlines its
    patch on the input (clipped to the image where 'same' padding runs off it) and shows the
    cell's row, column and value under the map. Pure CSS, no JavaScript (see
    :func:`_kernel_hover_rules`): ``cell_overlay`` (HTML over the map, one transparent cell per
    output cell with its value; a map wider than 48 cells is grouped, ``hover_geometry.group``
    cells a side), ``patch_overlay`` (the box over the input) and ``hover_rules`` (the CSS, rebuilt
    only when the geometry changes). ``hover_geometry`` is the last :class:`HoverGeometry`.
    """

    _instances = 0

    def __init__(self, images: Mapping[str, np.ndarray], preset: str = "sobel_x"):
        if not images:
            raise ValueError("kernel_explorer needs at least one image, e.g. {'photo': gray_face}")
        self.images = {name: _gray_2d(image, name) for name, image in images.items()}
        if preset not in KERNELS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(KERNELS)}")
        style = label_style(tr("image", "imagine"), tr("preset", "predefinit"), tr("kernel size", "mărime nucleu"),
                            tr("stride", "pas"), tr("padding", "bordare"))
        narrow = widgets.Layout(width="280px", max_width="calc(100% - 4px)")
        self.source = widgets.Dropdown(options=list(self.images), description=tr("image", "imagine"), style=style, layout=narrow)
        self.preset = widgets.Dropdown(options=[(kernel_title(n), n) for n in KERNELS] + [(tr("custom", "personalizat"), _CUSTOM)],
                                       value=preset, description=tr("preset", "predefinit"), style=style, layout=narrow)
        buttons = {"button_width": "auto", **style}
        self.size = widgets.ToggleButtons(options=[("3x3", 3), ("5x5", 5)], value=KERNELS[preset].shape[0],
                                          description=tr("kernel size", "mărime nucleu"), style=buttons)
        self.stride = widgets.ToggleButtons(options=[1, 2], value=1, description=tr("stride", "pas"), style=buttons)
        self.padding = widgets.ToggleButtons(options=["valid", "same"], value="same", description=tr("padding", "bordare"), style=buttons)
        # Inputs exactly as wide as their grid track (margins 0): a wider input overflows the grid.
        self.cells = [[widgets.FloatText(0.0, layout=widgets.Layout(width="58px", margin="0px")) for _ in range(5)]
                      for _ in range(5)]
        self.grid = widgets.GridBox(layout=widgets.Layout(grid_gap="3px", width="auto", overflow="visible"))
        self.grid.add_class("course-kernel-grid")
        self.input_view = image_view("png")
        self.feature_view = image_view("png")
        self.info = widgets.HTML(layout={"max_width": "calc(100% - 4px)"})
        # the pointer link (see _kernel_hover_rules): one overlay over each picture, their CSS, a hint under the map
        self.patch_overlay, self.cell_overlay = widgets.HTML("<div class='kx-patch'></div>"), widgets.HTML()
        for overlay in (self.patch_overlay, self.cell_overlay):
            overlay.add_class("kx-overlay")
        self.hover_rules = widgets.HTML(layout=widgets.Layout(height="0px", margin="0px"))
        # tall enough for the readout that covers it while the pointer is on the map (up to 4 lines of 12 px text)
        self.hint = widgets.HTML(layout=widgets.Layout(min_height="80px", max_width="calc(100% - 4px)"))
        self.hint.add_class("kx-hint")
        self.hover_geometry: HoverGeometry | None = None
        KernelExplorer._instances += 1
        self.scope = f"kx-{KernelExplorer._instances}"  # the CSS rules of one explorer never reach another
        self.timings: list[float] = []
        self._input_png: dict[str, tuple[bytes, tuple[int, int]]] = {}
        self._loading = False
        self._load_kernel(KERNELS[preset])
        self.preset.observe(self._on_preset, names="value")
        self.size.observe(self._on_size, names="value")
        for control in (self.source, self.stride, self.padding):
            control.observe(self._update, names="value")
        for cell in (c for row_ in self.cells for c in row_):
            cell.observe(self._on_edit, names="value")
        self._show_grid()
        self._update()
        stacks = []
        for picture, overlay in ((self.input_view, self.patch_overlay), (self.feature_view, self.cell_overlay)):
            # the overlay lies on the picture: both in the one cell of a grid
            stack = widgets.Box([picture, overlay], layout=widgets.Layout(display="grid", overflow="visible", max_width="100%"))
            stack.add_class("kx-stack")
            stacks.append(stack)
        input_column = column([widgets.HTML(f"<b>{tr('input', 'intrare')}</b>"), stacks[0]])
        map_column = column([widgets.HTML(f"<b>{tr('feature map', 'hartă de trăsături')}</b>"), stacks[1], self.hint])
        for box in (input_column, map_column):
            box.layout.overflow = "visible"  # the outlines and the readout may reach past a picture's edge
        controls = column([self.source, self.preset, self.size, self.stride, self.padding])
        kernel = column([widgets.HTML(f"<b>{tr('kernel weights', 'ponderile nucleului')}</b>"), self.grid])
        views = row([input_column, map_column])
        views.add_class("kx-views")
        super().__init__([style_sheet(), self.hover_rules, row([controls, kernel]), views, self.info])
        self.add_class(self.scope)
        explorer_box(self)

    @property
    def kernel(self) -> np.ndarray:
        """The kernel now in the grid: 3x3 (centre cells) or 5x5."""
        start = (5 - self.size.value) // 2
        block = self.cells[start:start + self.size.value]
        return np.array([[c.value for c in row[start:start + self.size.value]] for row in block], dtype=np.float32)

    def _load_kernel(self, kernel: np.ndarray) -> None:
        """Write ``kernel`` into the grid (centred), zeros around it, without one update per cell."""
        self._loading = True
        try:
            full = np.zeros((5, 5), dtype=np.float32)
            start = (5 - kernel.shape[0]) // 2
            full[start:start + kernel.shape[0], start:start + kernel.shape[1]] = kernel
            for i in range(5):
                for j in range(5):
                    self.cells[i][j].value = round(float(full[i, j]), 4)
            self.size.value = kernel.shape[0]
        finally:
            self._loading = False

    def _show_grid(self) -> None:
        start = (5 - self.size.value) // 2
        chosen = [c for row in self.cells[start:start + self.size.value] for c in row[start:start + self.size.value]]
        self.grid.children = chosen
        self.grid.layout.grid_template_columns = f"repeat({self.size.value}, 58px)"

    def _on_preset(self, change) -> None:
        if change["new"] != _CUSTOM:
            self._load_kernel(KERNELS[change["new"]])
            self._show_grid()
            self._update()

    def _on_size(self, change) -> None:
        if self._loading:
            return
        if change["new"] == 3:  # keep only the centre: clear the outer ring
            self._loading = True
            try:
                for i in range(5):
                    for j in range(5):
                        if i in (0, 4) or j in (0, 4):
                            self.cells[i][j].value = 0.0
            finally:
                self._loading = False
        self._show_grid()
        self._mark_custom()
        self._update()

    def _on_edit(self, change) -> None:
        if not self._loading:
            self._mark_custom()
            self._update()

    def _mark_custom(self) -> None:
        name = self.preset.value
        if name != _CUSTOM and not (KERNELS[name].shape == self.kernel.shape and np.allclose(KERNELS[name], self.kernel, atol=1e-4)):
            self._loading = True
            try:
                self.preset.value = _CUSTOM
            finally:
                self._loading = False

    def _update(self, change=None) -> None:
        if self._loading:
            return
        start = time.perf_counter()
        image = self.images[self.source.value]
        zoom = _zoom_for(image)
        try:
            self.feature_map = correlate2d(image, self.kernel, self.stride.value, self.padding.value)
        except ConvolutionError as error:
            self.info.value = f"<span style='color:#C44E52'>{html.escape(str(error))}</span>"
            return
        if self.source.value not in self._input_png:  # the input only changes with the source
            self._input_png[self.source.value] = (png_bytes(to_uint8(image, 0, 255), zoom=zoom),
                                                  (image.shape[0] * zoom, image.shape[1] * zoom))
        show_image(self.input_view, *self._input_png[self.source.value])
        # stride 2 halves the map: enlarge it twice as much so both panels have the same size
        map_zoom = zoom * self.stride.value
        show_image(self.feature_view, _map_png(self.feature_map, map_zoom),
                   (self.feature_map.shape[0] * map_zoom, self.feature_map.shape[1] * map_zoom))
        self._show_hover(image, self.feature_map.shape[1] * map_zoom)
        self.info.value = _range_text(self.feature_map)
        self.timings.append(time.perf_counter() - start)

    def _show_hover(self, image: np.ndarray, map_width: int) -> None:
        """The pointer link: its CSS and hint when the geometry changed, the cells' values always."""
        geometry = _hover_geometry(image.shape, self.feature_map.shape, self.kernel.shape[0], self.stride.value,
                                   self.padding.value)
        if geometry != self.hover_geometry:
            self.hover_geometry = geometry
            self.hover_rules.value = _kernel_hover_rules(self.scope, geometry)
            if geometry.group == 1:
                hint = tr("point at a cell of the feature map to see its patch on the input",
                          "indicați o celulă a hărții de trăsături ca să vedeți fereastra ei pe intrare")
            else:
                size = f"{geometry.group}×{geometry.group}"
                hint = tr(f"point at the feature map to see where it comes from (a large map: one square = {size} cells)",
                          f"indicați harta de trăsături ca să vedeți de unde vine (o hartă mare: un pătrat = {size} celule)")
            self.hint.value = f"<div style='font-size:12px;line-height:1.35;font-style:italic'>{hint}</div>"
            self.hint.layout.width = f"{map_width}px"
        self.cell_overlay.value = _cells_html(self.feature_map, geometry)


def kernel_explorer(images: Mapping[str, np.ndarray], preset: str = "sobel_x") -> KernelExplorer:
    """An editable kernel applied live to a choice of grayscale images (``{name: (H, W) array}``, 0..255)."""
    return KernelExplorer(images, preset)


# --------------------------------------------------------------------------- filter bank


_TILE_WIDTH = 128  # pixels per feature map in the bank: eight of them fit two rows of a notebook


def _shrink(image: np.ndarray, width: int) -> np.ndarray:
    """A 2D image whose larger side exceeds ``width`` pixels, averaged down to it (others unchanged)."""
    if max(image.shape) <= width:
        return image
    scale = width / max(image.shape)
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image.astype(np.float32), size, interpolation=cv2.INTER_AREA)


class FilterBank(widgets.VBox):
    """Several kernels applied in ONE conv2d call, all feature maps side by side.

    Images larger than 128 pixels are first averaged down to 128 (the size of a tile).
    Controls: ``source`` (which image), ``stride``. Outputs: ``views`` (one Image per
    kernel, in order), ``captions`` (HTML per kernel: its value range), ``info`` (the
    layer's output shape). ``feature_maps`` is the last ``(H_out, W_out, n_kernels)`` result.
    """

    def __init__(self, images: Mapping[str, np.ndarray], kernels: Mapping[str, np.ndarray]):
        if not images or not kernels:
            raise ValueError("filter_bank needs at least one image and one kernel")
        shapes = {np.shape(k) for k in kernels.values()}
        if len(shapes) != 1 or len(next(iter(shapes))) != 2:
            raise ValueError(f"a bank's kernels must all be 2D with one shape (one conv layer), got shapes {sorted(shapes)}")
        # the tiles are _TILE_WIDTH pixels wide: larger images are averaged down to that first,
        # which keeps an update of eight maps within the 30 ms a slider needs to feel live
        self.images = {name: _shrink(_gray_2d(image, name), _TILE_WIDTH) for name, image in images.items()}
        self.names = list(kernels)
        # (K, K) each -> (K, K, 1, n): the weights of one conv layer with n filters
        self.weights = np.stack([np.asarray(k, dtype=np.float32) for k in kernels.values()], axis=-1)[:, :, np.newaxis, :]
        style = label_style(tr("image", "imagine"), tr("stride", "pas"))
        self.source = widgets.Dropdown(options=list(self.images), description=tr("image", "imagine"), style=style,
                                       layout=widgets.Layout(width="280px", max_width="calc(100% - 4px)"))
        self.stride = widgets.ToggleButtons(options=[1, 2], value=1, description=tr("stride", "pas"),
                                            style={"button_width": "auto", **style})
        self.views = [image_view("png") for _ in self.names]
        self.captions = [widgets.HTML() for _ in self.names]
        self.info = widgets.HTML()
        for control in (self.source, self.stride):
            control.observe(self._update, names="value")
        self._update()
        # Every tile is one tile wide, its title wrapping inside: a grid of equal tiles.
        tile_layout = {"width": f"{_TILE_WIDTH + 4}px"}
        tiles = [widgets.VBox([widgets.HTML(f"<small><b>{kernel_title(n)}</b></small>", layout={"min_height": "2.6em"}),
                               view, caption], layout=tile_layout)
                 for n, view, caption in zip(self.names, self.views, self.captions)]
        super().__init__([style_sheet(), row([self.source, self.stride], gap="4px 16px"), self.info,
                          row(tiles, gap="10px 8px")])
        explorer_box(self)

    def _update(self, change=None) -> None:
        image = self.images[self.source.value]
        self.feature_maps = conv2d(image[..., np.newaxis], self.weights, stride=self.stride.value, padding="same")
        zoom = max(1, _TILE_WIDTH // max(image.shape)) * self.stride.value  # integer zoom, never wider than a tile
        for index, (view, caption) in enumerate(zip(self.views, self.captions)):
            fmap = self.feature_maps[..., index]
            show_image(view, _map_png(fmap, zoom), (fmap.shape[0] * zoom, fmap.shape[1] * zoom))
            caption.value = f"<small>[{fmap.min():.3g}, {fmap.max():.3g}]</small>"
        self.info.value = (f"{tr('one conv layer', 'un strat de convoluție')}: "
                           f"{tr('input', 'intrare')} {image.shape[0]}x{image.shape[1]}x1, "
                           f"{tr('weights', 'ponderi')} {self.weights.shape} &rarr; "
                           f"{tr('output', 'ieșire')} {'x'.join(map(str, self.feature_maps.shape))}")


def filter_bank(images: Mapping[str, np.ndarray], kernels: Mapping[str, np.ndarray] | None = None) -> FilterBank:
    """The feature maps of several 2D kernels (default: all 3x3 :data:`KERNELS`) on a choice of images."""
    if kernels is None:
        kernels = {name: k for name, k in KERNELS.items() if k.shape == (3, 3)}
    return FilterBank(images, kernels)
