"""The web demo's page in a real headless Chromium (Playwright): a photo upload and the webcam.

The server is the real app (``webapp.create_app`` with a small untrained model) on
127.0.0.1 and a free port, in a thread of this process. The webcam is Chromium's fake
camera playing a video made from matplotlib's sample photo.

Needs Debian's Chromium at /usr/bin/chromium (``apt-get install chromium``; Playwright's
own browser download is not used). Without it these tests are skipped, except in CI
(CI=true), where a missing browser is a failure (tests/browser_support.py).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]

from browser_support import launch_chromium, open_page, playwright_session, wait_until  # noqa: E402

from utils.data import EMOTIONS  # noqa: E402
from utils.images import sample_photo_path  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.webapp,
]

TIMEOUT_MS = 60_000  # a busy 2-core machine: the first prediction compiles the model's graph


@pytest.fixture(scope="module")
def playwright():
    with playwright_session() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    from werkzeug.serving import make_server

    from utils.models import Architecture, build_emotion_cnn, save_model
    from webapp import create_app

    model = build_emotion_cnn(Architecture(filters=(8, 16), block_dropout=(0.0, 0.0), dense_units=16), name="tiny_test_cnn")
    model_path = save_model(model, tmp_path_factory.mktemp("webapp_browser") / "tiny.keras")
    server = make_server("127.0.0.1", 0, create_app(model_path), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(playwright):
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


def write_y4m(path: Path, image_bgr: np.ndarray, frames: int = 10, fps: int = 10) -> Path:
    """A raw YUV 4:2:0 video (the .y4m format Chromium's fake camera plays in a loop) showing ``image_bgr``."""
    height, width = image_bgr.shape[:2]
    image_bgr = image_bgr[: height - height % 2, : width - width % 2]  # 4:2:0 needs even sizes
    height, width = image_bgr.shape[:2]
    planes = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2YUV_I420).tobytes()  # Y, then U, then V
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + planes)
    return path


def overlay_ink(page) -> int:
    """How many pixels of the box overlay are drawn (not transparent)."""
    return page.evaluate("""() => {
        const canvas = document.getElementById('overlay');
        if (!canvas.width || !canvas.height) return 0;
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let drawn = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) drawn++;
        return drawn;
    }""")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 375, "height": 740}], ids=["desktop", "phone"])
def test_uploaded_photo_shows_a_labelled_face(browser, server_url, viewport):
    context, page, problems = open_page(browser, server_url, viewport=viewport)
    try:
        page.set_input_files("#photo-input", str(sample_photo_path()))
        page.wait_for_selector("#faces li.face", timeout=TIMEOUT_MS)
        faces = page.locator("#faces li.face")
        assert faces.count() == 1
        emotion = faces.first.get_attribute("data-emotion")
        assert emotion in EMOTIONS
        title = faces.first.locator("h2").inner_text()
        assert title.startswith("Face 1:") and emotion in title and "%" in title
        assert faces.first.locator("dt").all_inner_texts() == list(EMOTIONS)
        assert page.inner_text("#status").startswith("1 face found in ")
        assert overlay_ink(page) > 100  # the box and its label are drawn over the photo
        # On a phone-size screen nothing sticks out sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

        page.click("button[data-lang=ro]")
        title = faces.first.locator("h2").inner_text()
        assert title.startswith("Fața 1:")
        assert page.inner_text("h1") == "Emoții faciale"
        assert page.evaluate("document.documentElement.lang") == "ro"
        assert page.inner_text("#status").startswith("O față găsită")
        assert "tristețe" in faces.first.locator("dt").all_inner_texts()
        assert problems == []
    finally:
        context.close()


def test_a_file_that_is_not_an_image_shows_an_error(browser, server_url, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo\n" * 20)
    context, page, problems = open_page(browser, server_url, viewport={"width": 800, "height": 800})
    try:
        page.set_input_files("#photo-input", str(notes))
        page.wait_for_selector("#status.error", timeout=TIMEOUT_MS)
        assert "JPEG or PNG" in page.inner_text("#status")
        assert page.locator("#faces li").count() == 0
        # The browser logs the 400 answer itself as a failed resource; nothing else may go wrong.
        assert all("400" in problem for problem in problems), problems
    finally:
        context.close()


@pytest.mark.parametrize("status, error, english, romanian", [
    (500, {"code": "internal_error", "message": "The server failed to analyse this image (see its log)."},
     "The server failed while analysing", "Serverul a întâmpinat o eroare"),
    (503, {"code": "service_unavailable", "message": "The server is temporarily unable to service your request."},
     "The server could not analyse the image: The server is temporarily", "(eroarea 503, service_unavailable)"),
], ids=["internal_error", "other_code"])
def test_a_server_error_is_shown_in_the_page_language(browser, server_url, status, error, english, romanian):
    """The API's messages are English; in Romanian the page never shows them, it names the error instead."""
    context, page, problems = open_page(browser, server_url, viewport={"width": 800, "height": 800})
    try:
        page.route("**/api/predict", lambda route: route.fulfill(status=status, json={"error": error}))
        page.set_input_files("#photo-input", str(sample_photo_path()))
        page.wait_for_selector("#status.error", timeout=TIMEOUT_MS)
        assert english in page.inner_text("#status")
        page.click("button[data-lang=ro]")
        text = page.inner_text("#status")
        assert romanian in text and error["message"] not in text, text
        assert all(str(status) in problem for problem in problems), problems
    finally:
        context.close()


def test_webcam_frames_get_predictions(playwright, server_url, tmp_path):
    video = write_y4m(tmp_path / "grace_hopper.y4m", cv2.imread(str(sample_photo_path())))
    browser = launch_chromium(playwright, ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                                           f"--use-file-for-fake-video-capture={video}"))
    try:
        context, page, problems = open_page(browser, server_url, viewport={"width": 1024, "height": 900}, permissions=("camera",))
        page.click("#mode-camera")
        page.click("#camera-toggle")
        wait_until(page, "() => Number(document.body.dataset.frames || 0) >= 3")
        assert page.locator("#faces li.face").count() == 1
        assert page.locator("#faces li.face").first.get_attribute("data-emotion") in EMOTIONS
        assert page.inner_text("#status").startswith("Frame ")
        assert overlay_ink(page) > 100
        assert page.inner_text("#camera-toggle") == "Stop the webcam"
        page.click("#camera-toggle")  # stopping ends the loop: no more frames are sent
        frames = int(page.evaluate("document.body.dataset.frames"))
        page.wait_for_timeout(1200)
        assert int(page.evaluate("document.body.dataset.frames")) <= frames + 1
        # The walk found a black box with a cut label and stale cards after "Stop": all of it goes.
        assert page.locator("#faces li.face").count() == 0, "no stale result once the webcam is off"
        assert not page.locator("#overlay").is_visible() and not page.locator("#video").is_visible()
        assert page.inner_text("#status").startswith("The webcam is off")
        assert problems == []
    finally:
        browser.close()
