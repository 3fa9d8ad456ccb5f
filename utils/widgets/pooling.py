"""Explorers for lesson 03: pooling, dropout and softmax, each computed with :mod:`utils.layers`.

Every explorer keeps its controls and outputs as attributes, so a test can set
``explorer.window.value = 3`` or call ``explorer.new_mask.click()`` and then read
``explorer.output_image.value`` (PNG bytes), ``explorer.pooled`` or ``explorer.probabilities``.
"""

from __future__ import annotations

import html

import cv2
import ipywidgets as widgets
import numpy as np

from utils.constants import EMOTIONS
from utils.i18n import count_phrase, fmt, tr
from utils.layers.activations import softmax
from utils.layers.dropout import check_rate, dropout_mask
from utils.layers.pooling import average_pool2d, max_pool2d, pooled_size
from utils.viz import emotion_name
from utils.widgets.display import png_bytes, to_uint8
from utils.widgets.layout import bar_table, column, explorer_box, image_view, label_style, rgb, row, show_image, slider_layout, style_sheet

_FIRST_WINDOW = rgb("window")    # RGB: the window that gives output cell (0, 0) (the course's window colour)
_SECOND_WINDOW = rgb("second")   # the next window along the row: the gap between them is the stride


def _as_map(feature_map: np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(feature_map, dtype=np.float64)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim != 2 or min(array.shape) < 2:
        raise ValueError(f"{what} shows one 2D map (H, W) of at least 2x2, got shape {np.shape(feature_map)}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what}: the map contains NaN or infinite values")
    return array


def _gray_rgb(values: np.ndarray, low: float, high: float, side: int) -> np.ndarray:
    """A 2D map as an RGB image about ``side`` pixels wide, pixels kept square (nearest neighbour)."""
    zoom = max(1, int(round(side / values.shape[1])))
    gray = cv2.resize(to_uint8(values, low, high), None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)


class PoolingExplorer(widgets.VBox):
    """A feature map and its pooled version, with window size, stride, max/average and padding to change.

    Input and output use the same gray scale (the input's range), so average pooling's
    dimmer peaks are visible. Two frames on the input mark the windows behind output
    cells (0, 0) (red) and (0, 1) (yellow): their offset is the stride, their overlap
    appears when the stride is smaller than the window.
    """

    def __init__(self, feature_map: np.ndarray, *, side: int = 240, dense_units: int = 128):
        self.feature_map = _as_map(feature_map, "PoolingExplorer")
        self.side = side
        self.dense_units = dense_units
        self.low, self.high = float(self.feature_map.min()), float(self.feature_map.max())
        limit = min(8, *self.feature_map.shape)
        style = label_style(tr("window", "fereastră"), tr("stride", "pas"), tr("pooling", "pooling"), tr("padding", "bordare"))
        self.window = widgets.IntSlider(value=2, min=1, max=limit, description=tr("window", "fereastră"), style=style,
                                        layout=slider_layout(260))
        self.stride = widgets.IntSlider(value=2, min=1, max=limit, description=tr("stride", "pas"), style=style,
                                        layout=slider_layout(260))
        buttons = {"button_width": "auto", **style}
        self.mode = widgets.ToggleButtons(options=[(tr("max", "maxim"), "max"), (tr("average", "medie"), "average")],
                                          value="max", description=tr("pooling", "pooling"), style=buttons)
        self.padding = widgets.ToggleButtons(options=["valid", "same"], value="valid", description=tr("padding", "bordare"), style=buttons)
        self.input_image = image_view("png")
        self.output_image = image_view("png")
        self.info = widgets.HTML(layout={"max_width": "calc(100% - 4px)"})
        self.pooled = np.zeros((0, 0))
        for control in (self.window, self.stride, self.mode, self.padding):
            control.observe(self.update, names="value")
        titles = (widgets.Label(tr("feature map (input)", "hartă de trăsături (intrare)")),
                  widgets.Label(tr("after pooling (output)", "după pooling (ieșire)")))
        controls = column([self.window, self.stride, self.mode, self.padding])
        images = row([column([titles[0], self.input_image]), column([titles[1], self.output_image])])
        super().__init__([style_sheet(), row([controls, images]), self.info])
        explorer_box(self)
        self.update()

    def _input_picture(self, window: int, stride: int, pad_top: int, pad_left: int, columns: int) -> np.ndarray:
        picture = _gray_rgb(self.feature_map, self.low, self.high, self.side)
        zoom = picture.shape[1] // self.feature_map.shape[1]
        if pad_top or pad_left:  # 'same': show the padding as a light border, so its windows are drawn whole
            border = ((pad_top * zoom, pad_top * zoom), (pad_left * zoom, pad_left * zoom), (0, 0))
            picture = np.pad(picture, border, constant_values=235)
        for index, colour in ((1, _SECOND_WINDOW), (0, _FIRST_WINDOW)):
            if index >= columns:
                continue  # the output has a single column: there is no second window
            top, left = 0, index * stride  # in the padded picture
            corner = (left * zoom, top * zoom)
            far = ((left + window) * zoom - 1, (top + window) * zoom - 1)
            cv2.rectangle(picture, corner, far, colour, max(2, zoom // 4))
        return picture

    def update(self, change=None) -> None:
        window, stride, padding = self.window.value, self.stride.value, self.padding.value
        height, width = self.feature_map.shape
        try:
            out_h, out_w = pooled_size(height, window, stride, padding), pooled_size(width, window, stride, padding)
        except ValueError as error:
            self.info.value = f"<b style='color:#b00'>{html.escape(str(error))}</b>"
            return
        pool = max_pool2d if self.mode.value == "max" else average_pool2d
        self.pooled = pool(self.feature_map, window, stride, padding)
        pad_top = pad_left = 0
        if padding == "same":
            pad_top = max((out_h - 1) * stride + window - height, 0) // 2
            pad_left = max((out_w - 1) * stride + window - width, 0) // 2
        picture = self._input_picture(window, stride, pad_top, pad_left, out_w)
        show_image(self.input_image, png_bytes(picture), picture.shape[:2])
        pooled_picture = _gray_rgb(self.pooled, self.low, self.high, self.side)
        show_image(self.output_image, png_bytes(pooled_picture), pooled_picture.shape[:2])
        before, after = height * width, out_h * out_w
        if padding == "same" and not (pad_top or pad_left) and out_h == pooled_size(height, window, stride, "valid") \
                and out_w == pooled_size(width, window, stride, "valid"):
            padding_note = tr(" 'same' adds no zeros here: the windows already cover the map exactly, as with 'valid'.",
                              " 'same' nu adaugă zerouri aici: ferestrele acoperă deja harta exact, ca la 'valid'.")
        else:
            padding_note = ""
        units = self.dense_units
        if after < before:
            weights = tr(f"<b>{after * units:,}</b> weights instead of {before * units:,}",
                         f"<b>{fmt(after * units, ',', 'ro')}</b> ponderi în loc de {fmt(before * units, ',', 'ro')}")
        else:
            weights = tr(f"<b>{after * units:,}</b> weights, as many as without pooling (this setting does not shrink the map)",
                         f"<b>{fmt(after * units, ',', 'ro')}</b> ponderi, tot atâtea ca fără pooling (această setare nu micșorează harta)")
        self.info.value = tr(
            f"input <b>{height}×{width}</b> = {before:,} values → output <b>{out_h}×{out_w}</b> = {after:,} values "
            f"({100 * after / before:.0f}%). A dense layer of {units} units on this one map would need {weights}. "
            f"Range: input [{self.low:.3g}, {self.high:.3g}], output [{self.pooled.min():.3g}, {self.pooled.max():.3g}]."
            f"{padding_note}",
            f"intrare <b>{height}×{width}</b> = {count_phrase(before, 'valori', 'ro')} → ieșire <b>{out_h}×{out_w}</b> = {count_phrase(after, 'valori', 'ro')} "
            f"({fmt(after / before, '.0%', 'ro')}). Un strat dens de {count_phrase(units, 'neuroni', 'ro')} pe această hartă ar avea nevoie de {weights}. "
            f"Interval: intrare [{fmt(self.low, '.3g', 'ro')}, {fmt(self.high, '.3g', 'ro')}], ieșire [{fmt(self.pooled.min(), '.3g', 'ro')}, {fmt(self.pooled.max(), '.3g', 'ro')}]."
            f"{padding_note}",
        )


class DropoutExplorer(widgets.VBox):
    """Dropout on an image: a new random mask per click, and the running mean of all outputs so far.

    The running mean approaches the input as masks accumulate: inverted dropout keeps every
    value's expected output equal to its input. Changing the rate starts a new average.
    All three images share the input's gray scale; survivors scaled above it show white.
    """

    def __init__(self, image: np.ndarray, *, seed: int = 0, side: int = 192):
        self.image = _as_map(image, "DropoutExplorer")
        self.side = side
        self.rng = np.random.default_rng(seed)
        self.high = float(self.image.max()) if self.image.max() > 0 else 1.0
        self.rate = widgets.FloatSlider(value=0.5, min=0.0, max=0.9, step=0.05, description=tr("rate", "rată"),
                                        style=label_style(tr("rate", "rată")), layout=slider_layout(260))
        self.new_mask = widgets.Button(description=tr("new mask", "mască nouă"), icon="random")
        self.ten_masks = widgets.Button(description=tr("+10 masks", "+10 măști"))
        self.reset = widgets.Button(description=tr("reset mean", "resetare medie"))
        self.input_image = image_view("png")
        self.output_image = image_view("png")
        self.mean_image = image_view("png")
        self.info = widgets.HTML(layout={"max_width": "calc(100% - 4px)"})
        self.output = self.image.copy()
        self.mask = np.ones(self.image.shape, dtype=bool)  # True: kept by the last mask
        self.draws = 0
        self.running_sum = np.zeros_like(self.image)
        self.rate.observe(self._restart, names="value")
        self.new_mask.on_click(lambda _: self.draw(1))
        self.ten_masks.on_click(lambda _: self.draw(10))
        self.reset.on_click(self._restart)
        self._show(self.input_image, self.image)
        columns = [(tr("input", "intrare"), self.input_image), (tr("output, this mask", "ieșire, masca aceasta"), self.output_image),
                   (tr("mean of all outputs", "media tuturor ieșirilor"), self.mean_image)]
        pictures = row([column([widgets.Label(title), picture]) for title, picture in columns])
        super().__init__([style_sheet(), row([self.rate, self.new_mask, self.ten_masks, self.reset], gap="4px 8px"),
                          pictures, self.info])
        explorer_box(self)
        self.draw(1)

    def _zoom(self) -> int:
        return max(1, int(round(self.side / self.image.shape[1])))

    def _png(self, values: np.ndarray) -> bytes:
        return png_bytes(to_uint8(values, 0.0, self.high), zoom=self._zoom())

    def _show(self, view: widgets.Image, values: np.ndarray) -> None:
        zoom = self._zoom()
        show_image(view, self._png(values), (values.shape[0] * zoom, values.shape[1] * zoom))

    @property
    def running_mean(self) -> np.ndarray:
        return self.running_sum / max(self.draws, 1)

    def _restart(self, change=None) -> None:
        self.draws = 0
        self.running_sum = np.zeros_like(self.image)
        self.draw(1)

    def draw(self, count: int = 1) -> None:
        """Apply ``count`` new dropout masks (training mode); show the last output and the running mean."""
        rate = check_rate(self.rate.value)
        for _ in range(count):
            self.mask = dropout_mask(self.image.shape, rate, self.rng)
            self.output = np.where(self.mask, self.image / (1.0 - rate), 0.0)
            self.running_sum += self.output
            self.draws += 1
        self._show(self.output_image, self.output)
        self._show(self.mean_image, self.running_mean)
        dropped = 1.0 - float(self.mask.mean())
        error = float(np.abs(self.running_mean - self.image).mean())
        self.info.value = tr(
            f"rate {rate:.2f}: survivors × 1/(1 − {rate:.2f}) = <b>×{1 / (1 - rate):.2f}</b>; this mask dropped "
            f"{100 * dropped:.0f}% of the values. Mean value: input {self.image.mean():.3f}, this output "
            f"{self.output.mean():.3f}, mean of <b>{self.draws}</b> output(s) {self.running_mean.mean():.3f}. "
            f"Mean |running mean − input| per pixel: <b>{error:.3f}</b> (it shrinks with more masks).",
            f"rata {rate:.2f}: valorile rămase × 1/(1 − {rate:.2f}) = <b>×{1 / (1 - rate):.2f}</b>; masca aceasta a "
            f"anulat {100 * dropped:.0f}% din valori. Valoarea medie: intrare {self.image.mean():.3f}, ieșirea aceasta "
            f"{self.output.mean():.3f}, media a <b>{self.draws}</b> ieșiri {self.running_mean.mean():.3f}. "
            f"|media cumulată − intrarea| mediu pe pixel: <b>{error:.3f}</b> (scade cu mai multe măști).",
        )


class SoftmaxExplorer(widgets.VBox):
    """One slider per class score (logit) and a temperature: the softmax probabilities as bars.

    Adding the same number to every logit changes nothing (try it); the temperature ``T``
    divides the logits: ``T > 1`` flattens the distribution, ``T < 1`` sharpens it.
    """

    def __init__(self, logits=None, class_names=None, *, limit: float = 8.0):
        names = list(class_names) if class_names is not None else [emotion_name(i) for i in range(len(EMOTIONS))]
        start = np.zeros(len(names)) if logits is None else np.asarray(logits, dtype=np.float64)
        if start.shape != (len(names),):
            raise ValueError(f"give one logit per class: {len(names)} classes, logits of shape {start.shape}")
        softmax(start)  # NaN/inf logits fail here, with softmax's message
        self.class_names = names
        style = label_style(*names, tr("temperature", "temperatură"))
        self.sliders = [widgets.FloatSlider(value=float(np.clip(v, -limit, limit)), min=-limit, max=limit, step=0.1,
                                            description=name, readout_format=".1f", style=style, layout=slider_layout(300))
                        for name, v in zip(names, start)]
        self.temperature = widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05,
                                                  description=tr("temperature", "temperatură"), readout_format=".2f",
                                                  style=style, layout=slider_layout(300))
        self.shift_all = widgets.Button(description=tr("all logits +1", "toți logiții +1"), layout={"width": "auto"})
        self.bars = widgets.HTML(layout={"max_width": "calc(100% - 4px)"})
        self.probabilities = np.zeros(len(names))
        for control in (*self.sliders, self.temperature):
            control.observe(self.update, names="value")
        self.shift_all.on_click(self._shift)
        controls = column([*self.sliders, self.temperature, self.shift_all])
        super().__init__([style_sheet(), row([controls, self.bars])])
        explorer_box(self)
        self.update()

    @property
    def logits(self) -> np.ndarray:
        return np.array([slider.value for slider in self.sliders])

    def _shift(self, _=None) -> None:
        """Add 1 to every logit. A slider near its end gets a range one unit wider first, so no
        logit is clipped and the probabilities stay exactly the same, as the lesson says."""
        with self.hold_sync():
            for slider in self.sliders:
                if slider.value + 1.0 > slider.max:
                    slider.max = slider.max + 1.0
                    slider.min = slider.min + 1.0  # the same width of range, shifted with the logits
            for slider in self.sliders[:-1]:
                slider.unobserve(self.update, names="value")
            try:
                for slider in self.sliders:
                    slider.value = round(slider.value + 1.0, 6)
            finally:
                for slider in self.sliders[:-1]:
                    slider.observe(self.update, names="value")

    def update(self, change=None) -> None:
        logits = self.logits
        self.probabilities = softmax(logits, temperature=self.temperature.value)
        best = int(self.probabilities.argmax())
        table = bar_table(self.class_names, self.probabilities, width=200, extra=[f"z={z:+.1f}" for z in logits])
        entropy = float(-(self.probabilities * np.log(np.clip(self.probabilities, 1e-12, 1))).sum())
        summary = tr(
            f"sum = {self.probabilities.sum():.3f} · prediction: <b>{html.escape(self.class_names[best])}</b> "
            f"({self.probabilities[best]:.1%}) · T = {self.temperature.value:.2f} · entropy {entropy:.2f} "
            f"(max {np.log(len(logits)):.2f})",
            f"suma = {self.probabilities.sum():.3f} · predicție: <b>{html.escape(self.class_names[best])}</b> "
            f"({self.probabilities[best]:.1%}) · T = {self.temperature.value:.2f} · entropie {entropy:.2f} "
            f"(max {np.log(len(logits)):.2f})",
        )
        self.bars.value = f"{table}<div style='max-width:420px'>{summary}</div>"


def pooling_explorer(feature_map: np.ndarray) -> PoolingExplorer:
    """The pooling explorer for a 2D feature map."""
    return PoolingExplorer(feature_map)


def dropout_explorer(image: np.ndarray, seed: int = 0) -> DropoutExplorer:
    """The dropout explorer for a 2D image or feature map."""
    return DropoutExplorer(image, seed=seed)


def softmax_explorer(logits=None, class_names=None) -> SoftmaxExplorer:
    """The softmax explorer: one logit slider per class (default: the seven emotions, all 0)."""
    return SoftmaxExplorer(logits, class_names)
