"""Explorer for lesson 04: gradient descent on a 2-parameter loss surface, step by step.

Move the learning rate and the momentum, then step through the path: a tiny rate crawls,
a good one reaches the minimum, a large one zig-zags across the valley and diverges. The
path is :func:`utils.layers.descent.descent_path`; the picture is drawn with OpenCV
(colour bands of ``log(1 + loss)`` as contours), so every change redraws at once.
A test sets ``explorer.learning_rate.value`` and reads ``explorer.path`` / ``explorer.image.value``.
"""

from __future__ import annotations

import cv2
import ipywidgets as widgets
import numpy as np

from utils.i18n import tr
from utils.layers.descent import SURFACES, descent_path, path_losses, surface
from utils.widgets.display import png_bytes
from utils.widgets.layout import column, explorer_box, image_view, label_style, row, show_image, slider_layout, style_sheet

_PATH = (255, 255, 255)     # RGB
_CURRENT = (230, 40, 40)
_MINIMUM = (255, 215, 0)


class DescentExplorer(widgets.VBox):
    """A loss surface (contour bands), the descent path up to the chosen step, and the loss there."""

    def __init__(self, surface_name: str = "valley", *, learning_rate: float = 0.05, momentum: float = 0.0,
                 steps: int = 60, side: int = 360):
        surface(surface_name)  # a clear error for an unknown name
        self.side = side
        style = label_style(tr("surface", "suprafață"), tr("learning rate", "rata de învățare"), tr("momentum", "momentum"),
                            tr("step", "pasul"))
        self.surface = widgets.Dropdown(options=[(tr(n, {"bowl": "bol", "valley": "vale"}.get(n, n)), n) for n in SURFACES],
                                        value=surface_name, description=tr("surface", "suprafață"), style=style,
                                        layout=slider_layout(280))
        self.learning_rate = widgets.FloatLogSlider(value=learning_rate, base=10, min=-3, max=0.5, step=0.05,
                                                    readout_format=".3g", description=tr("learning rate", "rata de învățare"),
                                                    style=style, layout=slider_layout(320))
        self.momentum = widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01, description=tr("momentum", "momentum"),
                                            style=style, layout=slider_layout(320))
        self.nesterov = widgets.Checkbox(value=False, description="Nesterov", indent=False, layout={"width": "auto"})
        self.step = widgets.IntSlider(value=steps, min=0, max=steps, description=tr("step", "pasul"), style=style,
                                      layout=slider_layout(320))
        # The same value as the step slider: jslink copies the Play's value to the slider when
        # the page draws them, so a Play at 0 would show only the start of the path.
        self.play = widgets.Play(value=steps, min=0, max=steps, interval=150, description=tr("play", "rulare"))
        widgets.jslink((self.play, "value"), (self.step, "value"))
        self.next_step = widgets.Button(description=tr("one step", "un pas"), icon="step-forward", layout={"width": "auto"})
        self.image = image_view("png")
        self.info = widgets.HTML(layout={"max_width": "min(360px, calc(100% - 4px))"})
        self.steps = steps
        self.path = np.zeros((0, 2))
        self.losses = np.zeros(0)
        self._background: dict[str, np.ndarray] = {}
        for control in (self.surface, self.learning_rate, self.momentum, self.nesterov):
            control.observe(self._new_path, names="value")
        self.step.observe(self.draw, names="value")
        self.next_step.on_click(lambda _: setattr(self.step, "value", min(self.step.value + 1, self.step.max)))
        controls = column([self.surface, self.learning_rate, self.momentum, self.nesterov, self.step,
                           row([self.play, self.next_step], gap="4px 8px"), self.info])
        super().__init__([style_sheet(), row([controls, self.image])])
        explorer_box(self)
        self._new_path()

    # coordinates: parameter space -> pixels
    def _pixels(self, points: np.ndarray) -> np.ndarray:
        x0, x1, y0, y1 = surface(self.surface.value).box
        height, width = self._size()
        cols = (points[:, 0] - x0) / (x1 - x0) * (width - 1)
        rows = (y1 - points[:, 1]) / (y1 - y0) * (height - 1)
        return np.stack([cols, rows], axis=1).clip(-10 * width, 10 * width).round().astype(np.int32)

    def _size(self) -> tuple[int, int]:
        x0, x1, y0, y1 = surface(self.surface.value).box
        return int(round(self.side * (y1 - y0) / (x1 - x0))), self.side

    def _contours(self) -> np.ndarray:
        name = self.surface.value
        if name not in self._background:
            x0, x1, y0, y1 = surface(name).box
            height, width = self._size()
            grid = np.stack(np.meshgrid(np.linspace(x0, x1, width), np.linspace(y1, y0, height)), axis=-1)
            level = np.log1p(surface(name).loss(grid))
            bands = np.floor(level / level.max() * 14) / 14            # 14 flat bands: their borders are contours
            coloured = cv2.applyColorMap((bands * 255).astype(np.uint8), cv2.COLORMAP_VIRIDIS)
            self._background[name] = cv2.cvtColor(coloured, cv2.COLOR_BGR2RGB)
        return self._background[name]

    def _new_path(self, change=None) -> None:
        self.path = descent_path(self.surface.value, self.learning_rate.value, self.steps, self.momentum.value,
                                 self.nesterov.value)
        self.losses = path_losses(self.surface.value, self.path)
        self.draw()

    @property
    def diverged(self) -> bool:
        """The path left the plane (stopped early) or ends higher than it started."""
        return len(self.path) < self.steps + 1 or not np.isfinite(self.losses[-1]) or self.losses[-1] > self.losses[0]

    def draw(self, change=None) -> None:
        shown = min(self.step.value, len(self.path) - 1)
        picture = self._contours().copy()
        chosen = surface(self.surface.value)
        pixels = self._pixels(self.path[:shown + 1])
        cv2.drawMarker(picture, tuple(int(v) for v in self._pixels(np.array([chosen.minimum]))[0]), _MINIMUM,
                       cv2.MARKER_STAR, 14, 2)
        if shown:
            cv2.polylines(picture, [pixels.reshape(-1, 1, 2)], False, _PATH, 1, cv2.LINE_AA)
        for point in pixels[:-1]:
            cv2.circle(picture, tuple(int(v) for v in point), 2, _PATH, -1)
        cv2.circle(picture, tuple(int(v) for v in pixels[-1]), 5, _CURRENT, -1)
        show_image(self.image, png_bytes(picture), picture.shape[:2])
        point, loss = self.path[shown], float(self.losses[shown])
        text = tr(f"step <b>{shown}</b>: w = ({point[0]:.3g}, {point[1]:.3g}), loss <b>{loss:.4g}</b> "
                  f"(start {self.losses[0]:.4g}).",
                  f"pasul <b>{shown}</b>: w = ({point[0]:.3g}, {point[1]:.3g}), pierdere <b>{loss:.4g}</b> "
                  f"(la start {self.losses[0]:.4g}).")
        if len(self.path) < self.steps + 1:
            text += tr(f" <b style='color:#b00'>Diverged</b> after {len(self.path) - 1} steps: the learning rate is too large.",
                       f" <b style='color:#b00'>Divergent</b> după {len(self.path) - 1} pași: rata de învățare e prea mare.")
        elif self.diverged:
            text += tr(" <b style='color:#b00'>Diverging</b>: every step overshoots and the loss grows; lower the learning rate.",
                       " <b style='color:#b00'>Divergent</b>: fiecare pas sare prea departe și pierderea crește; "
                       "micșorează rata de învățare.")
        elif self.step.value >= self.steps and loss > 1e-2 * max(self.losses[0], 1e-12):
            text += tr(" Still far from the minimum: a larger learning rate (or momentum) would get there sooner.",
                       " Încă departe de minim: o rată de învățare mai mare (sau moment) ar ajunge mai repede.")
        if self.nesterov.value and self.momentum.value == 0:
            text += tr(" Nesterov changes nothing while the momentum is 0: raise the momentum to see its look-ahead.",
                       " Nesterov nu schimbă nimic cât timp momentul este 0: măriți momentul ca să vedeți efectul.")
        self.info.value = text
        self.next_step.disabled = self.step.value >= self.step.max  # at the last step there is no next one


def descent_explorer(surface_name: str = "valley", learning_rate: float = 0.05, momentum: float = 0.0,
                     steps: int = 60) -> DescentExplorer:
    """The gradient-descent explorer on one of :data:`utils.layers.descent.SURFACES`."""
    return DescentExplorer(surface_name, learning_rate=learning_rate, momentum=momentum, steps=steps)
