"""Pooling from scratch: max, average and global pooling, equal to Keras's pooling layers.

A pooling layer slides a small window (``pool_size``) over every channel of a feature
map, ``strides`` pixels at a time, and keeps one number per window: the largest
(max pooling) or the mean (average pooling). Global pooling keeps one number per
channel for the whole map. Pooling has no weights to learn.

Inputs may be a single 2D map ``(H, W)``, one image ``(H, W, C)`` or a batch
``(N, H, W, C)``; the output has the same rank.

Lesson 03 explains it (section 3).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from utils.layers._checks import LayerError, pair, same_padding

PADDINGS = ("valid", "same")


def _as_batch(inputs, what: str) -> tuple[np.ndarray, int]:
    """Inputs as ``(N, H, W, C)`` plus their original rank, so the output can be given back in it."""
    array = np.asarray(inputs)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise LayerError(f"{what} needs a numeric array, got dtype {array.dtype}")
    if array.ndim == 2:
        return array[np.newaxis, :, :, np.newaxis], 2
    if array.ndim == 3:
        return array[np.newaxis], 3
    if array.ndim == 4:
        return array, 4
    raise LayerError(
        f"{what} expects a feature map (H, W), (H, W, C) or a batch (N, H, W, C); "
        f"got an array of shape {array.shape}"
    )


def _from_batch(batch: np.ndarray, rank: int) -> np.ndarray:
    if rank == 2:
        return batch[0, :, :, 0]
    if rank == 3:
        return batch[0]
    return batch


def pooled_size(size: int, pool: int, stride: int, padding: str = "valid") -> int:
    """Output length along one axis: ``floor((size - pool) / stride) + 1`` ('valid') or ``ceil(size / stride)`` ('same')."""
    if padding not in PADDINGS:
        raise LayerError(f"padding must be one of {PADDINGS}, got {padding!r}")
    if padding == "same":
        return math.ceil(size / stride)
    if pool > size:
        raise LayerError(
            f"the pooling window ({pool}) is larger than the input ({size}) with padding='valid': "
            "use a smaller pool_size, or padding='same'"
        )
    return (size - pool) // stride + 1


def _windows(batch: np.ndarray, pool: tuple[int, int], strides: tuple[int, int]) -> np.ndarray:
    """All pooling windows as a view ``(N, out_h, out_w, C, pool_h, pool_w)``; nothing is copied."""
    view = sliding_window_view(batch, pool, axis=(1, 2))
    return view[:, :: strides[0], :: strides[1]]


def _pool(inputs, pool_size, strides, padding: str, reduce: str, name: str) -> np.ndarray:
    batch, rank = _as_batch(inputs, name)
    pool = pair(pool_size, "pool_size")
    strides = pool if strides is None else pair(strides, "strides")
    if padding not in PADDINGS:
        raise LayerError(f"padding must be one of {PADDINGS}, got {padding!r}")
    height, width = batch.shape[1:3]
    if min(batch.shape) == 0:
        raise LayerError(f"{name} got an empty array of shape {np.shape(inputs)}: it needs at least one value per axis")
    out_h = pooled_size(height, pool[0], strides[0], padding)
    out_w = pooled_size(width, pool[1], strides[1], padding)
    if padding == "valid":
        windows = _windows(batch, pool, strides)[:, :out_h, :out_w]
        result = windows.max(axis=(-2, -1)) if reduce == "max" else windows.mean(axis=(-2, -1))
        return _from_batch(result, rank)
    pads = (same_padding(height, pool[0], strides[0]), same_padding(width, pool[1], strides[1]))
    spec = ((0, 0), pads[0], pads[1], (0, 0))
    if reduce == "max":
        # Padding never wins a max: TensorFlow pads with -inf.
        lowest = -np.inf if np.issubdtype(batch.dtype, np.floating) else np.iinfo(batch.dtype).min
        padded = np.pad(batch, spec, constant_values=lowest)
        return _from_batch(_windows(padded, pool, strides)[:, :out_h, :out_w].max(axis=(-2, -1)), rank)
    # Average pooling divides by the number of real (not padded) values in each window, as TensorFlow does.
    padded = np.pad(batch.astype(np.result_type(batch.dtype, np.float32)), spec)
    ones = np.pad(np.ones((1, height, width, 1), dtype=padded.dtype), spec)
    sums = _windows(padded, pool, strides)[:, :out_h, :out_w].sum(axis=(-2, -1))
    counts = _windows(ones, pool, strides)[:, :out_h, :out_w].sum(axis=(-2, -1))
    return _from_batch(sums / counts, rank)


def max_pool2d(inputs, pool_size=2, strides=None, padding: str = "valid") -> np.ndarray:
    """Max pooling, like ``keras.layers.MaxPooling2D``: the largest value of every window.

    ``strides`` defaults to ``pool_size`` (windows side by side, no overlap). A 2x2 window
    with stride 2 halves height and width, so keeps a quarter of the values.

    Raises ``ValueError`` (with a message saying what to change) for a window larger than
    the map with ``"valid"`` padding, a non-positive window or stride, an unknown padding,
    or inputs that are not a 2D map or an ``(H, W, C)`` / ``(N, H, W, C)`` array.
    """
    return _pool(inputs, pool_size, strides, padding, "max", "max_pool2d")


def average_pool2d(inputs, pool_size=2, strides=None, padding: str = "valid") -> np.ndarray:
    """Average pooling, like ``keras.layers.AveragePooling2D``: the mean of every window."""
    return _pool(inputs, pool_size, strides, padding, "mean", "average_pool2d")


def global_max_pool2d(inputs) -> np.ndarray:
    """Global max pooling, like ``keras.layers.GlobalMaxPooling2D``: one value per channel.

    ``(H, W, C)`` -> ``(C,)``, ``(N, H, W, C)`` -> ``(N, C)``, ``(H, W)`` -> a scalar array.
    """
    batch, rank = _as_batch(inputs, "global_max_pool2d")
    result = batch.max(axis=(1, 2))
    return result[0, 0] if rank == 2 else result[0] if rank == 3 else result


def global_average_pool2d(inputs) -> np.ndarray:
    """Global average pooling, like ``keras.layers.GlobalAveragePooling2D``: the mean of each channel."""
    batch, rank = _as_batch(inputs, "global_average_pool2d")
    result = batch.mean(axis=(1, 2))
    return result[0, 0] if rank == 2 else result[0] if rank == 3 else result
