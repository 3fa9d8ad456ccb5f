"""The argument checks every layer of :mod:`utils.layers` shares, and the error they raise.

Kept apart so that the layers a student reads (lessons 02 and 03) show the algorithm;
the checks are what turn a student's mistake into a message that says what to do.
"""

from __future__ import annotations

import math

import numpy as np

from utils.errors import CourseError


class LayerError(CourseError, ValueError):
    """Arguments a layer cannot use, with a message that says what is wrong and what to do."""


def pair(value, what: str, error: type[Exception] = LayerError) -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 5)`` stays; anything else raises ``error`` naming ``what``."""
    pair = (value, value) if np.ndim(value) == 0 else tuple(value) if np.ndim(value) == 1 else ()
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise error(f"{what} must be a positive integer or a pair of them, got {value!r}")
    if min(pair) < 1:
        raise error(f"{what} must be at least 1, got {value!r}")
    return int(pair[0]), int(pair[1])


def same_padding(size: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding of one axis: ``max((ceil(size/S) - 1)*S + K - size, 0)`` zeros, the extra one at the end."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2
