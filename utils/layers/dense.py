"""Flatten and the dense (fully connected) layer from scratch, equal to Keras's.

Lesson 03 explains them (section 5).
"""

from __future__ import annotations

import numpy as np


def flatten(inputs) -> np.ndarray:
    """Flatten, like ``keras.layers.Flatten``: ``(N, H, W, C)`` -> ``(N, H * W * C)``.

    Only a reshape: no value changes, no weights. The first axis is the batch and is kept;
    the order is row by row, and within a pixel channel by channel (C fastest), as Keras does.
    """
    array = np.asarray(inputs)
    if array.ndim < 2:
        raise ValueError(
            f"flatten expects a batch (N, ...) with at least 2 axes, got shape {array.shape}; "
            "for a single image add the batch axis first: image[np.newaxis]"
        )
    return array.reshape(array.shape[0], -1)


def dense(inputs, kernel, bias=None) -> np.ndarray:
    """A dense layer without activation, like ``keras.layers.Dense``: ``inputs @ kernel + bias``.

    ``inputs`` ``(N, n_in)`` (or one vector ``(n_in,)``), ``kernel`` ``(n_in, n_out)`` in
    Keras's layout (``layer.get_weights()[0]``), ``bias`` ``(n_out,)``. Output ``(N, n_out)``:
    every output unit is a weighted sum of *all* inputs plus its bias, so the layer has
    ``n_in * n_out + n_out`` parameters.
    """
    x = np.asarray(inputs)
    w = np.asarray(kernel)
    if w.ndim != 2:
        raise ValueError(f"the kernel of a dense layer is a matrix (n_in, n_out), got shape {w.shape}")
    if x.ndim not in (1, 2):
        raise ValueError(
            f"dense expects inputs (N, n_in) or (n_in,), got shape {x.shape}; "
            "flatten feature maps first (flatten(feature_maps))"
        )
    if x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"inputs have {x.shape[-1]} features but the kernel expects {w.shape[0]} (kernel shape {w.shape}): "
            "the kernel's first axis must match the number of inputs"
        )
    out = x @ w
    if bias is not None:
        b = np.asarray(bias)
        if b.shape != (w.shape[1],):
            raise ValueError(f"the bias must have shape ({w.shape[1]},), one value per output unit, got {b.shape}")
        out = out + b
    return out


def dense_parameter_count(n_inputs: int, units: int, use_bias: bool = True) -> int:
    """Number of weights of a dense layer: one per (input, unit) pair, plus one bias per unit."""
    return n_inputs * units + (units if use_bias else 0)
