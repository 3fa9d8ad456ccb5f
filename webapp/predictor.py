"""The model behind the web demo: loaded once at start-up, shared by all requests.

The photo -> faces -> emotions work, with its limits and its locks (requests are served
by several threads at once), is :class:`utils.pipeline.PhotoPipeline`, the same one that
lesson 05's upload widget uses; this module adds loading the model file and naming it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from utils.models import SHIPPED_FLIP_TTA, load_model
from utils.pipeline import MAX_PIXELS, MAX_SIDE, MAX_UPLOAD_BYTES, MIN_FACE_SIZE, FacePrediction, PhotoPipeline


def file_version(path: Path) -> str:
    """The first 12 hex digits of the file's SHA-256: changes whenever the model file does."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


class EmotionPredictor:
    """Loads a ``.keras`` model (raising :class:`utils.models.ModelError` with a clear message) and predicts emotions."""

    def __init__(self, model_path: str | Path, *, min_face_size: int = MIN_FACE_SIZE, max_upload_bytes: int = MAX_UPLOAD_BYTES,
                 max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE) -> None:
        self.model_path = Path(model_path)
        model = load_model(self.model_path)
        # warm_up: compile the predict step now (one and two faces), not during the first request.
        self.pipeline = PhotoPipeline(model, max_upload_bytes=max_upload_bytes, max_pixels=max_pixels, max_side=max_side,
                                      min_face_size=min_face_size, warm_up=True)
        self.min_face_size = min_face_size
        self.info = {
            "name": model.name,
            "file": self.model_path.name,
            "version": file_version(self.model_path),
            "parameters": int(model.count_params()),
            "flip_tta": SHIPPED_FLIP_TTA,
        }

    def probabilities(self, faces: np.ndarray) -> np.ndarray:
        """``(N, 7)`` probabilities for float32 faces ``(N, 48, 48, 1)`` in [0, 1] (the shipped pipeline)."""
        return self.pipeline.probabilities(faces)

    def predict(self, image: np.ndarray) -> list[FacePrediction]:
        """Every face in a BGR uint8 image with its probabilities, in reading order (top to bottom, left to right).

        Raises :class:`utils.images.NoFaceFoundError` when there is none.
        """
        return self.pipeline.predict(image)


__all__ = ["EmotionPredictor", "FacePrediction", "file_version"]
