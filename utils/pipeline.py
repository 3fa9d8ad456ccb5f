"""One photo -> faces -> emotions pipeline, shared by the web demo and lesson 05's upload widget.

The steps are those lesson 05 ("Try it on a photo", moved there from lesson 04) takes one at a time:
:func:`utils.images.decode_image` (with the limits below, checked before decoding) ->
:func:`utils.images.faces_from_photo` (detect, crop, 48x48) ->
:func:`utils.models.predict_proba` (the shipped prediction pipeline).

:class:`PhotoPipeline` may be shared by several threads (the web demo serves requests
in parallel). OpenCV's cascade classifier keeps state between calls (its feature
evaluator holds the image being scanned), so two threads must never detect at the same
time; the model (with the compiled forward pass that :func:`utils.models.predict_proba`
caches per model) gets a lock of its own too. One request can thus detect faces while
another one's faces go through the network; decoding needs no lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from utils.constants import IMAGE_SIZE, INPUT_SHAPE, NUM_CLASSES
from utils.images import FaceBox, ImageError, ImageTooLargeError, decode_image, faces_from_photo, image_header_size
from utils.models import predict_proba

#: Uploads larger than this are refused before anything is read from them.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: Far more than a webcam frame or a phone photo needs; a bigger image is refused before decoding.
MAX_PIXELS = 40_000_000
#: Photos are analysed at most this many pixels on the longer side (boxes are reported in the
#: photo's own pixels): a face a sixteenth of the longer side is still 50 px there, above the
#: 48 px looked for, and the detector's time grows with the pixel count.
MAX_SIDE = 800
#: Faces smaller than the network's 48x48 input would only be enlarged and blurred; skipping
#: them also skips the detector's finest, most expensive scales (a third of its time).
MIN_FACE_SIZE = IMAGE_SIZE


class UploadTooLargeError(ImageTooLargeError):
    """More bytes than :data:`MAX_UPLOAD_BYTES` (or the pipeline's own limit)."""


class EmptyUploadError(ImageError):
    """An upload of 0 bytes."""


class NotAnImageError(ImageError):
    """Bytes whose header is not that of a JPEG, PNG, WebP or BMP image.

    ``format_name`` names the kind of file when it is a known other one (``"GIF"``, ``"HEIC"``, ...).
    """

    def __init__(self, message: str, format_name: str | None = None) -> None:
        super().__init__(message)
        self.format_name = format_name


@dataclass(frozen=True)
class FacePrediction:
    """One face: its box in the image that was analysed, and the 7 probabilities (FER2013 order)."""

    box: FaceBox
    probabilities: np.ndarray


@dataclass(frozen=True)
class PhotoAnalysis:
    """What :meth:`PhotoPipeline.analyse` found in one photo.

    ``image`` is the photo as analysed (BGR, longer side at most ``max_side``); ``width`` and
    ``height`` the photo's own size, and ``scale`` = own pixels per analysed pixel, so that
    ``box.scaled(scale)`` is a box in the original photo. ``faces`` are the 48x48 inputs.
    """

    image: np.ndarray
    width: int
    height: int
    scale: float
    predictions: list[FacePrediction] = field(default_factory=list)
    faces: np.ndarray = field(default_factory=lambda: np.zeros((0, *INPUT_SHAPE), np.float32))

    @property
    def probabilities(self) -> np.ndarray:
        """``(N, 7)``: one row per face, in reading order (rows top to bottom, each left to right)."""
        if not self.predictions:
            return np.zeros((0, NUM_CLASSES), np.float32)
        return np.stack([p.probabilities for p in self.predictions])


class PhotoPipeline:
    """Photo bytes -> every face's box and emotion probabilities, with one set of limits.

    ``warm_up`` compiles the prediction step (one and two faces) now rather than during
    the first photo.
    """

    def __init__(self, model, *, max_upload_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_PIXELS,
                 max_side: int = MAX_SIDE, min_face_size: int = MIN_FACE_SIZE, warm_up: bool = False) -> None:
        self.model = model
        self.max_upload_bytes, self.max_pixels, self.max_side = max_upload_bytes, max_pixels, max_side
        self.min_face_size = min_face_size
        self._detector_lock = threading.Lock()
        self._model_lock = threading.Lock()
        if warm_up:
            for faces in (1, 2):
                self.probabilities(np.zeros((faces, *INPUT_SHAPE), dtype=np.float32))

    @property
    def limits(self) -> dict[str, int]:
        return {"max_upload_bytes": self.max_upload_bytes, "max_pixels": self.max_pixels, "max_side": self.max_side}

    def decode(self, data: bytes) -> tuple[np.ndarray, int, int]:
        """``(image, width, height)``: the photo decoded at most ``max_side`` px, and its own size.

        Raises :class:`UploadTooLargeError`, :class:`EmptyUploadError`, :class:`NotAnImageError`,
        :class:`utils.images.ImageTooLargeError` (too many pixels) or :class:`utils.images.ImageError`
        (corrupt), each before anything larger than the limits is allocated.
        """
        if len(data) > self.max_upload_bytes:
            raise UploadTooLargeError(
                f"The upload is larger than {self.max_upload_bytes / (1024 * 1024):g} MB: choose a smaller photo (or resize it).")
        if not data:
            raise EmptyUploadError("The uploaded file is empty (0 bytes): choose a photo (JPEG or PNG).")
        try:
            _, width, height = image_header_size(data)
        except ImageError as error:
            raise NotAnImageError(str(error), getattr(error, "format_name", None)) from None
        image = decode_image(data, max_pixels=self.max_pixels, max_side=self.max_side)
        if (image.shape[1] >= image.shape[0]) != (width >= height):  # EXIF orientation turned it a quarter
            width, height = height, width
        return image, width, height

    def probabilities(self, faces: np.ndarray) -> np.ndarray:
        """``(N, 7)`` probabilities for faces ``(N, 48, 48, 1)`` (the shipped pipeline)."""
        with self._model_lock:
            return predict_proba(self.model, faces)

    def detect(self, image: np.ndarray):
        """:class:`utils.images.DetectedFaces` of a BGR image; raises :class:`utils.images.NoFaceFoundError`."""
        with self._detector_lock:
            return faces_from_photo(image, min_size=self.min_face_size)

    def predict(self, image: np.ndarray) -> list[FacePrediction]:
        """Every face in a BGR uint8 image with its probabilities, in reading order (top to bottom, left to right)."""
        found = self.detect(image)
        probabilities = self.probabilities(found.faces)
        return [FacePrediction(box, row) for box, row in zip(found.boxes, probabilities)]

    def analyse(self, data: bytes) -> PhotoAnalysis:
        """Decode, detect and predict one photo file; the errors of :meth:`decode` and :meth:`detect`."""
        image, width, height = self.decode(data)
        found = self.detect(image)
        probabilities = self.probabilities(found.faces)
        predictions = [FacePrediction(box, row) for box, row in zip(found.boxes, probabilities)]
        return PhotoAnalysis(image, width, height, width / image.shape[1], predictions, found.faces)


__all__ = ["MAX_PIXELS", "MAX_SIDE", "MAX_UPLOAD_BYTES", "MIN_FACE_SIZE", "EmptyUploadError", "FacePrediction",
           "NotAnImageError", "PhotoAnalysis", "PhotoPipeline", "UploadTooLargeError"]
