"""The Flask application of the web demo: one page and a small JSON API.

- ``GET /``             the page (photo upload and webcam, English / Romanian)
- ``GET /api/health``   the model's name and version, the emotions, the limits
- ``POST /api/predict`` a photo (multipart field ``image``, or the raw bytes with an
  ``image/*`` content type) -> every face's box and its 7 probabilities in FER2013 order

Uploads stay in memory (never written to disk); at most ``max_upload_bytes`` are read
(413 beyond), and the image's declared size is checked before decoding (400 beyond
``max_pixels``). Every error of the API is JSON: ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from flask import Flask, Request, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from utils.constants import EMOTIONS, EMOTIONS_RO
from utils.images import FaceBox, ImageError, ImageTooLargeError, NoFaceFoundError
from utils.models import SHIPPED_MODEL_PATH
from utils.pipeline import MAX_PIXELS, MAX_SIDE, MAX_UPLOAD_BYTES, EmptyUploadError, NotAnImageError, UploadTooLargeError
from webapp.predictor import EmotionPredictor

#: The environment variable that names the model file when ``model_path`` is not given.
MODEL_ENV = "EMOTION_MODEL"

# MAX_UPLOAD_BYTES, MAX_PIXELS and MAX_SIDE are those of utils.pipeline (shared with lesson 05's widget).
#: The page sends webcam frames this wide, at most one every WEBCAM_INTERVAL_MS: a face at
#: laptop distance is still 60-100 px wide, and the detector's time grows with the pixel count.
WEBCAM_FRAME_WIDTH = 240
WEBCAM_INTERVAL_MS = 300
WEBCAM_JPEG_QUALITY = 0.85
#: Room for the multipart envelope around a file of MAX_UPLOAD_BYTES.
_MULTIPART_OVERHEAD = 64 * 1024

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=()",
}


class InMemoryRequest(Request):
    """A request whose uploaded files are kept in memory (Werkzeug spools those over 500 KB to a temporary file)."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return io.BytesIO()


class ApiError(Exception):
    """An error answered as JSON with an HTTP status, a stable code (the page translates it) and a message."""

    def __init__(self, status: int, code: str, message: str, **details: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def resolve_model_path(model_path: str | os.PathLike | None = None) -> Path:
    """``model_path``, else ``$EMOTION_MODEL``, else the shipped model ``models/emotion_cnn.keras``."""
    return Path(model_path or os.environ.get(MODEL_ENV) or SHIPPED_MODEL_PATH)


def create_app(
    model_path: str | os.PathLike | None = None,
    *,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
) -> Flask:
    """The demo's Flask app, with the model loaded (once) from :func:`resolve_model_path`.

    Raises :class:`utils.models.ModelError`, with a message that says what to do, when
    the model file is missing or unusable: the app never starts without a model.
    """
    predictor = EmotionPredictor(resolve_model_path(model_path), max_upload_bytes=max_upload_bytes,
                                 max_pixels=max_pixels, max_side=max_side)
    app = Flask(__name__)
    app.request_class = InMemoryRequest
    app.config.update(MAX_CONTENT_LENGTH=max_upload_bytes + _MULTIPART_OVERHEAD)
    app.json.sort_keys = False
    app.extensions["emotion_predictor"] = predictor
    limits = predictor.pipeline.limits

    @app.after_request
    def add_security_headers(response):
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        return jsonify(error={"code": error.code, "message": error.message, **error.details}), error.status

    @app.errorhandler(413)
    def too_large(error):
        return api_error(ApiError(413, "too_large", _too_large_message(max_upload_bytes)))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if not request.path.startswith("/api/"):
            return error
        return api_error(ApiError(error.code or 500, error.name.lower().replace(" ", "_"), error.description or error.name))

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unexpected error on %s", request.path)
        return api_error(ApiError(500, "internal_error", "The server failed to analyse this image (see its log)."))

    @app.get("/")
    def index():
        page = {
            "emotions": {"en": list(EMOTIONS), "ro": list(EMOTIONS_RO)}, "limits": limits, "model": predictor.info,
            "webcam": {"frame_width": WEBCAM_FRAME_WIDTH, "interval_ms": WEBCAM_INTERVAL_MS, "jpeg_quality": WEBCAM_JPEG_QUALITY},
        }
        return render_template("index.html", page=page)

    @app.get("/api/health")
    def health():
        return jsonify(status="ok", model=predictor.info, emotions=list(EMOTIONS), limits=limits)

    @app.post("/api/predict")
    def predict():
        started = time.perf_counter()
        data = _uploaded_bytes()
        try:
            image, width, height = predictor.pipeline.decode(data)
        except UploadTooLargeError:
            raise ApiError(413, "too_large", _too_large_message(max_upload_bytes)) from None
        except EmptyUploadError as error:
            raise ApiError(400, "empty_file", str(error)) from None
        except NotAnImageError as error:
            if error.format_name:
                raise ApiError(400, "unsupported_format", str(error), format=error.format_name) from None
            raise ApiError(400, "not_an_image", str(error)) from None
        except ImageTooLargeError as error:
            raise ApiError(400, "too_many_pixels", str(error)) from None
        except ImageError as error:
            raise ApiError(400, "corrupt_image", str(error)) from None
        scale = width / image.shape[1]
        body = {"faces": [], "emotions": list(EMOTIONS), "image": {"width": width, "height": height}, "model": predictor.info}
        try:
            predictions = predictor.predict(image)
        except NoFaceFoundError as error:
            body["message"] = str(error)
            predictions = []
        for prediction in predictions:
            box = _clamp(prediction.box.scaled(scale) if scale != 1 else prediction.box, width, height)
            probabilities = [round(float(p), 6) for p in prediction.probabilities]
            top = max(range(len(EMOTIONS)), key=probabilities.__getitem__)
            body["faces"].append({
                "box": {"x": box.x, "y": box.y, "w": box.w, "h": box.h},
                "emotion": EMOTIONS[top],
                "probability": probabilities[top],
                "probabilities": probabilities,
            })
        body["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return jsonify(body)

    return app


def _uploaded_bytes() -> bytes:
    """The photo of the request: the multipart field ``image``, or a raw ``image/*`` body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None:
            raise ApiError(400, "missing_image", "No photo in the request: send it as a multipart form field named 'image'.")
        return upload.read()
    if request.mimetype.startswith("image/") or request.mimetype == "application/octet-stream":
        return request.get_data(cache=False)
    raise ApiError(
        400, "missing_image",
        "No photo in the request: POST multipart/form-data with a field 'image' "
        "(curl -F image=@photo.jpg ...), or the raw bytes with Content-Type image/jpeg or image/png.")


def _too_large_message(max_upload_bytes: int) -> str:
    return f"The upload is larger than {max_upload_bytes / (1024 * 1024):g} MB: choose a smaller photo (or resize it)."


def _clamp(box: FaceBox, width: int, height: int) -> FaceBox:
    """``box`` moved inside a ``width`` x ``height`` image (rounding after scaling can push it one pixel out)."""
    x, y = min(max(box.x, 0), width - 1), min(max(box.y, 0), height - 1)
    return FaceBox(x, y, max(1, min(box.w, width - x)), max(1, min(box.h, height - y)))
