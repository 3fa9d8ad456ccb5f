"""Backward passes from scratch: how the gradient of the loss flows back through every layer.

Training needs, for every weight ``w``, the derivative ``dL/dw`` of the loss. The chain rule
gives it layer by layer, from the loss back to the input ("backpropagation"): each layer
receives ``upstream = dL/d(its output)`` (same shape as its output) and returns
``dL/d(its input)`` (same shape as its input) and, when it has weights, ``dL/d(weights)``.
Nothing here is approximate: every function equals the numerical gradient of
:mod:`utils.layers.gradcheck` and ``tf.GradientTape`` (see ``tests/test_backward.py``).

Layouts are the forward passes' (channels last, Keras's kernels). Every backward takes what
its forward took (the inputs, the weights, the same stride/padding) plus ``upstream``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from utils.layers._checks import pair, same_padding
from utils.layers.activations import log_softmax
from utils.layers.convolution import ConvolutionError, Padding, _check_kernels, _plan, _result_dtype, conv2d
from utils.layers.convolution import _as_batch as _conv_batch
from utils.layers.convolution import _pair as _conv_pair
from utils.layers.dropout import check_rate
from utils.layers.losses import check_labels
from utils.layers.pooling import PADDINGS, _from_batch, _windows, pooled_size
from utils.layers.pooling import _as_batch as _pool_batch


def _float(array, what: str) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{what} must be a numeric array, got dtype {array.dtype}")
    return array.astype(np.result_type(array.dtype, np.float32), copy=False)


def _same_shape(upstream: np.ndarray, shape: tuple, what: str) -> None:
    if upstream.shape != tuple(shape):
        raise ValueError(
            f"{what}: the upstream gradient must have the shape of the layer's output, {tuple(shape)}, "
            f"got {upstream.shape} (dL/d(output) has one value per output value)")


# --------------------------------------------------------------------------- dense, ReLU, flatten


def dense_backward(upstream, inputs, kernel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``out = x @ W + b``: ``dx = g @ W.T``, ``dW = x.T @ g``, ``db = sum_n g``.

    ``upstream`` ``g = dL/d(out)`` ``(N, n_out)``, ``inputs`` ``x`` ``(N, n_in)`` (or one
    vector each), ``kernel`` ``W`` ``(n_in, n_out)``. Returns ``(dx, dW, db)`` with the
    shapes of ``x``, ``W`` and ``b``. Each weight ``W[i, k]`` multiplies input ``i`` into
    output ``k``, so its gradient sums ``x[n, i] * g[n, k]`` over the batch.
    """
    x, w, g = _float(inputs, "dense_backward inputs"), _float(kernel, "dense_backward kernel"), _float(upstream, "upstream")
    if w.ndim != 2 or x.ndim not in (1, 2) or x.shape[-1] != w.shape[0]:
        raise ValueError(f"dense_backward needs inputs (N, n_in) and a kernel (n_in, n_out), got {x.shape} and {w.shape}")
    _same_shape(g, x.shape[:-1] + (w.shape[1],), "dense_backward")
    x2, g2 = np.atleast_2d(x), np.atleast_2d(g)
    return (g @ w.T), x2.T @ g2, g2.sum(axis=0)


def relu_backward(upstream, inputs) -> np.ndarray:
    """Gradient of ``relu(x) = max(0, x)``: ``g * (x > 0)``.

    The gradient passes unchanged where the input was positive and is 0 elsewhere,
    including at exactly 0 (the convention of TensorFlow, whose ReLU gradient at 0 is 0).
    """
    x, g = _float(inputs, "relu_backward inputs"), _float(upstream, "upstream")
    _same_shape(g, x.shape, "relu_backward")
    return np.where(x > 0, g, np.zeros((), dtype=g.dtype))


def flatten_backward(upstream, input_shape) -> np.ndarray:
    """Gradient of ``flatten``: the same values reshaped back to the input's shape ``(N, H, W, C)``."""
    g = np.asarray(upstream)
    input_shape = tuple(int(s) for s in input_shape)
    if g.ndim != 2 or g.shape[0] != input_shape[0] or g.size != int(np.prod(input_shape)):
        raise ValueError(f"flatten_backward: an upstream gradient {g.shape} cannot come from flattening {input_shape}")
    return g.reshape(input_shape)


# --------------------------------------------------------------------------- softmax + cross-entropy


def _one_hot_targets(labels, logits: np.ndarray) -> np.ndarray:
    """Integer labels ``(N,)`` or one-hot rows ``(N, K)`` as float one-hot targets ``(N, K)``."""
    y = np.asarray(labels)
    if y.shape == logits.shape and y.ndim == 2:
        y = _float(y, "the one-hot labels")
        if (y < 0).any() or not np.allclose(y.sum(axis=-1), 1.0, atol=1e-3):
            raise ValueError("each row of one-hot labels must be non-negative and sum to 1")
        return y.astype(logits.dtype, copy=False)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != logits.shape[:1]:
        raise ValueError(
            f"labels must be integer classes (N,) = ({logits.shape[0]},) or one-hot (N, K) = {logits.shape}, "
            f"got shape {y.shape}")
    targets = np.zeros_like(logits)
    targets[np.arange(len(y)), check_labels(y, logits.shape[1])] = 1.0
    return targets


def _logits(logits) -> np.ndarray:
    z = _float(logits, "the logits")
    if z.ndim != 2 or z.shape[1] == 0:
        raise ValueError(f"logits must be a batch (N, classes), got shape {z.shape}; one image: logits[np.newaxis]")
    return z


def softmax_cross_entropy(logits, labels) -> float:
    """Mean cross-entropy of ``softmax(logits)``: ``L = -(1/N) sum_n log p[n, y_n]``.

    ``labels``: integer classes ``(N,)`` or one-hot rows ``(N, K)``. Equals Keras's
    ``SparseCategoricalCrossentropy(from_logits=True)`` (or ``CategoricalCrossentropy``).
    """
    z = _logits(logits)
    return float(-(_one_hot_targets(labels, z) * log_softmax(z)).sum(axis=1).mean())


def softmax_cross_entropy_backward(logits, labels) -> np.ndarray:
    """Gradient of the *mean* loss :func:`softmax_cross_entropy` with respect to the logits: ``(p - y) / N``.

    ``p = softmax(z)``, ``y`` the one-hot labels. The softmax and the log cancel so well
    that the gradient is just "predicted minus true": the true class's logit is pushed up
    by ``1 - p_y``, every other logit down by its probability. The ``1/N`` is there because
    the loss is the batch *mean*; without it the step would grow with the batch size.
    """
    z = _logits(logits)
    y = _one_hot_targets(labels, z)
    p = np.exp(log_softmax(z))
    return (p - y) / z.shape[0]


# --------------------------------------------------------------------------- dropout


def dropout_backward(upstream, mask, rate: float) -> np.ndarray:
    """Gradient of inverted dropout, ``out = x * mask / (1 - rate)``: ``g * mask / (1 - rate)``.

    It reuses the forward pass's mask (``dropout(x, rate, return_mask=True)``): a dropped
    value did not reach the loss, so it gets no gradient; a kept one was scaled, so is its gradient.
    """
    rate = check_rate(rate)
    g, keep = _float(upstream, "upstream"), np.asarray(mask)
    if keep.dtype != bool:
        raise ValueError(f"the dropout mask must be boolean (True = kept), got dtype {keep.dtype}")
    _same_shape(g, keep.shape, "dropout_backward")
    return np.where(keep, g / (1.0 - rate), np.zeros((), dtype=g.dtype))


# --------------------------------------------------------------------------- pooling


def _pool_plan(batch: np.ndarray, pool_size, strides, padding: str):
    pool = pair(pool_size, "pool_size")
    strides = pool if strides is None else pair(strides, "strides")
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    height, width = batch.shape[1:3]
    out = (pooled_size(height, pool[0], strides[0], padding), pooled_size(width, pool[1], strides[1], padding))
    pads = ((0, 0), (0, 0)) if padding == "valid" else (
        same_padding(height, pool[0], strides[0]), same_padding(width, pool[1], strides[1]))
    return pool, strides, out, pads


def _pool_upstream(upstream, batch: np.ndarray, rank: int, out: tuple[int, int], what: str) -> np.ndarray:
    g = _float(upstream, "upstream")
    expected = (batch.shape[0], *out, batch.shape[3])
    _same_shape(g, expected[1:3] if rank == 2 else expected[1:] if rank == 3 else expected, what)
    return g.reshape(expected)


def max_pool2d_backward(upstream, inputs, pool_size=2, strides=None, padding: str = "valid") -> np.ndarray:
    """Gradient of :func:`~utils.layers.pooling.max_pool2d`: each window's gradient goes to its maximum.

    ``out = max(window)`` depends only on the largest value of the window (its derivative
    is 1 for that value and 0 for the others), so the upstream gradient of every output
    cell is *routed* to the position of its window's maximum; all other inputs get 0.
    Ties: the gradient goes to the **first** maximum in reading order (row by row, left
    to right), as ``np.argmax`` chooses and TensorFlow's MaxPoolGrad does, not split.
    Windows that overlap (``strides < pool_size``) add their gradients where they share
    a maximum. Padding (``'same'``) is ``-inf``, never a maximum, and gets no gradient.
    """
    batch, rank = _pool_batch(inputs, "max_pool2d_backward")
    pool, strides, (out_h, out_w), pads = _pool_plan(batch, pool_size, strides, padding)
    g = _pool_upstream(upstream, batch, rank, (out_h, out_w), "max_pool2d_backward")
    values = batch.astype(np.result_type(batch.dtype, np.float32), copy=False)
    padded = np.pad(values, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=-np.inf)
    windows = _windows(padded, pool, strides)[:, :out_h, :out_w]            # (N, out_h, out_w, C, ph, pw)
    flat = windows.reshape(*windows.shape[:4], pool[0] * pool[1]).argmax(axis=-1)  # first maximum
    n, i, j, c = np.indices(flat.shape, sparse=True)
    rows, cols = i * strides[0] + flat // pool[1], j * strides[1] + flat % pool[1]
    grad = np.zeros(padded.shape, dtype=g.dtype)
    if strides[0] >= pool[0] and strides[1] >= pool[1]:
        grad[n, rows, cols, c] = g                                           # windows do not overlap
    else:
        np.add.at(grad, (np.broadcast_to(n, flat.shape), rows, cols, np.broadcast_to(c, flat.shape)), g)
    grad = grad[:, pads[0][0]:pads[0][0] + batch.shape[1], pads[1][0]:pads[1][0] + batch.shape[2]]
    return _from_batch(grad, rank)


def average_pool2d_backward(upstream, inputs, pool_size=2, strides=None, padding: str = "valid") -> np.ndarray:
    """Gradient of :func:`~utils.layers.pooling.average_pool2d`: each window's gradient is shared equally.

    ``out = (1/n) sum(window)``, so each of the window's ``n`` real values gets ``g / n``
    (``n = pool_h * pool_w``; with ``'same'`` padding only the real, not padded, values count,
    as in the forward pass). Overlapping windows add their shares.
    """
    batch, rank = _pool_batch(inputs, "average_pool2d_backward")
    pool, strides, (out_h, out_w), pads = _pool_plan(batch, pool_size, strides, padding)
    g = _pool_upstream(upstream, batch, rank, (out_h, out_w), "average_pool2d_backward")
    spec = ((0, 0), pads[0], pads[1], (0, 0))
    ones = np.pad(np.ones((1, *batch.shape[1:3], 1), dtype=g.dtype), spec)
    counts = _windows(ones, pool, strides)[:, :out_h, :out_w].sum(axis=(-2, -1))
    share = g / counts
    grad = np.zeros((batch.shape[0], ones.shape[1], ones.shape[2], batch.shape[3]), dtype=g.dtype)
    for u, v in np.ndindex(*pool):  # every position inside the window receives its share
        grad[:, u:u + (out_h - 1) * strides[0] + 1:strides[0], v:v + (out_w - 1) * strides[1] + 1:strides[1]] += share
    grad = grad[:, pads[0][0]:pads[0][0] + batch.shape[1], pads[1][0]:pads[1][0] + batch.shape[2]]
    return _from_batch(grad, rank)


# --------------------------------------------------------------------------- convolution


def _conv_setup(upstream, inputs, kernels, stride, padding, what: str):
    batch, single = _conv_batch(inputs)
    kernels = _check_kernels(kernels, batch.shape[3])
    strides, pads, (out_h, out_w) = _plan(batch.shape[1:3], kernels.shape[:2], stride, padding)
    g = np.asarray(upstream)
    expected = (batch.shape[0], out_h, out_w, kernels.shape[3])
    if g.shape != (expected[1:] if single else expected):
        raise ConvolutionError(
            f"{what}: the upstream gradient must have the conv output's shape {expected[1:] if single else expected}, "
            f"got {g.shape}")
    dtype = _result_dtype(batch, kernels, g if g.dtype.kind == "f" else None)
    g = g.reshape(expected).astype(dtype, copy=False)
    return batch.astype(dtype, copy=False), single, kernels.astype(dtype, copy=False), strides, pads, g


def dilate(upstream: np.ndarray, stride: int | tuple[int, int]) -> np.ndarray:
    """``(N, H, W, C)`` with ``stride - 1`` zeros inserted between rows and between columns.

    With stride 2 the output cell ``(i, j)`` came from the window at ``(2i, 2j)``: placing
    its gradient there (zeros in between) turns the strided layer's backward pass into a
    stride-1 one. ``(N, H, W, C)`` -> ``(N, (H-1)*S_h + 1, (W-1)*S_w + 1, C)``.
    """
    s_h, s_w = _conv_pair(stride, "stride")
    g = np.asarray(upstream)
    if g.ndim != 4:
        raise ConvolutionError(f"dilate expects a batch (N, H, W, C), got shape {g.shape}")
    out = np.zeros((g.shape[0], (g.shape[1] - 1) * s_h + 1, (g.shape[2] - 1) * s_w + 1, g.shape[3]), dtype=g.dtype)
    out[:, ::s_h, ::s_w] = g
    return out


def conv2d_weight_gradient(upstream, inputs, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] = 1,
                           padding: Padding = "valid") -> np.ndarray:
    """``dL/dW`` of :func:`~utils.layers.convolution.conv2d`: correlate the padded input with the upstream gradient.

    From ``out[n,i,j,f] = b[f] + sum_{u,v,c} x_pad[n, i*S+u, j*S+v, c] * W[u,v,c,f]``::

        dW[u, v, c, f] = sum_{n, i, j} x_pad[n, i*S + u, j*S + v, c] * g[n, i, j, f]

    This is lesson 02's cross-correlation (no flip) of the padded input with the upstream
    gradient as the "kernel" (dilated by the stride): weight ``(u, v)`` gets the sum of
    every input value it multiplied, each times the gradient of the output it made.
    Computed with the forward's im2col windows: ``columns.T @ g``. Returns ``(K_h, K_w, C_in, C_out)``.
    """
    k_h, k_w = _conv_pair(kernel_size, "kernel_size")
    batch, _ = _conv_batch(inputs)
    fake = np.zeros((k_h, k_w, batch.shape[3], np.shape(upstream)[-1] if np.ndim(upstream) else 1), dtype=np.float32)
    x, _, _, strides, pads, g = _conv_setup(upstream, inputs, fake, stride, padding, "conv2d_weight_gradient")
    padded = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    out_h, out_w = g.shape[1:3]
    windows = sliding_window_view(padded, (k_h, k_w), axis=(1, 2))[:, ::strides[0], ::strides[1]][:, :out_h, :out_w]
    columns = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, k_h * k_w * x.shape[3])   # (N*H'*W', K*K*C_in)
    return (columns.T @ g.reshape(-1, g.shape[3])).reshape(k_h, k_w, x.shape[3], g.shape[3])


def conv2d_input_gradient(upstream, kernels, input_shape, stride: int | tuple[int, int] = 1,
                          padding: Padding = "valid") -> np.ndarray:
    """``dL/dx`` of :func:`~utils.layers.convolution.conv2d`: a *full convolution* of the gradient with the kernel.

    Input pixel ``x_pad[p, q]`` fed every output ``(i, j)`` whose window covered it, with
    weight ``W[p - i*S, q - j*S]``::

        dx_pad[n, p, q, c] = sum_{i, j, f} g[n, i, j, f] * W[p - i*S, q - j*S, c, f]

    An index that *decreases* as ``i`` grows is lesson 02's true convolution, i.e. a
    correlation with the kernel flipped upside down and left to right. So: (1) dilate
    ``g`` by the stride (:func:`dilate`), (2) pad it with ``K - 1`` zeros on every side
    ("full"), (3) correlate it with the flipped kernel, its in/out channels swapped,
    ``W[::-1, ::-1].transpose(0, 1, 3, 2)`` (this is :func:`conv2d` again), (4) crop away
    the forward pass's padding. ``input_shape`` is ``(N, H, W, C_in)`` or ``(H, W, C_in)``.
    """
    input_shape = tuple(int(s) for s in input_shape)
    x = np.broadcast_to(np.zeros((), dtype=np.asarray(kernels).dtype if np.asarray(kernels).dtype.kind == "f" else np.float32),
                        input_shape)
    _, single, w, strides, pads, g = _conv_setup(upstream, x, kernels, stride, padding, "conv2d_input_gradient")
    k_h, k_w = w.shape[:2]
    full = np.pad(dilate(g, strides), ((0, 0), (k_h - 1, k_h - 1), (k_w - 1, k_w - 1), (0, 0)))
    flipped = w[::-1, ::-1].transpose(0, 1, 3, 2)                       # (K, K, C_out, C_in)
    dx_pad = conv2d(full, flipped)                                      # ((out-1)*S + K, ...) rows
    height, width = input_shape[-3] + sum(pads[0]), input_shape[-2] + sum(pads[1])
    # with 'valid' and a stride that does not divide evenly, the last rows/columns were never read: gradient 0
    dx_pad = np.pad(dx_pad, ((0, 0), (0, height - dx_pad.shape[1]), (0, width - dx_pad.shape[2]), (0, 0)))
    dx = dx_pad[:, pads[0][0]:pads[0][0] + input_shape[-3], pads[1][0]:pads[1][0] + input_shape[-2]]
    return dx[0] if single else dx


def conv2d_backward(upstream, inputs, kernels, stride: int | tuple[int, int] = 1, padding: Padding = "valid",
                    input_gradient: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """All gradients of :func:`~utils.layers.convolution.conv2d`: ``(dx, dW, db)``.

    ``dW`` is :func:`conv2d_weight_gradient` (a correlation of the padded input with ``g``),
    ``dx`` is :func:`conv2d_input_gradient` (a full convolution of ``g`` with the flipped
    kernel), ``db[f] = sum_{n,i,j} g[n,i,j,f]`` (the bias is added to every cell).
    ``input_gradient=False`` skips ``dx`` (returns None): the first layer does not need it.
    """
    x = np.asarray(inputs)
    kernels = np.asarray(kernels)
    _conv_setup(upstream, x, kernels, stride, padding, "conv2d_backward")  # validate everything once
    dw = conv2d_weight_gradient(upstream, x, kernels.shape[:2], stride, padding)
    g = np.asarray(upstream)
    db = g.reshape(-1, g.shape[-1]).sum(axis=0).astype(dw.dtype)
    dx = conv2d_input_gradient(upstream, kernels, x.shape, stride, padding) if input_gradient else None
    return dx, dw, db
