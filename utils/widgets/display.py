"""Turning arrays into the bytes an ``ipywidgets.Image`` shows, fast enough for live sliders.

Shared by the explorers of lessons 01 to 04.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_uint8(array: np.ndarray, low: float | None = None, high: float | None = None) -> np.ndarray:
    """Map any numeric array to 0..255 for display (uint8 input is kept as is).

    Float feature maps have arbitrary ranges: ``low``/``high`` (default: the array's own
    min and max) are mapped to black and white.
    """
    if array.dtype == np.uint8 and low is None and high is None:
        return array
    array = array.astype(np.float32)
    low = float(array.min()) if low is None else low
    high = float(array.max()) if high is None else high
    if high - low < 1e-12:
        return np.full(array.shape, 128, dtype=np.uint8)
    return np.clip((array - low) * (255.0 / (high - low)), 0, 255).astype(np.uint8)


def png_bytes(image: np.ndarray, zoom: int = 1, rgb: bool = True) -> bytes:
    """PNG bytes of a grayscale ``(H, W)``/``(H, W, 1)`` or colour ``(H, W, 3)`` image.

    ``zoom`` enlarges with nearest-neighbour so that single pixels stay visible as squares.
    Colour images are taken as RGB (set ``rgb=False`` for OpenCV's BGR order).
    """
    image = to_uint8(np.asarray(image))
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if zoom > 1:
        image = cv2.resize(image, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    if image.ndim == 3 and rgb:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)  # cv2 encodes BGR
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError(f"cannot encode an image of shape {image.shape} as PNG")
    return encoded.tobytes()
