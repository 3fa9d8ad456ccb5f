"""Explorers for lesson 05: the trained network's feature maps, and your own photo through the model.

- :class:`FeatureMapBrowser`  pick a layer (dropdown) and a channel (slider): the face, the
  chosen feature map, and every channel of the layer as a grid (the chosen one framed)
- :class:`ReceptiveFieldExplorer`  pick a layer and a cell (row, column sliders): the cell
  on its feature map, and the input pixels it can see drawn on the face
- :class:`PhotoPredictor`     upload a photo: faces boxed and numbered on it, one bar chart
  of the 7 probabilities per face; any problem (not an image, too large, no face) is a
  message in the widget, never a traceback

Both keep their controls and outputs as attributes so that tests can drive them from Python
(``browser.layer.value = ...``; ``predictor.analyse(data)`` or ``predictor.upload.value = ...``).
"""

from __future__ import annotations

import datetime
import html

import cv2
import ipywidgets as widgets
import numpy as np

from utils.constants import NUM_CLASSES
from utils.explain import feature_layer_names, feature_maps
from utils.i18n import tr
from utils.images import ImageError, ImageTooLargeError, NoFaceFoundError, draw_boxes
from utils.pipeline import PhotoPipeline
from utils.receptive_field import receptive_field_table
from utils.widgets.display import png_bytes, to_uint8
from utils.widgets.images import jpeg_bytes
from utils.widgets.layout import (
    COLOURS,
    bar_table,
    column,
    explorer_box,
    hide_image,
    image_view,
    inline_png,
    label_style,
    rgb,
    row,
    show_image,
    slider_layout,
    style_sheet,
)

# The limits (MAX_UPLOAD_BYTES, pixels, side, smallest face) are utils.pipeline's, shared with the web demo.

_GAP = 2


def _tile(maps: np.ndarray, *, tile: int, columns: int) -> np.ndarray:
    """Every channel of ``maps`` ``(H, W, C)`` as a grid of ``tile`` px squares, each on its own scale (RGB)."""
    height, width, channels = maps.shape
    rows = -(-channels // columns)
    gap = _GAP
    canvas = np.full((rows * (tile + gap) + gap, columns * (tile + gap) + gap, 3), 255, np.uint8)
    for index in range(channels):
        r, c = divmod(index, columns)
        square = cv2.resize(to_uint8(maps[..., index], low=0.0 if maps.min() >= 0 else None),
                            (tile, tile), interpolation=cv2.INTER_NEAREST)
        top, left = gap + r * (tile + gap), gap + c * (tile + gap)
        canvas[top:top + tile, left:left + tile] = square[..., np.newaxis]
    return canvas


def _framed(canvas: np.ndarray, selected: int, *, tile: int, columns: int) -> np.ndarray:
    """A copy of a :func:`_tile` grid with channel ``selected`` framed in red."""
    framed = canvas.copy()
    r, c = divmod(selected, columns)
    top, left = _GAP + r * (tile + _GAP), _GAP + c * (tile + _GAP)
    cv2.rectangle(framed, (left - 2, top - 2), (left + tile + 1, top + tile + 1), rgb("second"), 2)
    return framed


class FeatureMapBrowser(widgets.VBox):
    """One face through the model: choose a layer and a channel and see its feature map.

    The maps of every layer come from one forward pass made when the browser is built, so
    moving a control only re-encodes small images. ``maps[name]`` holds each layer's
    ``(H, W, C)`` array; ``image`` shows the face beside the chosen map, ``grid`` all channels.
    """

    GRID_WIDTH = 400  # px: the channel grid beside the 392 px face + map

    def __init__(self, model, face: np.ndarray, *, layer_names: list[str] | None = None, size: int = 192):
        self.size = size
        self.face = np.asarray(face)
        self.maps = feature_maps(model, face, layer_names or feature_layer_names(model))
        self._grids: dict[str, tuple[np.ndarray, int, int]] = {}  # layer -> (unframed grid, tile, columns)
        options = [(f"{name}  {'x'.join(str(s) for s in m.shape)}", name) for name, m in self.maps.items()]
        style = label_style(tr("layer", "strat"), tr("channel", "canal"))
        self.layer = widgets.Dropdown(options=options, value=options[0][1], description=tr("layer", "strat"),
                                      style=style, layout=slider_layout(360))
        self.channel = widgets.IntSlider(value=0, min=0, max=self.maps[options[0][1]].shape[-1] - 1,
                                         description=tr("channel", "canal"), continuous_update=True, style=style,
                                         layout=slider_layout(360))
        self.image = image_view("png")
        self.grid = image_view("png")
        self.caption = widgets.HTML(layout={"max_width": f"min({2 * size + 8}px, calc(100% - 4px))"})
        self.layer.observe(self._layer_changed, names="value")
        self.channel.observe(self.update, names="value")
        grid_box = column([widgets.HTML("<small>" + tr("all channels of the layer (the chosen one framed):",
                                                       "toate canalele stratului (cel ales, încadrat):") + "</small>"),
                           self.grid])
        super().__init__([style_sheet(), row([self.layer, self.channel], gap="4px 16px"),
                          row([column([self.image, self.caption]), grid_box])])
        explorer_box(self)
        self.update()

    def _layer_changed(self, change=None) -> None:
        channels = self.maps[self.layer.value].shape[-1]
        # changing max may move value, which already triggers update; update once more anyway
        self.channel.max = channels - 1
        if self.channel.value > channels - 1:
            self.channel.value = channels - 1
        self.update()

    def current_map(self) -> np.ndarray:
        """The feature map shown now, ``(H, W)``."""
        return self.maps[self.layer.value][..., self.channel.value]

    def update(self, change=None) -> None:
        maps = self.maps[self.layer.value]
        fmap = self.current_map()
        face = to_uint8(self.face.squeeze(), low=0, high=255 if self.face.dtype == np.uint8 else 1.0)
        face = cv2.resize(face, (self.size, self.size), interpolation=cv2.INTER_NEAREST)
        rectified = maps.min() >= 0
        shown = cv2.resize(to_uint8(fmap, low=0.0 if rectified else None), (self.size, self.size), interpolation=cv2.INTER_NEAREST)
        pair = np.hstack([face, np.full((self.size, 8), 255, np.uint8), shown])
        show_image(self.image, png_bytes(pair), pair.shape[:2])
        if self.layer.value not in self._grids:  # the grid of a layer is drawn once; moves only re-frame it
            columns = 16 if maps.shape[-1] > 64 else 8
            # the grid sits beside the face and its map: face + map + grid fit MAX_WIDTH
            tile = max(12, min(48, self.GRID_WIDTH // columns - _GAP))
            self._grids[self.layer.value] = (_tile(maps, tile=tile, columns=columns), tile, columns)
        grid, tile, columns = self._grids[self.layer.value]
        framed = _framed(grid, self.channel.value, tile=tile, columns=columns)
        show_image(self.grid, png_bytes(framed), framed.shape[:2])
        zero = float((fmap <= 0).mean())
        self.caption.value = tr(
            f"<b>{self.layer.value}</b>, channel {self.channel.value} of {maps.shape[-1]}: a {fmap.shape[0]}x{fmap.shape[1]} map, "
            f"values {fmap.min():.3g} .. {fmap.max():.3g} (black = {'0' if rectified else 'lowest'}, white = highest); "
            f"{100 * zero:.0f}% of its cells are {'0 (ReLU)' if rectified else '<= 0'}.",
            f"<b>{self.layer.value}</b>, canalul {self.channel.value} din {maps.shape[-1]}: o hartă de {fmap.shape[0]}x{fmap.shape[1]}, "
            f"valori {fmap.min():.3g} .. {fmap.max():.3g} (negru = {'0' if rectified else 'cea mai mică'}, alb = cea mai mare); "
            f"{100 * zero:.0f}% dintre celule sunt {'0 (ReLU)' if rectified else '<= 0'}.")


class ReceptiveFieldExplorer(widgets.VBox):
    """Which pixels can one cell see? Choose a layer and a cell; its receptive field is drawn on the face.

    Left: the face with the field of the chosen cell (red, clipped at the border); right: the
    layer's map (mean over channels) with the chosen cell marked. ``fields`` holds the
    :class:`utils.receptive_field.ReceptiveField` of every convolution and pooling layer.
    """

    def __init__(self, model, face: np.ndarray, *, size: int = 240):
        self.size = size
        self.face = np.asarray(face)
        self.fields = {f.layer: f for f in receptive_field_table(model)}
        names = list(self.fields)
        self.maps = feature_maps(model, face, names)
        options = [(f"{name}  {self.fields[name].size}x{self.fields[name].size}", name) for name in names]
        style = label_style(tr("layer", "strat"), tr("row", "rând"), tr("column", "coloană"))
        self.layer = widgets.Dropdown(options=options, value=names[0], description=tr("layer", "strat"),
                                      layout=slider_layout(300), style=style)
        self.row = widgets.IntSlider(value=0, min=0, max=0, description=tr("row", "rând"), continuous_update=True,
                                     style=style, layout=slider_layout(300))
        self.col = widgets.IntSlider(value=0, min=0, max=0, description=tr("column", "coloană"), continuous_update=True,
                                     style=style, layout=slider_layout(300))
        self.image = image_view("png")
        self.caption = widgets.HTML(layout={"max_width": "min(300px, calc(100% - 4px))"})
        self.layer.observe(self._layer_changed, names="value")
        self.row.observe(self.update, names="value")
        self.col.observe(self.update, names="value")
        super().__init__([style_sheet(), row([column([self.layer, self.row, self.col, self.caption]), self.image])])
        explorer_box(self)
        self._layer_changed()

    def _layer_changed(self, change=None) -> None:
        side = self.fields[self.layer.value].size
        centre = side // 2
        for slider in (self.row, self.col):
            slider.unobserve(self.update, names="value")
            slider.max = side - 1
            slider.value = centre
            slider.observe(self.update, names="value")
        self.update()

    def box(self) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)`` of the chosen cell's field in input pixels (bottom/right exclusive)."""
        return self.fields[self.layer.value].box(self.row.value, self.col.value, self.face.shape[0])

    def update(self, change=None) -> None:
        field = self.fields[self.layer.value]
        top, left, bottom, right = self.box()
        zoom = self.size / self.face.shape[0]
        face = to_uint8(self.face.squeeze(), low=0, high=255 if self.face.dtype == np.uint8 else 1.0)
        face = cv2.cvtColor(cv2.resize(face, (self.size, self.size), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2RGB)
        cv2.rectangle(face, (round(left * zoom), round(top * zoom)), (round(right * zoom) - 1, round(bottom * zoom) - 1),
                      rgb("window"), 2)
        mean_map = self.maps[self.layer.value].mean(axis=-1)
        shown = cv2.cvtColor(cv2.resize(to_uint8(mean_map), (self.size, self.size), interpolation=cv2.INTER_NEAREST),
                             cv2.COLOR_GRAY2RGB)
        cell = self.size / field.size
        cv2.rectangle(shown, (round(self.col.value * cell), round(self.row.value * cell)),
                      (round((self.col.value + 1) * cell) - 1, round((self.row.value + 1) * cell) - 1), rgb("output"), 2)
        pair = np.hstack([face, np.full((self.size, 8, 3), 255, np.uint8), shown])
        show_image(self.image, png_bytes(pair), pair.shape[:2])
        self.caption.value = tr(
            f"<b>{field.layer}</b>, cell ({self.row.value}, {self.col.value}) of its {field.size}x{field.size} maps: "
            f"receptive field {field.r}x{field.r} px (r = {field.r}, jump j = {field.j}); on this 48x48 face it covers rows "
            f"{top}..{bottom - 1} and columns {left}..{right - 1}.",
            f"<b>{field.layer}</b>, celula ({self.row.value}, {self.col.value}) a hărților lui de {field.size}x{field.size}: "
            f"câmp receptiv de {field.r}x{field.r} px (r = {field.r}, saltul j = {field.j}); pe această față de 48x48 acoperă "
            f"rândurile {top}..{bottom - 1} și coloanele {left}..{right - 1}.")


class PhotoPredictor(widgets.VBox):
    """Upload a photo; every face found is boxed, numbered and given its 7 emotion probabilities.

    :meth:`analyse` does the work for raw file bytes (the upload button calls it); after it,
    ``boxes`` and ``probabilities`` hold the result and ``status`` the message shown.
    """

    MAX_FACES = 6

    def __init__(self, model, *, display_side: int = 420):
        self.model = model
        self.pipeline = PhotoPipeline(model)
        self.display_side = display_side
        self.boxes: list = []
        self.probabilities = np.zeros((0, NUM_CLASSES), np.float32)
        self.upload = widgets.FileUpload(accept="image/*", multiple=False,
                                         description=tr("Upload a photo", "Încărcați o fotografie"),
                                         layout={"width": "auto"})
        self.status = widgets.HTML(tr("Choose a photo with one or more faces (JPEG or PNG).",
                                      "Alegeți o fotografie cu una sau mai multe fețe (JPEG sau PNG)."),
                                   layout={"max_width": "calc(100% - 4px)"})
        self.photo_image = image_view("jpeg")
        # One card per face: its 48x48 input and its seven probabilities as bars, in HTML so the
        # text stays readable however many faces there are (a picture of charts shrinks its labels).
        self.cards = widgets.HTML(layout={"max_width": "calc(100% - 4px)"})
        self.upload.observe(self._uploaded, names="value")
        super().__init__([style_sheet(), row([self.upload, self.status], gap="4px 16px"), row([self.photo_image, self.cards])])
        explorer_box(self)

    def _uploaded(self, change) -> None:
        files = change["new"]
        if files:
            entry = files[-1]
            self.analyse(bytes(entry["content"]), name=str(entry.get("name", "")))

    def _fail(self, message: str) -> None:
        self.boxes, self.probabilities = [], np.zeros((0, NUM_CLASSES), np.float32)
        hide_image(self.photo_image)
        self.cards.value = ""
        self.status.value = f"<b style='color:{COLOURS['text_error']}'>{html.escape(message)}</b>"

    def analyse(self, data: bytes, name: str = "") -> np.ndarray:
        """Detect faces in the image file ``data``, predict each one, show the result; returns ``(N, 7)``."""
        label = f"{name}: " if name else ""
        try:
            self._analyse(data, label)
        except ImageTooLargeError as error:
            self._fail(label + tr("Image too large. ", "Imagine prea mare. ") + str(error))
        except NoFaceFoundError as error:
            self._fail(label + tr("No face found. ", "Nicio față găsită. ") + str(error))
        except ImageError as error:
            self._fail(label + tr("Not a usable image. ", "Nu este o imagine utilizabilă. ") + str(error))
        except Exception as error:  # never a traceback in the widget: say what happened
            self._fail(label + tr("Something went wrong: ", "Ceva nu a mers bine: ") + f"{type(error).__name__}: {error}")
        return self.probabilities

    def _analyse(self, data: bytes, label: str) -> None:
        limit = self.pipeline.max_upload_bytes
        if len(data) > limit:  # checked here too, for a message in the course language
            raise ImageTooLargeError(tr(
                f"The file is {len(data) / 2**20:.0f} MB; at most {limit / 2**20:g} MB are accepted. Use a smaller photo.",
                f"Fișierul are {len(data) / 2**20:.0f} MB; se acceptă cel mult {limit / 2**20:g} MB. Folosiți o fotografie mai mică."))
        analysis = self.pipeline.analyse(data)
        photo, found = analysis.image, analysis.predictions
        boxes = [p.box for p in found[:self.MAX_FACES]]
        faces, probabilities = analysis.faces[:self.MAX_FACES], analysis.probabilities[:self.MAX_FACES]
        boxed = self._boxed(photo, boxes)
        cards = self._cards(faces, probabilities)
        self.boxes, self.probabilities = boxes, probabilities
        show_image(self.photo_image, jpeg_bytes(boxed, rgb=False), boxed.shape[:2])
        self.cards.value = cards
        more = len(found) - len(boxes)
        extra = tr(f" ({more} more not shown)", f" (încă {more} neafișate)") if more else ""
        best = ", ".join(f"{i + 1}: {_name(int(p.argmax()))} {100 * p.max():.0f}%" for i, p in enumerate(probabilities))
        self.status.value = html.escape(label) + tr(f"<b>{len(found)} face(s) found</b>{extra}. ",
                                                    f"<b>fețe găsite: {len(found)}</b>{extra}. ") + best

    def _boxed(self, photo_bgr: np.ndarray, boxes) -> np.ndarray:
        scale = min(1.0, self.display_side / max(photo_bgr.shape[:2]))
        small = cv2.resize(photo_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else photo_bgr
        thickness = max(2, int(round(max(small.shape[:2]) / 200)))
        return draw_boxes(small, [b.scaled(scale) for b in boxes], color=(0, 220, 0), thickness=thickness, numbered=True)

    @staticmethod
    def _cards(faces: np.ndarray, probabilities: np.ndarray) -> str:
        """HTML: one card per face (number, the 48x48 input at 2x, seven bars), wrapping in rows."""
        names = [_name(label) for label in range(NUM_CLASSES)]
        cards = []
        for number, (face, row_) in enumerate(zip(faces, probabilities), start=1):
            picture = inline_png(png_bytes(np.round(face[..., 0] * 255).astype(np.uint8)), (96, 96),
                                 alt=tr(f"face {number}", f"fața {number}"))
            cards.append(
                "<div style='display:flex;gap:10px;align-items:flex-start;border:1px solid #ddd;border-radius:6px;"
                "padding:6px 8px'>"
                f"<div><b>{tr(f'face {number}', f'fața {number}')}</b>{picture}</div>"
                f"{bar_table(names, row_, width=110)}</div>")
        intro = tr("what the network sees (48x48) and its probabilities:", "ce vede rețeaua (48x48) și probabilitățile ei:")
        return (f"<div style='margin-bottom:4px'>{intro}</div>"
                f"<div style='display:flex;flex-flow:row wrap;gap:8px'>{''.join(cards)}</div>")

    def upload_bytes(self, data: bytes, name: str = "photo.jpg") -> None:
        """Put ``data`` in the upload control as a browser would (for tests and demos)."""
        self.upload.value = ({"name": name, "type": "", "size": len(data), "content": memoryview(data),
                              "last_modified": datetime.datetime.now(datetime.UTC)},)


def _name(label: int) -> str:
    from utils.viz import emotion_name

    return emotion_name(label)


def feature_map_browser(model, face: np.ndarray) -> FeatureMapBrowser:
    """Browse the feature maps of every convolution layer of ``model`` for one face."""
    return FeatureMapBrowser(model, face)


def receptive_field_explorer(model, face: np.ndarray) -> ReceptiveFieldExplorer:
    """Pick a layer and a cell of ``model`` and see which pixels of ``face`` it can see."""
    return ReceptiveFieldExplorer(model, face)


def photo_predictor(model) -> PhotoPredictor:
    """An upload button: your photo -> faces -> the model's probabilities for each face."""
    return PhotoPredictor(model)
