"""Lesson 04's explorers, driven from Python as a student's clicks would drive them."""

import cv2
import numpy as np
import pytest

from utils import images
from utils.explain import feature_layer_names
from utils.i18n import set_language
from utils.models import predict_proba
from utils.pipeline import MAX_UPLOAD_BYTES
from utils.viz import emotion_name
from utils.widgets.model import FeatureMapBrowser, PhotoPredictor, feature_map_browser, photo_predictor


@pytest.fixture(scope="module")
def model(make_tiny_model):
    return make_tiny_model(1)


@pytest.fixture(scope="module")
def photo_bytes() -> bytes:
    return images.sample_photo_path().read_bytes()


def decode(encoded: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, "the widget holds valid image bytes"
    return image


# --------------------------------------------------------------------------- feature-map browser


def test_browser_shows_the_chosen_layer_and_channel(model, small_faces):
    face = small_faces[0][3]
    browser = feature_map_browser(model, face)
    assert isinstance(browser, FeatureMapBrowser)
    assert [value for _, value in browser.layer.options] == feature_layer_names(model)
    assert browser.channel.max == 3, "block1 has 4 filters"
    first, first_grid, caption = browser.image.value, browser.grid.value, browser.caption.value
    assert decode(first).shape[:2] == (192, 192 * 2 + 8), "face and map side by side"

    browser.channel.value = 2
    assert browser.image.value != first and browser.caption.value != caption
    assert browser.grid.value != first_grid, "the frame moves to the chosen channel"
    assert np.array_equal(browser.current_map(), browser.maps["block1_relu1"][..., 2])

    browser.layer.value = "block2_relu2"
    assert browser.channel.max == 7, "block2 has 8 filters"
    assert browser.current_map().shape == (24, 24)
    assert "block2_relu2" in browser.caption.value and "24x24" in browser.caption.value
    browser.channel.value = 7
    browser.layer.value = "block1_relu1"
    assert browser.channel.max == 3 and browser.channel.value == 3, "the channel is kept within the new layer's range"
    assert np.array_equal(browser.current_map(), browser.maps["block1_relu1"][..., 3])


def test_browser_labels_follow_the_language(model, small_faces):
    set_language("ro")
    try:
        browser = FeatureMapBrowser(model, small_faces[0][0])
        assert browser.layer.description == "strat" and "canalul" in browser.caption.value
    finally:
        set_language("en")


# --------------------------------------------------------------------------- photo upload


def test_upload_of_the_sample_photo_finds_the_face_and_draws_bars(model, photo_bytes):
    predictor = photo_predictor(model)
    assert isinstance(predictor, PhotoPredictor)
    assert predictor.photo_image.value == b"" and predictor.cards.value == ""
    assert predictor.photo_image.layout.display == "none", "no empty <img> (a broken-image icon) before an upload"
    predictor.upload_bytes(photo_bytes, "grace_hopper.jpg")
    assert len(predictor.boxes) == 1
    assert predictor.probabilities.shape == (1, 7) and np.isclose(predictor.probabilities.sum(), 1, atol=1e-5)
    found = images.faces_from_photo(images.load_sample_photo())
    assert np.allclose(predictor.probabilities, predict_proba(model, found.faces), atol=1e-5), "the shipped pipeline"
    shown = decode(predictor.photo_image.value)
    assert max(shown.shape[:2]) == 420
    assert predictor.photo_image.layout.width == f"{shown.shape[1]}px" and predictor.photo_image.layout.display is None
    cards = predictor.cards.value
    assert cards.count("data:image/png;base64,") == 1 and "face 1" in cards
    for label in range(7):  # every emotion is text in the card, readable at the page's font size
        assert f">{emotion_name(label)}</td>" in cards
    assert f"{predictor.probabilities[0].max():.3f}" in cards
    assert "1 face" in predictor.status.value and "color:#b00" not in predictor.status.value


def bad_inputs(photo_bytes):
    no_face = cv2.imencode(".jpg", np.tile(np.linspace(0, 255, 300, dtype=np.uint8), (200, 1)))[1].tobytes()
    small_png = cv2.imencode(".png", np.zeros((10, 10), np.uint8))[1].tobytes()
    huge_png = small_png[:16] + (20000).to_bytes(4, "big") + (20000).to_bytes(4, "big") + small_png[24:]   # declares 400 MP
    return {
        "not an image": (b"%PDF-1.4 this is a PDF, not a photo", "Not a usable image"),
        "empty file": (b"", "empty"),
        "truncated jpeg": (photo_bytes[:2000], "Not a usable image"),
        "huge image": (huge_png, "Image too large"),
        "huge file": (b"\xff\xd8\xff" + bytes(MAX_UPLOAD_BYTES + 10), "Image too large"),
        "no face": (no_face, "No face found"),
    }


@pytest.mark.parametrize("case", ["not an image", "empty file", "truncated jpeg", "huge image", "huge file", "no face"])
def test_bad_uploads_give_a_clear_message_in_the_widget(model, photo_bytes, case):
    data, expected = bad_inputs(photo_bytes)[case]
    predictor = PhotoPredictor(model)
    predictor.upload_bytes(photo_bytes)
    assert predictor.photo_image.value != b""
    predictor.upload_bytes(data, "upload.bin")                   # no exception escapes
    assert expected in predictor.status.value and "color:#b00" in predictor.status.value
    assert "Traceback" not in predictor.status.value
    assert predictor.photo_image.value == b"" and predictor.cards.value == "", "the old result is cleared"
    assert predictor.photo_image.layout.display == "none", "no broken-image icon after an error"
    assert predictor.boxes == [] and predictor.probabilities.shape == (0, 7)


def test_analyse_can_be_called_directly_and_survives_unexpected_errors(photo_bytes):
    class BrokenModel:
        def __call__(self, *args, **kwargs):
            raise RuntimeError("the model file is damaged")

    predictor = PhotoPredictor(BrokenModel())
    result = predictor.analyse(photo_bytes)
    assert result.shape == (0, 7)
    assert "Something went wrong" in predictor.status.value and "damaged" in predictor.status.value


def test_upload_messages_follow_the_language(model):
    set_language("ro")
    try:
        predictor = PhotoPredictor(model)
        predictor.analyse(b"not an image at all")
        assert "Nu este o imagine" in predictor.status.value
        assert predictor.upload.description == "Încărcați o fotografie"
    finally:
        set_language("en")


# --------------------------------------------------------------------------- receptive-field explorer


def test_receptive_field_explorer_draws_the_chosen_cells_field(model, small_faces):
    from utils.receptive_field import empirical_receptive_field, geometry_twin
    from utils.widgets.model import ReceptiveFieldExplorer, receptive_field_explorer

    explorer = receptive_field_explorer(model, small_faces[0][0])
    assert isinstance(explorer, ReceptiveFieldExplorer)
    names = [value for _, value in explorer.layer.options]
    assert names[0] == "block1_conv1" and explorer.box()[2] - explorer.box()[0] == 3, "one 3x3 conv sees 3x3 pixels"
    first, caption = explorer.image.value, explorer.caption.value
    assert decode(first).shape[:2] == (240, 240 * 2 + 8)

    explorer.row.value = 0
    assert explorer.image.value != first and explorer.caption.value != caption
    assert explorer.box()[0] == 0, "a border cell's field is clipped at the image border"

    deepest = names[-1]
    explorer.layer.value = deepest
    side = explorer.fields[deepest].size
    assert explorer.row.max == side - 1 and explorer.row.value == side // 2, "sliders follow the layer's map size"
    explorer.col.value = side - 1
    top, left, bottom, right = explorer.box()
    seen = empirical_receptive_field(geometry_twin(model), deepest, explorer.row.value, explorer.col.value)
    rows, cols = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
    assert (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1) == (top, left, bottom, right), \
        "the drawn box is where the gradient of the cell w.r.t. the input is non-zero"
    assert deepest in explorer.caption.value


def test_receptive_field_explorer_speaks_romanian(model, small_faces):
    from utils.widgets.model import ReceptiveFieldExplorer

    set_language("ro")
    try:
        explorer = ReceptiveFieldExplorer(model, small_faces[0][0])
        assert explorer.row.description == "rând" and "câmp receptiv" in explorer.caption.value
    finally:
        set_language("en")
