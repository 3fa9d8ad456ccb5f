"""Images as arrays: reading photos safely, colour orders, grayscale.

OpenCV stores colour pixels as B, G, R; matplotlib, browsers and PIL expect R, G, B.
Every function here says which order it takes and returns.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np


class ImageError(ValueError):
    """An image that cannot be used, with a message that says what is wrong and what to do."""


def sample_photo_path() -> Path:
    """A real colour portrait that ships with matplotlib (Grace Hopper, public domain)."""
    from matplotlib import cbook

    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read a photo as a uint8 BGR array ``(H, W, 3)``, as ``cv2.imread`` does, with clear errors.

    ``cv2.imread`` returns ``None`` silently for a missing or unreadable file; this raises
    :class:`ImageError` naming the path instead.
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(f"No image at {path}: the file does not exist. Check the path (relative paths start at {Path.cwd()}).")
    if path.is_dir():
        raise ImageError(f"{path} is a folder, not an image file.")
    data = np.fromfile(path, dtype=np.uint8)  # also works for non-ASCII paths, unlike cv2.imread
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ImageError(f"{path} is not a readable image (corrupt, empty, or not an image format OpenCV knows: use JPEG or PNG).")
    return image


def load_sample_photo() -> np.ndarray:
    """The matplotlib sample portrait as a uint8 BGR array (what ``cv2.imread`` gives)."""
    return read_image(sample_photo_path())


def check_image(image: np.ndarray, *, channels: tuple[int, ...] = (1, 3)) -> np.ndarray:
    """Raise :class:`ImageError` unless ``image`` is a uint8 ``(H, W)`` or ``(H, W, C)`` array with C in ``channels``."""
    if not isinstance(image, np.ndarray):
        raise ImageError(f"expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ImageError(f"expected dtype uint8 (values 0-255), got {image.dtype}; convert with (x * 255).astype(np.uint8) or np.clip first")
    if image.ndim == 2 and 1 in channels:
        return image
    if image.ndim == 3 and image.shape[2] in channels:
        return image
    raise ImageError(f"expected shape (H, W) or (H, W, C) with C in {channels}, got {image.shape}")


def bgr_to_rgb(image: np.ndarray) -> np.ndarray:
    """Swap OpenCV's B, G, R channel order to R, G, B (a view: reversing the last axis)."""
    check_image(image, channels=(3,))
    return image[..., ::-1]


def to_gray(image: np.ndarray) -> np.ndarray:
    """A uint8 ``(H, W)`` grayscale image from BGR colour (``Y = 0.299 R + 0.587 G + 0.114 B``) or grayscale."""
    check_image(image)
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[..., 0]
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
