"""Dropout from scratch ("inverted" dropout, as ``keras.layers.Dropout`` does it).

During training every value is set to 0 with probability ``rate``, independently, and
the values that survive are multiplied by ``1 / (1 - rate)``. The expected value of every
output is therefore its input (``(1 - rate) * x / (1 - rate) = x``), so the next layer
sees sums of the same size in training and at inference, where dropout does nothing.

Lesson 03 explains it (section 4).
"""

from __future__ import annotations

import numpy as np


def _rng(rng) -> np.random.Generator:
    """A numpy Generator from a Generator, an integer seed or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy Generator (np.random.default_rng(seed)), an integer seed or None, got {rng!r}")


def check_rate(rate) -> float:
    """The dropout rate as a float, or a clear error when it is not in [0, 1)."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise ValueError(f"the dropout rate must be a number in [0, 1), got {rate!r}")
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(
            f"the dropout rate must be in [0, 1): it is the probability of dropping a value, got {rate}. "
            "A rate of 1 would drop everything (and divide by 0); typical values are 0.2 to 0.5."
        )
    return rate


def dropout_mask(shape, rate: float, rng=None) -> np.ndarray:
    """A boolean mask of ``shape``: True (keep) with probability ``1 - rate``, False (drop) with probability ``rate``."""
    rate = check_rate(rate)
    return _rng(rng).random(shape) >= rate


def dropout(inputs, rate: float, rng=None, training: bool = True, *, mask=None, return_mask: bool = False):
    """Inverted dropout, like ``keras.layers.Dropout(rate)(inputs, training=training)``.

    ``training=True``: each value becomes 0 with probability ``rate``; the others are
    scaled by ``1 / (1 - rate)``. ``training=False`` (inference): the inputs come back
    unchanged. ``rng`` (a ``np.random.Generator`` or a seed) makes the mask reproducible.
    ``mask`` (boolean, True = keep) uses a given mask instead of drawing one;
    ``return_mask=True`` returns ``(output, mask)``, the mask the backward pass reuses
    (all True when nothing is dropped).

    Raises ``ValueError`` for a rate outside [0, 1) (a rate of 1 would drop everything and
    divide by 0), an ``rng`` that is not a Generator, a seed or None, non-numeric inputs, or a
    mask of the wrong shape or dtype.
    """
    rate = check_rate(rate)
    array = np.asarray(inputs)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"dropout needs a numeric array, got dtype {array.dtype}")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != array.shape:
            raise ValueError(f"the dropout mask must be a boolean array of the inputs' shape {array.shape}, "
                             f"got {mask.dtype} {mask.shape}")
    if not training or (rate == 0.0 and mask is None):
        return (array, np.ones(array.shape, dtype=bool)) if return_mask else array
    array = array.astype(np.result_type(array.dtype, np.float32), copy=False)
    keep = dropout_mask(array.shape, rate, rng) if mask is None else mask
    out = np.where(keep, array / (1.0 - rate), np.zeros((), dtype=array.dtype))
    return (out, keep) if return_mask else out
