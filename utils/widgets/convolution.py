"""Explorers for lesson 02 (convolution): the sliding window, a kernel editor, a filter bank.

- :func:`sliding_window_stepper`: one output cell at a time on a small array: the patch,
  the element-wise products, their sum, and the feature map filling up.
- :func:`kernel_explorer`: an editable 3x3 / 5x5 kernel with presets, stride and padding,
  applied live to a choice of images.
- :func:`filter_bank`: several kernels applied at once, all feature maps side by side
  (what one convolutional layer outputs).
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping

import cv2
import ipywidgets as widgets
import numpy as np

from utils.i18n import tr
from utils.layers.convolution import KERNELS, ConvolutionError, conv2d, conv_step, correlate2d, pad_amounts
from utils.viz import DISPLAY_PERCENTILE, kernel_title, signed_range
from utils.widgets.display import png_bytes, to_uint8
from utils.widgets.layout import (
    COLOURS,
    column,
    explorer_box,
    image_view,
    label_style,
    row,
    show_image,
    style_sheet,
)

_DISPLAY_WIDTH = 240  # pixels: small images are enlarged to about this width


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
    if low < 0 and np.isclose(low, -high):  # centred on 0: an edge-like map
        scale = tr(f"mid-gray = 0, black &le; {low:.4g}, white &ge; {high:.4g}",
                   f"gri mediu = 0, negru &le; {low:.4g}, alb &ge; {high:.4g}")
    else:
        scale = tr(f"black &le; {low:.4g}, white &ge; {high:.4g}", f"negru &le; {low:.4g}, alb &ge; {high:.4g}")
    return (f"{tr('feature map', 'hartă de trăsături')} {fmap.shape[0]}x{fmap.shape[1]}, "
            f"{tr('values from', 'valori de la')} {fmap.min():.4g} {tr('to', 'la')} {fmap.max():.4g} ({scale})")


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
                         f"{{background:{window} !important;outline:2px solid #d4a017;outline-offset:-2px}}")
            rules.append(f"{hovered} .sws-output td[data-cell='{name}'] {{background:{output} !important;"
                         "outline:2px solid #d4a017;outline-offset:-2px}")
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


class KernelExplorer(widgets.VBox):
    """Edit a kernel and see its feature map on an image, live.

    Controls: ``source`` (which image), ``preset``, ``size`` (3 or 5), ``stride``,
    ``padding``, ``cells`` (5x5 list of lists of FloatText; a 3x3 kernel uses the centre
    3x3). Outputs: ``input_view`` and ``feature_view`` (Image widgets), ``info`` (HTML: the
    feature map's shape and value range). ``feature_map`` and ``kernel`` hold the last result;
    ``timings`` the seconds each update took.
    """

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
        views = row([
            column([widgets.HTML(f"<b>{tr('input', 'intrare')}</b>"), self.input_view]),
            column([widgets.HTML(f"<b>{tr('feature map', 'hartă de trăsături')}</b>"), self.feature_view]),
        ])
        controls = column([self.source, self.preset, self.size, self.stride, self.padding])
        kernel = column([widgets.HTML(f"<b>{tr('kernel weights', 'ponderile nucleului')}</b>"), self.grid])
        super().__init__([style_sheet(), row([controls, kernel]), views, self.info])
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
        self.info.value = _range_text(self.feature_map)
        self.timings.append(time.perf_counter() - start)


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
