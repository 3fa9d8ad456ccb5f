"""The layout standard of every explorer (lessons 01-05 and the filter lab): one look, one screen.

- **Controls beside their result** where the width allows: :func:`row` is a wrapping flex
  row, so on a phone the result moves under its controls instead of adding a scrollbar.
- **Images at their natural size or an integer zoom, never stretched**: :func:`image_view`
  makes an ``ipywidgets.Image`` that keeps its own size (no flex stretching), and
  :func:`show_image` gives it the pixel size of the picture it shows; pictures are
  pixelated (each value a visible square) and shrink with their aspect ratio kept when a
  screen is narrower than they are. An empty image is hidden (no broken-image icon).
- **Nothing wider than** :data:`MAX_WIDTH`, a JupyterLab notebook at 1280 px with the file
  browser open; labels get the width their text needs (:func:`label_style`).
- **One colour language** (:data:`COLOURS`): the window/patch a kernel reads and the output
  cell it writes share a colour in every widget of lessons 02-05.

Every explorer puts :func:`style_sheet` first among its children (the CSS that the rules
above need); the tests in ``tests/test_widgets_layout.py`` and the browser tests check them.
"""

from __future__ import annotations

import base64
import html

import ipywidgets as widgets
import numpy as np

#: Width in CSS pixels that a whole explorer must fit: the output area of a JupyterLab
#: notebook at 1280 px with the file browser open (measured: 868 px).
MAX_WIDTH = 840

#: The course's colours (CSS hex and RGB for pictures drawn with OpenCV).
COLOURS = {
    "window": "#ffd166",    # the patch a kernel / pooling window / receptive field reads
    "output": "#ffd166",    # ... and the output cell it writes: the same colour, linked
    "second": "#ef476f",    # the next window (shows the stride)
    "kernel": "#cfe8ff",    # kernel weights
    "padding": "#eeeeee",   # zeros added around the input
    "text_error": "#b00020",
    "bar": "#4C72B0",
    "bar_best": "#C44E52",
}


def rgb(name: str) -> tuple[int, int, int]:
    """A colour of :data:`COLOURS` as an RGB triple (for OpenCV drawing on RGB pictures)."""
    value = COLOURS[name].lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))


_CSS = """<style>
.course-widget { max-width: 100%; box-sizing: border-box; }
.course-widget .course-image { image-rendering: pixelated; max-width: 100%; height: auto; flex: 0 0 auto;
                               align-self: flex-start; object-fit: contain; }
.course-widget .course-row { display: flex; flex-flow: row wrap; gap: 12px 20px; align-items: flex-start;
                             max-width: 100%; }
.course-widget .course-column { display: flex; flex-direction: column; align-items: flex-start; max-width: 100%;
                                min-width: 0; }
.course-widget .widget-html-content { white-space: normal; overflow-wrap: anywhere; }
.course-widget .course-caption { max-width: 100%; }
.course-widget .widget-toggle-buttons .widget-toggle-button { width: auto; padding: 0 10px; min-width: 3em; }
.course-widget .course-kernel-grid input { text-align: right; padding: 0 4px; }
</style>"""


def style_sheet() -> widgets.HTML:
    """The CSS of the layout standard, as an (invisible) widget to put first in an explorer."""
    sheet = widgets.HTML(_CSS, layout=widgets.Layout(height="0px", margin="0px", overflow="hidden"))
    sheet.add_class("course-style")
    return sheet


def explorer_box(box: widgets.Box) -> widgets.Box:
    """Mark ``box`` (an explorer's outermost VBox) as following the standard; returns it."""
    box.add_class("course-widget")
    box.layout.max_width = "100%"
    return box


def row(children, *, gap: str = "12px 20px") -> widgets.Box:
    """A row that wraps: its children side by side where they fit, one under the other where not."""
    box = widgets.Box(list(children), layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start",
                                                            grid_gap=gap, max_width="100%"))
    box.add_class("course-row")
    return box


def column(children) -> widgets.VBox:
    """A column whose children keep their own widths (no stretching to the widest)."""
    box = widgets.VBox(list(children), layout=widgets.Layout(align_items="flex-start", max_width="100%"))
    box.add_class("course-column")
    return box


def image_view(fmt: str = "png") -> widgets.Image:
    """An Image widget that is shown at the size :func:`show_image` gives it, never stretched; hidden while empty."""
    # calc(100% - 4px): ipywidgets gives every child a 2 px margin on each side
    view = widgets.Image(format=fmt, layout=widgets.Layout(display="none", align_self="flex-start", flex="0 0 auto",
                                                            max_width="calc(100% - 4px)", height="auto"))
    view.add_class("course-image")
    return view


def show_image(view: widgets.Image, data: bytes, size: tuple[int, int]) -> None:
    """Show encoded ``data`` in ``view`` at ``size`` = (height, width) CSS pixels (the picture's own size).

    Only the width is set: the height follows from the picture's aspect ratio, also when a
    narrow screen shrinks the width (max-width 100%).
    """
    view.value = data
    view.layout.width = f"{int(size[1])}px"
    view.layout.display = None


def hide_image(view: widgets.Image) -> None:
    """Empty ``view`` and hide it: an empty <img> would show a broken-image icon."""
    view.value = b""
    view.layout.display = "none"


def picture_size(picture: np.ndarray, zoom: int = 1) -> tuple[int, int]:
    """(height, width) of ``picture`` enlarged ``zoom`` times: the size to show it at."""
    return picture.shape[0] * zoom, picture.shape[1] * zoom


def label_style(*labels: str, minimum: int = 60, per_character: float = 7.6) -> dict:
    """``style=`` for controls whose descriptions are ``labels``: wide enough for the longest one.

    ipywidgets cuts descriptions at a fixed width ("minNeigh..."): this gives the whole group
    one width that fits its longest label (about 7.6 px per character of the 13 px UI font).
    """
    longest = max((len(label) for label in labels), default=0)
    return {"description_width": f"{max(minimum, int(longest * per_character) + 8)}px"}


def slider_layout(width: int = 300) -> widgets.Layout:
    """Layout of a slider in a control column: a fixed width that fits beside its result."""
    return widgets.Layout(width=f"{width}px", max_width="calc(100% - 4px)")


def bar_table(names: list[str], values: np.ndarray, *, width: int = 160, extra: list[str] | None = None) -> str:
    """HTML rows of horizontal bars, one per name (values in [0, 1]; the largest in the accent colour).

    Text stays at the page's font size however many tables are shown (a picture of a bar chart
    shrinks its labels with it). ``extra`` adds a grey column before the bar (e.g. the logits).
    """
    best = int(np.argmax(values)) if len(values) else -1
    rows = []
    for index, (name, value) in enumerate(zip(names, values)):
        colour = COLOURS["bar_best"] if index == best else COLOURS["bar"]
        middle = f"<td style='text-align:right;padding-right:6px;color:#666'>{extra[index]}</td>" if extra else ""
        rows.append(
            f"<tr><td style='padding-right:6px;white-space:nowrap'>{html.escape(name)}</td>{middle}"
            f"<td style='width:{width}px;min-width:{width}px'><div style='background:{colour};height:12px;"
            f"width:{100 * float(value):.1f}%'></div></td>"
            f"<td style='text-align:right;padding-left:6px'>{float(value):.3f}</td></tr>")
    return f"<table style='font-size:13px;border-collapse:collapse'>{''.join(rows)}</table>"


def inline_png(data: bytes, size: tuple[int, int], alt: str = "") -> str:
    """An <img> tag showing PNG ``data`` at ``size`` = (height, width) CSS pixels, pixelated."""
    encoded = base64.b64encode(data).decode("ascii")
    return (f"<img src='data:image/png;base64,{encoded}' width='{size[1]}' height='{size[0]}' alt='{html.escape(alt)}' "
            "style='image-rendering:pixelated;display:block'>")
