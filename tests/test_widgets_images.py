"""Lesson 01's explorers, driven from Python as a student's clicks would drive them."""

import cv2
import numpy as np
import pytest

from utils import images
from utils.i18n import get_language, set_language
from utils.images import ImageError
from utils.widgets import images as image_widgets
from utils.widgets.images import ChannelExplorer, PreprocessExplorer, channel_explorer, preprocess_explorer


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return images.load_sample_photo()


def decode(encoded: bytes) -> np.ndarray:
    """The pixels an Image widget shows (PNG or JPEG bytes), back in RGB order."""
    bgr = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_UNCHANGED)
    assert bgr is not None, "the widget holds valid image bytes"
    return bgr[..., ::-1] if bgr.ndim == 3 else bgr


def close(shown: np.ndarray, expected: np.ndarray) -> bool:
    """Equal up to JPEG's small losses (quality 95, no chroma subsampling)."""
    return shown.shape == expected.shape and np.abs(shown.astype(int) - expected.astype(int)).mean() < 2.5


# --------------------------------------------------------------------------- channel explorer


def test_channel_explorer_starts_with_the_wrong_colours(photo):
    explorer = channel_explorer(photo)
    assert isinstance(explorer, ChannelExplorer)
    shown = decode(explorer.image.value)
    small = explorer.photo
    assert shown.shape == small.shape and max(shown.shape[:2]) == 360
    assert close(shown, small), "order 'bgr': OpenCV's array goes to an RGB screen unchanged"
    assert not close(shown, small[..., ::-1])
    assert explorer.image.format == "jpeg"


def test_channel_explorer_order_toggle_fixes_colours(photo):
    explorer = channel_explorer(photo)
    before = explorer.image.value
    caption = explorer.caption.value
    explorer.order.value = "rgb"
    assert explorer.image.value != before and explorer.caption.value != caption
    assert close(decode(explorer.image.value), cv2.cvtColor(explorer.photo, cv2.COLOR_BGR2RGB))
    assert np.array_equal(explorer.displayed(), cv2.cvtColor(explorer.photo, cv2.COLOR_BGR2RGB))
    explorer.order.value = "bgr"
    assert explorer.image.value == before


@pytest.mark.parametrize("order", ["bgr", "rgb"])
def test_hiding_a_channel_zeroes_it(photo, order):
    explorer = channel_explorer(photo)
    explorer.order.value = order
    explorer.channel_boxes[2].value = False  # hide red (channel 2 of the BGR array)
    red_on_screen = 2 if order == "bgr" else 0  # unchanged array: channel 2 lands in the screen's blue slot
    assert explorer.displayed()[..., red_on_screen].max() == 0
    shown = decode(explorer.image.value)
    assert shown[..., red_on_screen].mean() < 2, "what reaches the screen has (almost, JPEG) no red"
    assert shown[..., 1].mean() > 50, "the other channels stay"
    assert "shown channels: 0, 1;" in explorer.caption.value
    for box in explorer.channel_boxes:
        box.value = False
    assert explorer.displayed().max() == 0 and decode(explorer.image.value).max() < 5, "all channels hidden: black"


def test_explorer_does_not_modify_the_photo(photo):
    before = photo.copy()
    explorer = channel_explorer(photo)
    explorer.channel_boxes[0].value = False
    explorer.order.value = "rgb"
    assert np.array_equal(photo, before)


def test_explorers_reject_bad_photos():
    for build in (channel_explorer, preprocess_explorer):
        with pytest.raises(ImageError, match="uint8"):
            build(np.zeros((50, 50, 3), np.float64))
        with pytest.raises(ImageError, match="shape"):
            build(np.zeros((50, 50), np.uint8))


def test_labels_follow_the_language(photo):
    previous = get_language()
    try:
        set_language("ro")
        explorer = channel_explorer(photo)
        assert "roșu" in explorer.channel_boxes[2].description
        assert "culori" in explorer.caption.value or "ecranul" in explorer.caption.value
        assert preprocess_explorer(photo).margin.description == "margine"
        set_language("en")
        assert channel_explorer(photo).channel_boxes[2].description == "2: red"
    finally:
        set_language(previous)


# --------------------------------------------------------------------------- preprocessing explorer


def test_preprocess_explorer_finds_the_face(photo):
    explorer = preprocess_explorer(photo)
    assert isinstance(explorer, PreprocessExplorer)
    assert len(explorer.boxes) == 1
    assert explorer.faces.shape == (1, 48, 48, 1) and explorer.faces.dtype == np.float32
    # the box (found on a 256 px copy, scaled back) lies on the face the full-size detector finds
    full = images.detect_faces(photo)[0]
    box = explorer.boxes[0]
    assert abs(box.x - full.x) < 15 and abs(box.y - full.y) < 15 and abs(box.w - full.w) < 25
    assert np.array_equal(explorer.faces[0], images.preprocess_face(images.crop(explorer.full_gray, box, 0.1)))
    strip = decode(explorer.faces_image.value)
    assert strip.shape == (96, 96), "one 48x48 face, zoomed twice"
    assert "1" in explorer.status.value


def test_margin_changes_crop_not_detection(photo, monkeypatch):
    explorer = preprocess_explorer(photo)
    calls = []
    monkeypatch.setattr(image_widgets, "face_candidates", lambda *a, **k: calls.append(1) or np.zeros((0, 4), np.int32))
    boxes, faces_png, photo_png = explorer.boxes, explorer.faces_image.value, explorer.photo_image.value
    explorer.margin.value = 0.4
    assert explorer.boxes == boxes, "the boxes stay"
    assert explorer.faces_image.value != faces_png, "the 48x48 face shows more of the head"
    assert explorer.photo_image.value != photo_png, "the yellow crop box grows"
    assert not calls, "changing the margin must not run the detector again"


def test_min_neighbors_regroups_cached_candidates(photo, monkeypatch):
    explorer = preprocess_explorer(photo)
    calls = []
    monkeypatch.setattr(image_widgets, "face_candidates", lambda *a, **k: calls.append(1) or np.zeros((0, 4), np.int32))
    explorer.min_neighbors.value = 0
    assert len(explorer.boxes) > 5, "minNeighbors 0 shows every candidate window"
    assert "candidate" in explorer.status.value
    explorer.min_neighbors.value = explorer.min_neighbors.max
    assert explorer.boxes == [] and explorer.faces.shape == (0, 48, 48, 1)
    assert "No face found" in explorer.status.value
    assert explorer.faces_image.value == b"" and explorer.faces_image.layout.display == "none", \
        "no face: the strip is hidden (no grey placeholder, no broken-image icon)"
    explorer.min_neighbors.value = 5
    assert len(explorer.boxes) == 1
    assert not calls


def test_explorer_matches_the_detector_on_its_working_image(photo):
    explorer = preprocess_explorer(photo)
    assert explorer.min_size.min == int(np.ceil(24 / explorer.work_scale))
    for scale_factor, min_neighbors, min_size in [(1.05, 3, 30), (1.2, 1, 60), (1.05, 0, 62), (1.5, 0, 100), (1.1, 8, 200)]:
        explorer.scale_factor.value = scale_factor
        explorer.min_neighbors.value = min_neighbors
        explorer.min_size.value = min_size
        min_size = explorer.min_size.value  # the slider clamps to what the working copy can detect
        expected = images.detect_faces(explorer.work_gray, scale_factor=scale_factor, min_neighbors=min_neighbors,
                                       min_size=max(24, int(np.ceil(min_size * explorer.work_scale))))
        assert [b.scaled(1 / explorer.work_scale) for b in expected] == explorer.boxes


def test_scale_factor_detects_once_per_value(photo, monkeypatch):
    real = image_widgets.face_candidates
    calls = []
    monkeypatch.setattr(image_widgets, "face_candidates", lambda *a, **k: calls.append(k["scale_factor"]) or real(*a, **k))
    lazy = PreprocessExplorer(photo, precompute=False)
    lazy.scale_factor.value = 1.3
    lazy.scale_factor.value = 1.1
    lazy.scale_factor.value = 1.3
    assert calls == [1.1, 1.3], "1.1 at start, 1.3 once"
    assert "ms" in lazy.status.value
    calls.clear()
    eager = preprocess_explorer(photo)
    assert sorted(calls) == sorted(PreprocessExplorer.SCALE_FACTORS), "built once for every slider position"
    calls.clear()
    for value in PreprocessExplorer.SCALE_FACTORS:
        eager.scale_factor.value = value
    assert calls == [], "moving the slider never waits for the detector"
    eager.scale_factor.value = 1.1
    assert eager.boxes == PreprocessExplorer(photo, precompute=False).boxes


def test_several_faces_in_the_explorer(photo):
    explorer = preprocess_explorer(np.hstack([photo, photo[:, ::-1]]))
    assert len(explorer.boxes) == 2 and explorer.faces.shape == (2, 48, 48, 1)
    assert decode(explorer.faces_image.value).shape == (96, 2 * (48 + 2 + 48)), "two faces, a white line between them"
    assert explorer.faces_image.layout.width == "196px", "shown at its own size, never stretched"
