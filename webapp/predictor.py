"""The model behind the web demo: loaded once at start-up, shared by all requests.

Requests are served by several threads at once. OpenCV's cascade classifier keeps state
between calls (its feature evaluator holds the image being scanned), so two threads must
never detect at the same time; the model (with the compiled forward pass that
:func:`utils.models.predict_proba` caches per model) gets a lock of its own too. One request
can thus detect faces while another one's faces go through the network; decoding needs no lock.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from utils.constants import IMAGE_SIZE, INPUT_SHAPE
from utils.images import FaceBox, faces_from_photo
from utils.models import SHIPPED_FLIP_TTA, load_model, predict_proba


@dataclass(frozen=True)
class FacePrediction:
    """One face: its box in the image that was analysed, and the 7 probabilities (FER2013 order)."""

    box: FaceBox
    probabilities: np.ndarray


def file_version(path: Path) -> str:
    """The first 12 hex digits of the file's SHA-256: changes whenever the model file does."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


class EmotionPredictor:
    """Loads a ``.keras`` model (raising :class:`utils.models.ModelError` with a clear message) and predicts emotions."""

    def __init__(self, model_path: str | Path, *, min_face_size: int = IMAGE_SIZE) -> None:
        # Faces smaller than the network's 48x48 input would only be enlarged and blurred; skipping
        # them also skips the detector's finest, most expensive scales (a third of its time).
        self.min_face_size = min_face_size
        self.model_path = Path(model_path)
        model = load_model(self.model_path)
        self._model = model
        self._detector_lock = threading.Lock()
        self._model_lock = threading.Lock()
        self.info = {
            "name": model.name,
            "file": self.model_path.name,
            "version": file_version(self.model_path),
            "parameters": int(model.count_params()),
            "flip_tta": SHIPPED_FLIP_TTA,
        }
        # Compile the predict step now (one and two faces), not during the first request.
        for faces in (1, 2):
            self.probabilities(np.zeros((faces, *INPUT_SHAPE), dtype=np.float32))

    def probabilities(self, faces: np.ndarray) -> np.ndarray:
        """``(N, 7)`` probabilities for float32 faces ``(N, 48, 48, 1)`` in [0, 1] (the shipped pipeline)."""
        with self._model_lock:
            return predict_proba(self._model, faces)

    def predict(self, image: np.ndarray) -> list[FacePrediction]:
        """Every face in a BGR uint8 image with its probabilities, left to right.

        Raises :class:`utils.images.NoFaceFoundError` when there is none.
        """
        with self._detector_lock:
            found = faces_from_photo(image, min_size=self.min_face_size)
        probabilities = self.probabilities(found.faces)
        return [FacePrediction(box, row) for box, row in zip(found.boxes, probabilities)]


__all__ = ["EmotionPredictor", "FacePrediction", "file_version"]
