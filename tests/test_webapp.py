"""The web demo (webapp/) through Flask's test client: every answer of the JSON API.

The tests never need the shipped model: they save a small, untrained model built with
the course's builder and give its path to ``create_app``. Its probabilities are
meaningless, but the pipeline (detection, crop, 48x48, flip averaging) is the real one,
and the tests check the API against it number for number.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import threading
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]

from utils.constants import IMAGE_SIZE  # noqa: E402
from utils.data import EMOTIONS  # noqa: E402
from utils.images import decode_image, faces_from_photo, image_header_size, sample_photo_path  # noqa: E402

pytestmark = [
    pytest.mark.webapp,
]

SAMPLE_BOX = (155, 105, 222, 222)  # the Haar cascade's box for Grace Hopper's face in the sample photo


def save_tiny_model(path: Path) -> Path:
    """A small untrained model of the course's architecture family, saved as ``.keras``."""
    from utils.models import Architecture, build_emotion_cnn, save_model

    model = build_emotion_cnn(Architecture(filters=(8, 16), block_dropout=(0.0, 0.0), dense_units=16), name="tiny_test_cnn")
    return save_model(model, path)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("webapp_model") / "tiny.keras")


@pytest.fixture(scope="module")
def app(model_path):
    from webapp import create_app

    return create_app(model_path)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def photo_bytes() -> bytes:
    return sample_photo_path().read_bytes()


def post_image(client, data: bytes, filename: str = "photo.jpg"):
    return client.post("/api/predict", data={"image": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def encode(image: np.ndarray, ext: str = ".jpg", *params: int) -> bytes:
    ok, buffer = cv2.imencode(ext, image, list(params))
    assert ok
    return buffer.tobytes()


def png_with_declared_size(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose header is rewritten to declare ``width`` x ``height`` (CRC fixed)."""
    png = bytearray(encode(np.zeros((1, 1), np.uint8), ".png"))
    png[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    png[29:33] = zlib.crc32(bytes(png[12:29])).to_bytes(4, "big")
    return bytes(png)


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 20
    return error["message"]


# --------------------------------------------------------------------------- pages and health


def test_health_names_the_model_and_the_emotions(client, model_path):
    body = client.get("/api/health").get_json()
    assert body["status"] == "ok"
    assert body["emotions"] == list(EMOTIONS)
    model = body["model"]
    assert model["name"] == "tiny_test_cnn" and model["file"] == model_path.name
    assert len(model["version"]) == 12 and int(model["version"], 16) >= 0
    assert body["limits"]["max_upload_bytes"] == 5 * 1024 * 1024


def test_page_is_served_in_both_languages_with_a_strict_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="page-config"' in html and "app.js" in html and "photo-input" in html
    config = json.loads(re.search(r'<script id="page-config" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert config["emotions"]["en"] == list(EMOTIONS)
    assert config["emotions"]["ro"][EMOTIONS.index("sad")] == "tristețe"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    script = client.get("/static/app.js").get_data(as_text=True)
    assert "ro:" in script and "Alegeți o fotografie" in script and "getUserMedia" in script


def test_unknown_api_routes_answer_json(client):
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.get("/api/predict"), 405, "method_not_allowed")


# --------------------------------------------------------------------------- predictions


def test_predicts_the_face_of_the_sample_photo_with_the_course_pipeline(client, photo_bytes, model_path):
    from utils.models import load_model, predict_proba

    response = post_image(client, photo_bytes)
    assert response.status_code == 200
    body = response.get_json()
    assert body["emotions"] == list(EMOTIONS)
    assert body["image"] == {"width": 512, "height": 600}
    assert body["model"]["name"] == "tiny_test_cnn"
    assert "message" not in body
    [face] = body["faces"]
    assert (face["box"]["x"], face["box"]["y"], face["box"]["w"], face["box"]["h"]) == SAMPLE_BOX
    probabilities = np.array(face["probabilities"])
    assert probabilities.shape == (7,) and abs(probabilities.sum() - 1) < 1e-4
    assert face["emotion"] == EMOTIONS[int(probabilities.argmax())]
    assert face["probability"] == pytest.approx(probabilities.max())
    # The same numbers as the lessons' pipeline, computed here without the web app.
    found = faces_from_photo(decode_image(photo_bytes), min_size=IMAGE_SIZE)  # the app skips faces under 48 px
    expected = predict_proba(load_model(model_path), found.faces)
    np.testing.assert_allclose(probabilities, expected[0], atol=1e-5)


def test_raw_image_body_works_like_a_form_upload(client, photo_bytes):
    raw = client.post("/api/predict", data=photo_bytes, content_type="image/jpeg").get_json()
    form = post_image(client, photo_bytes).get_json()
    assert raw["faces"] == form["faces"]


def test_png_webp_and_bmp_uploads_are_read(client):
    photo = cv2.imread(str(sample_photo_path()))
    for ext in (".png", ".webp", ".bmp"):
        body = post_image(client, encode(photo, ext), f"photo{ext}").get_json()
        assert len(body["faces"]) == 1, ext


def test_boxes_of_a_big_photo_are_in_its_own_pixels(client):
    photo = cv2.imread(str(sample_photo_path()))
    big = cv2.resize(photo, (2048, 2400), interpolation=cv2.INTER_CUBIC)  # 4x: analysed at 800 px, reported at 2048
    body = post_image(client, encode(big, ".jpg", cv2.IMWRITE_JPEG_QUALITY, 90)).get_json()
    assert body["image"] == {"width": 2048, "height": 2400}
    [face] = body["faces"]
    box = np.array([face["box"][k] for k in "xywh"])
    np.testing.assert_allclose(box, 4 * np.array(SAMPLE_BOX), rtol=0.06, atol=12)


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """``jpeg`` with an EXIF segment saying how to turn it for display (6: a quarter turn clockwise)."""
    entry = (0x0112).to_bytes(2, "little") + (3).to_bytes(2, "little") + (1).to_bytes(4, "little") + orientation.to_bytes(4, "little")
    exif = b"Exif\x00\x00II*\x00" + (8).to_bytes(4, "little") + (1).to_bytes(2, "little") + entry + bytes(4)
    return jpeg[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + jpeg[2:]


def test_phone_photos_are_turned_upright_as_exif_says(client):
    photo = cv2.imread(str(sample_photo_path()))
    stored_sideways = cv2.rotate(photo, cv2.ROTATE_90_COUNTERCLOCKWISE)  # 600 wide, 512 high, face on its side
    jpeg = with_exif_orientation(encode(stored_sideways, ".jpg", cv2.IMWRITE_JPEG_QUALITY, 95), 6)
    assert image_header_size(jpeg) == ("jpeg", 600, 512)
    body = post_image(client, jpeg).get_json()
    assert body["image"] == {"width": 512, "height": 600}  # as a photo viewer shows it
    [face] = body["faces"]
    np.testing.assert_allclose([face["box"][k] for k in "xywh"], SAMPLE_BOX, atol=6)


def test_no_face_is_an_empty_list_with_a_message(client):
    rows, cols = np.mgrid[0:300, 0:400]
    landscape = np.dstack([rows % 256, cols % 256, (rows + cols) % 256]).astype(np.uint8)
    response = post_image(client, encode(landscape))
    assert response.status_code == 200
    body = response.get_json()
    assert body["faces"] == []
    assert "No face found" in body["message"]
    assert body["image"] == {"width": 400, "height": 300}


def test_faces_smaller_than_the_network_input_are_skipped(client):
    photo = cv2.imread(str(sample_photo_path()))
    tiny = cv2.resize(photo, (90, 105), interpolation=cv2.INTER_AREA)  # the face is 43 px: found, but under 48
    assert faces_from_photo(tiny).boxes[0].w < IMAGE_SIZE
    body = post_image(client, encode(tiny, ".png"), "tiny.png").get_json()
    assert body["faces"] == [] and f"at least {IMAGE_SIZE} px" in body["message"]
    bigger = cv2.resize(photo, (120, 141), interpolation=cv2.INTER_AREA)  # 59 px
    assert len(post_image(client, encode(bigger, ".png"), "bigger.png").get_json()["faces"]) == 1


def test_concurrent_requests_share_the_model_safely(app, photo_bytes):
    expected = post_image(app.test_client(), photo_bytes).get_json()["faces"]
    results, errors = [], []

    def client_thread():
        client = app.test_client()
        try:
            for _ in range(5):
                results.append(post_image(client, photo_bytes).get_json()["faces"])
        except Exception as error:  # reported below, with the test's failure
            errors.append(error)

    threads = [threading.Thread(target=client_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert len(results) == 20
    for faces in results:
        assert [f["box"] for f in faces] == [f["box"] for f in expected]
        np.testing.assert_allclose(faces[0]["probabilities"], expected[0]["probabilities"], atol=1e-5)


# --------------------------------------------------------------------------- limits and bad input


def test_upload_over_the_size_limit_is_refused_with_413(client):
    too_big = b"\xff\xd8\xff" + bytes(5 * 1024 * 1024)
    message = assert_error(post_image(client, too_big), 413, "too_large")
    assert "5 MB" in message
    assert_error(client.post("/api/predict", data=too_big, content_type="image/jpeg"), 413, "too_large")


def test_upload_just_under_the_limit_is_read(client):
    # Not an image, but small enough to be read: the answer is about the content, not the size.
    assert_error(post_image(client, bytes(5 * 1024 * 1024 - 1)), 400, "not_an_image")


def test_smaller_limit_of_a_configured_app(model_path, photo_bytes):
    from webapp import create_app

    client = create_app(model_path, max_upload_bytes=10_000).test_client()
    assert_error(post_image(client, photo_bytes), 413, "too_large")


def test_not_an_image_is_refused_with_400(client):
    message = assert_error(post_image(client, b"name,score\nada,10\n" * 50, "scores.csv"), 400, "not_an_image")
    assert "JPEG or PNG" in message


@pytest.mark.parametrize(("head", "name"), [(b"GIF89a\x10\x00\x10\x00", "GIF"), (b"\x00\x00\x00\x18ftypheic\x00\x00", "HEIC"),
                                           (b"II*\x00\x08\x00\x00\x00", "TIFF")])
def test_a_known_other_format_is_named_in_the_error(client, head, name):
    response = post_image(client, head + bytes(200), "photo.bin")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "unsupported_format" and error["format"] == name
    assert f"This is a {name} file" in error["message"] and "JPEG" in error["message"]


def test_empty_and_missing_uploads_are_refused_with_400(client):
    assert_error(post_image(client, b""), 400, "empty_file")
    assert_error(client.post("/api/predict", data={"photo": (io.BytesIO(b"x"), "a.jpg")}), 400, "missing_image")
    assert_error(client.post("/api/predict", json={"image": "photo.jpg"}), 400, "missing_image")


@pytest.mark.parametrize("cut", [300, 0.5])
def test_corrupt_images_are_refused_with_400(client, photo_bytes, cut):
    truncated = photo_bytes[:cut if isinstance(cut, int) else int(len(photo_bytes) * cut)]
    assert_error(post_image(client, truncated), 400, "corrupt_image")


def test_corrupt_png_is_refused_with_400(client):
    png = encode(cv2.imread(str(sample_photo_path())), ".png")
    assert_error(post_image(client, png[: len(png) // 2], "photo.png"), 400, "corrupt_image")


def test_decompression_bomb_is_refused_before_decoding(client, monkeypatch):
    import utils.images

    def no_decoding(*args, **kwargs):
        raise AssertionError("cv2.imdecode must not run for an image that declares too many pixels")

    monkeypatch.setattr(utils.images.cv2, "imdecode", no_decoding)
    message = assert_error(post_image(client, png_with_declared_size(30_000, 30_000), "bomb.png"), 400, "too_many_pixels")
    assert "30000x30000" in message and "megapixels" in message


def test_real_oversized_png_is_refused(model_path):
    from webapp import create_app

    client = create_app(model_path, max_pixels=4_000_000).test_client()
    big_png = encode(np.zeros((2500, 2000), np.uint8), ".png")  # 5 MP of black: a few kilobytes on disk
    assert len(big_png) < 50_000
    assert_error(post_image(client, big_png, "black.png"), 400, "too_many_pixels")


def test_image_header_size_reads_every_supported_format():
    photo = cv2.imread(str(sample_photo_path()))
    assert image_header_size(sample_photo_path().read_bytes()) == ("jpeg", 512, 600)
    for ext, kind in ((".png", "png"), (".webp", "webp"), (".bmp", "bmp")):
        assert image_header_size(encode(photo, ext)) == (kind, 512, 600)
    assert image_header_size(encode(photo, ".webp", cv2.IMWRITE_WEBP_QUALITY, 101)) == ("webp", 512, 600)  # lossless
    jpeg = bytearray(sample_photo_path().read_bytes())
    frame = next(i for i in range(2, len(jpeg)) if jpeg[i] == 0xFF and jpeg[i + 1] in (0xC0, 0xC2))
    jpeg[frame + 5:frame + 9] = (60000).to_bytes(2, "big") * 2
    assert image_header_size(bytes(jpeg)) == ("jpeg", 60000, 60000)


# --------------------------------------------------------------------------- nothing on disk


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
_recording = threading.Event()
_opened_for_writing: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _recording.is_set():
        path, mode, flags = args
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & _WRITE_FLAGS):
            _opened_for_writing.append(str(path))


sys.addaudithook(_audit)  # audit hooks cannot be removed: it records only while _recording is set


def files_written_during(action) -> list[str]:
    _opened_for_writing.clear()
    _recording.set()
    try:
        action()
    finally:
        _recording.clear()
    return list(_opened_for_writing)


def big_photo_upload() -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, (900, 900, 3), dtype=np.uint8)
    data = encode(noise, ".jpg", cv2.IMWRITE_JPEG_QUALITY, 95)
    assert len(data) > 600 * 1024  # above the 500 KB from which Werkzeug would spool to a temporary file
    return data


def multipart_in_memory(data: bytes) -> tuple[bytes, str]:
    """The request body of a form upload, built beforehand (the test client itself spools big bodies to disk)."""
    boundary = "course-boundary-7MA4YWxkTrZu0gW"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_uploads_are_never_written_to_disk(client, photo_bytes):
    requests = [multipart_in_memory(big_photo_upload()), multipart_in_memory(photo_bytes)]
    responses = []
    written = files_written_during(lambda: responses.extend(
        client.post("/api/predict", data=body, content_type=content_type) for body, content_type in requests))
    assert [r.status_code for r in responses] == [200, 200]
    assert written == []


def test_the_disk_check_sees_werkzeugs_temporary_files():
    """The check above can fail: a plain Flask app spools the same upload to a temporary file."""
    from flask import Flask, request

    plain = Flask("plain")
    plain.post("/upload")(lambda: str(len(request.files["image"].read())))
    body, content_type = multipart_in_memory(big_photo_upload())
    responses = []
    written = files_written_during(lambda: responses.append(plain.test_client().post("/upload", data=body, content_type=content_type)))
    assert responses[0].status_code == 200 and int(responses[0].get_data()) > 600 * 1024
    assert written, "a plain Flask app should have opened a temporary file for a 600 KB upload"


# --------------------------------------------------------------------------- start-up


def test_model_is_loaded_once_at_start_up(model_path, photo_bytes, monkeypatch):
    import webapp.predictor
    from webapp import create_app

    calls = []
    real_load = webapp.predictor.load_model
    monkeypatch.setattr(webapp.predictor, "load_model", lambda path: calls.append(path) or real_load(path))
    app = create_app(model_path)
    assert calls == [model_path]
    client = app.test_client()
    for _ in range(3):
        assert post_image(client, photo_bytes).status_code == 200
    assert calls == [model_path]
    assert app.debug is False


def test_missing_model_fails_at_start_up_with_a_clear_message(tmp_path):
    from utils.models import ModelError
    from webapp import create_app

    with pytest.raises(ModelError, match="No model at"):
        create_app(tmp_path / "missing.keras")
    not_a_model = tmp_path / "notes.keras"
    not_a_model.write_text("not a model")
    with pytest.raises(ModelError, match="not a Keras 3 model file"):
        create_app(not_a_model)


def test_model_path_comes_from_the_argument_then_the_environment_then_the_default(monkeypatch, tmp_path):
    from utils.models import SHIPPED_MODEL_PATH
    from webapp.app import MODEL_ENV, resolve_model_path

    monkeypatch.delenv(MODEL_ENV, raising=False)
    assert resolve_model_path() == SHIPPED_MODEL_PATH
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "env.keras"))
    assert resolve_model_path() == tmp_path / "env.keras"
    assert resolve_model_path(tmp_path / "arg.keras") == tmp_path / "arg.keras"


def test_command_line_refuses_to_start_without_a_model(tmp_path, capsys):
    from webapp.__main__ import main

    assert main(["--model", str(tmp_path / "missing.keras"), "--port", "0"]) == 2
    assert "cannot start without a model" in capsys.readouterr().err


def test_command_line_serves_on_the_loopback_address_by_default(model_path, monkeypatch, capsys):
    import werkzeug.serving

    from webapp.__main__ import main

    seen = {}

    class FakeServer:
        server_port = 5000

        def serve_forever(self):
            raise KeyboardInterrupt

        def server_close(self):
            seen["closed"] = True

    def fake_make_server(host, port, app, **kwargs):
        seen.update(host=host, port=port, debug=app.debug, threaded=kwargs.get("threaded"))
        return FakeServer()

    monkeypatch.setattr(werkzeug.serving, "make_server", fake_make_server)
    assert main(["--model", str(model_path)]) == 0
    assert seen == {"host": "127.0.0.1", "port": 5000, "debug": False, "threaded": True, "closed": True}
    assert "http://127.0.0.1:5000/" in capsys.readouterr().out
