"""Explorers for lesson 01: colour channels and the face preprocessing pipeline.

Both take a photo as OpenCV gives it (uint8 BGR) and keep their controls and outputs as
attributes, so a test can set ``explorer.margin.value = 0.3`` and read
``explorer.photo_image.value`` (JPEG bytes) or ``explorer.faces`` afterwards. Photos are
sent as JPEG (fast to encode), the 48x48 faces as PNG (every pixel exact).
"""

from __future__ import annotations

import time

import cv2
import ipywidgets as widgets
import numpy as np

from utils.constants import IMAGE_SIZE
from utils.i18n import tr
from utils.images import FaceBox, check_image, crop, face_candidates, group_candidates, preprocess_face
from utils.widgets.display import png_bytes
from utils.widgets.layout import (
    column,
    explorer_box,
    hide_image,
    image_view,
    label_style,
    row,
    show_image,
    slider_layout,
    style_sheet,
)

_JPEG_OPTIONS = [cv2.IMWRITE_JPEG_QUALITY, 95, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]


def jpeg_bytes(image: np.ndarray, rgb: bool = True) -> bytes:
    """JPEG bytes of a uint8 colour photo: ~20x faster to encode than PNG and ~3x smaller.

    Quality 95 without chroma subsampling keeps a zeroed channel within a few levels of 0,
    invisible on screen. Pixel-exact views (48x48 faces, feature maps) stay PNG.
    """
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if rgb else image, _JPEG_OPTIONS)
    if not ok:
        raise ValueError(f"cannot encode an image of shape {image.shape} as JPEG")
    return encoded.tobytes()


def _shrink(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """``image`` scaled down so that its longer side is at most ``max_side``, and the scale used."""
    scale = min(1.0, max_side / max(image.shape[:2]))
    if scale == 1.0:
        return image, 1.0
    size = (int(round(image.shape[1] * scale)), int(round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


class ChannelExplorer(widgets.VBox):
    """Show a BGR photo as an RGB screen would, with the channel order and each channel switchable.

    ``order``: 'bgr' sends OpenCV's array to the screen unchanged (red and blue swapped),
    'rgb' reverses the channels first. ``channel_boxes[i]`` shows/hides channel ``i``
    of the BGR array (0 blue, 1 green, 2 red); a hidden channel is set to 0.
    """

    def __init__(self, photo_bgr: np.ndarray, *, max_side: int = 360):
        check_image(photo_bgr, channels=(3,))
        self.photo, _ = _shrink(np.ascontiguousarray(photo_bgr), max_side)
        self.order = widgets.ToggleButtons(
            options=[(tr("BGR array shown as is", "tabloul BGR afișat ca atare"), "bgr"),
                     (tr("reversed to RGB", "inversat în RGB"), "rgb")],
            value="bgr", description=tr("order", "ordine"), style={"button_width": "auto", "description_width": "initial"})
        names = (tr("0: blue", "0: albastru"), tr("1: green", "1: verde"), tr("2: red", "2: roșu"))
        self.channel_boxes = [widgets.Checkbox(value=True, description=name, indent=False, layout={"width": "auto"})
                              for name in names]
        self.image = image_view("jpeg")
        self.caption = widgets.HTML(layout={"max_width": "min(420px, calc(100% - 4px))"})
        for control in (self.order, *self.channel_boxes):
            control.observe(self.update, names="value")
        channel_row = row([widgets.Label(tr("channels of the array:", "canalele tabloului:")), *self.channel_boxes], gap="4px 12px")
        controls = column([self.order, channel_row, self.caption])
        super().__init__([style_sheet(), row([self.image, controls])])
        explorer_box(self)
        self.update()

    def displayed(self) -> np.ndarray:
        """The RGB array currently sent to the screen."""
        shown = self.photo.copy()
        for index, box in enumerate(self.channel_boxes):
            if not box.value:
                shown[..., index] = 0
        # 'bgr' mimics plt.imshow(cv2.imread(...)): the array is read as R, G, B although it is B, G, R.
        return shown if self.order.value == "bgr" else shown[..., ::-1]

    def update(self, change=None) -> None:
        shown = self.displayed()
        show_image(self.image, jpeg_bytes(shown, rgb=True), shown.shape[:2])
        kept = [i for i, box in enumerate(self.channel_boxes) if box.value]
        if self.order.value == "bgr":
            screen = tr("the screen reads channel 0 as red and 2 as blue: red and blue are swapped",
                        "ecranul citește canalul 0 ca roșu și canalul 2 ca albastru: roșul și albastrul sunt inversate")
        else:
            screen = tr("channel 2 (red) goes to the screen's red: true colours",
                        "canalul 2 (roșu) ajunge la roșul ecranului: culori corecte")
        shown_text = ", ".join(str(i) for i in kept) if kept else tr("none", "niciunul")
        self.caption.value = f"{tr('shown channels', 'canale afișate')}: {shown_text}; {screen}."


class PreprocessExplorer(widgets.VBox):
    """Face detection and preprocessing, live: detector parameters and crop margin -> boxes and 48x48 faces.

    Detection runs on a grayscale copy whose longer side is at most ``max_side`` px (made
    once; the smallest face it can find is therefore 24 px of that copy, which sets the
    minimum of the face-size slider), boxes are drawn on a copy at most ``display_side`` px,
    and crops come from the full-resolution photo. For each scale factor the raw candidate
    windows are computed once (for every slider position when the explorer is built, unless
    ``precompute=False``) and kept; ``min_neighbors`` and the minimum face size only filter
    and merge those (exactly as OpenCV would) and the margin only re-crops, so every change
    takes a few milliseconds.
    """

    SCALE_FACTORS = (1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.4, 1.5)
    MAX_FACES_SHOWN = 8

    def __init__(self, photo_bgr: np.ndarray, *, max_side: int = 256, display_side: int = 360, zoom: int = 2,
                 precompute: bool = True):
        check_image(photo_bgr, channels=(3,))
        self.zoom = zoom
        photo_bgr = np.ascontiguousarray(photo_bgr)
        self.full_gray = cv2.cvtColor(photo_bgr, cv2.COLOR_BGR2GRAY)
        self.work_gray, self.work_scale = _shrink(self.full_gray, max_side)
        self.view_bgr, self.view_scale = _shrink(photo_bgr, display_side)
        self._candidates: dict[float, tuple[np.ndarray, float]] = {}  # scale factor -> (windows, seconds)
        self.boxes: list[FaceBox] = []  # in full-photo pixels
        self.faces = np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)

        min_face, margin_text = tr("min face px", "față min. px"), tr("margin", "margine")
        style = label_style("scaleFactor", "minNeighbors", min_face, margin_text)
        self.scale_factor = widgets.SelectionSlider(options=self.SCALE_FACTORS, value=1.1, description="scaleFactor",
                                                    continuous_update=True, style=style, layout=slider_layout())
        self.min_neighbors = widgets.IntSlider(value=5, min=0, max=50, description="minNeighbors", style=style,
                                               layout=slider_layout())
        smallest = int(np.ceil(24 / self.work_scale))  # the cascade's 24x24 window on the working copy
        self.min_size = widgets.IntSlider(value=max(30, smallest), min=smallest, max=max(smallest + 24, min(photo_bgr.shape[:2])),
                                          step=2, description=min_face, style=style, layout=slider_layout())
        self.margin = widgets.FloatSlider(value=0.1, min=0.0, max=0.6, step=0.02, description=margin_text, style=style,
                                          layout=slider_layout())
        self.photo_image = image_view("jpeg")
        self.faces_image = image_view("png")
        self.status = widgets.HTML(layout={"max_width": "min(360px, calc(100% - 4px))"})
        for control in (self.scale_factor, self.min_neighbors, self.min_size, self.margin):
            control.observe(self.update, names="value")
        controls = column([self.scale_factor, self.min_neighbors, self.min_size, self.margin, self.status])
        faces_box = column([widgets.Label(tr("what the network sees (48x48):", "ce vede rețeaua (48x48):")), self.faces_image])
        super().__init__([style_sheet(), row([controls, self.photo_image]), faces_box])
        explorer_box(self)
        if precompute:  # ~0.1 s once, while the cell runs, so that no slider move waits for the detector
            for scale_factor in self.SCALE_FACTORS:
                self.candidates(scale_factor)
        self.update()

    def candidates(self, scale_factor: float) -> tuple[np.ndarray, float]:
        """Raw detector windows (working-image pixels) for ``scale_factor``, and the seconds detection took."""
        if scale_factor not in self._candidates:
            start = time.perf_counter()
            windows = face_candidates(self.work_gray, scale_factor=scale_factor, min_size=24)
            self._candidates[scale_factor] = (windows, time.perf_counter() - start)
        return self._candidates[scale_factor]

    def update(self, change=None) -> None:
        windows, seconds = self.candidates(self.scale_factor.value)
        # Windows of one pyramid level have one size, so a larger minSize only drops whole levels:
        # filtering the minSize-24 windows gives exactly what detectMultiScale(minSize=...) would.
        min_size = self.min_size.value * self.work_scale
        kept = windows[windows[:, 2] >= min_size] if len(windows) else windows
        work_boxes = group_candidates(kept, self.min_neighbors.value)
        self.boxes = [box.scaled(1 / self.work_scale) for box in work_boxes]
        margin = self.margin.value
        self.faces = (np.stack([preprocess_face(crop(self.full_gray, box, margin)) for box in self.boxes[:self.MAX_FACES_SHOWN]])
                      if self.boxes else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32))

        canvas = self.view_bgr.copy()
        every_window = self.min_neighbors.value == 0  # raw candidates: thin boxes, no crop boxes (too many)
        for full_box in self.boxes:
            box = full_box.scaled(self.view_scale)
            if not every_window:
                outer = box.expanded(margin, canvas.shape)
                cv2.rectangle(canvas, (outer.x, outer.y), (outer.x + outer.w - 1, outer.y + outer.h - 1), (0, 215, 255), 1)
            cv2.rectangle(canvas, (box.x, box.y), (box.x + box.w - 1, box.y + box.h - 1), (0, 200, 0), 1 if every_window else 2)
        show_image(self.photo_image, jpeg_bytes(canvas, rgb=False), canvas.shape[:2])
        if len(self.faces):
            gap = np.ones((IMAGE_SIZE, 2), np.float32)  # a white line between faces
            strip = np.hstack([part for face in self.faces for part in (face[..., 0], gap)][:-1])
            # the model's input is in [0, 1]: map 0 to black and 1 to white, never stretch the contrast
            show_image(self.faces_image, png_bytes(np.round(strip * 255).astype(np.uint8), zoom=self.zoom),
                       (strip.shape[0] * self.zoom, strip.shape[1] * self.zoom))
        else:
            hide_image(self.faces_image)

        detection = tr(f"{len(kept)} candidate windows, detection took {1000 * seconds:.0f} ms",
                       f"{len(kept)} ferestre candidate, detecția a durat {1000 * seconds:.0f} ms")
        if not self.boxes:
            self.status.value = ("<b style='color:#b00'>" + tr(
                "No face found: lower minNeighbors or the minimum face size, or use a frontal, well-lit face.",
                "Nicio față găsită: micșorați minNeighbors sau dimensiunea minimă, sau folosiți o față frontală, bine luminată.")
                + f"</b> ({detection})")
        elif every_window:
            self.status.value = "<b>" + tr(
                f"{len(self.boxes)} raw candidate windows", f"{len(self.boxes)} ferestre candidate brute") + "</b>: " + tr(
                "with minNeighbors 0 every window the detector tried is kept, faces or not; raise it to merge them into faces.",
                "cu minNeighbors 0 se păstrează fiecare fereastră încercată de detector, față sau nu; măriți-l ca să le unească "
                "în fețe.") + f" ({detection})"
        else:
            found = tr(f"faces found: {len(self.boxes)}", f"fețe găsite: {len(self.boxes)}")
            hidden = len(self.boxes) - len(self.faces)
            more = tr(f", {hidden} not shown", f", {hidden} neafișate") if hidden else ""
            self.status.value = f"<b>{found}</b>{more} ({detection}). " + tr(
                "green: detector box, yellow: crop with margin", "verde: dreptunghiul detectorului, galben: decupajul cu margine")


def channel_explorer(photo_bgr: np.ndarray) -> ChannelExplorer:
    """The BGR/RGB channel explorer for a photo as OpenCV reads it."""
    return ChannelExplorer(photo_bgr)


def preprocess_explorer(photo_bgr: np.ndarray) -> PreprocessExplorer:
    """The face detection and preprocessing explorer for a photo as OpenCV reads it."""
    return PreprocessExplorer(photo_bgr)
