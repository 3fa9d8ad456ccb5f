"""The 2D convolution layer from scratch, exactly as Keras's ``Conv2D`` computes it.

Deep-learning libraries call *convolution* what mathematicians call *cross-correlation*:
the kernel slides over the input **without being flipped**, and each output cell is the sum
of the element-wise products of the kernel with the patch under it, plus a bias::

    out[n, i, j, f] = bias[f] + sum_{u, v, c} x_padded[n, i*S + u, j*S + v, c] * w[u, v, c, f]

Layouts are Keras's: inputs ``(N, H, W, C_in)`` (or one image ``(H, W, C_in)``), kernels
``(K_h, K_w, C_in, C_out)``. Padding is ``"valid"`` (none), ``"same"`` (zeros so that the
output has ``ceil(H / S)`` rows, split as TensorFlow splits it: the extra row, when the
total is odd, goes at the bottom/right) or an int ``P`` (``P`` zeros on every side).

Two implementations with identical results: :func:`conv2d_loops` spells every sum out
with Python loops (read it to understand), :func:`conv2d` computes all windows at once with
one matrix product (use it: hundreds of times faster).

Lesson 02 (sections 3-11) explains it (and prints :func:`conv2d_loops`, the version to read).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from utils.layers._checks import LayerError, pair, same_padding

Padding = str | int

#: The classic 3x3 (and two 5x5) image-processing kernels, as float32 arrays to correlate with.
KERNELS: dict[str, np.ndarray] = {
    name: np.asarray(values, dtype=np.float32)
    for name, values in {
        "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
        "box_blur": np.ones((3, 3)) / 9,
        "gaussian": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
        "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
        # Sobel x responds to vertical edges (brightness changing from left to right),
        # Sobel y to horizontal edges (brightness changing from top to bottom).
        "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
        "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
        "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
        "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
        "box_blur_5x5": np.ones((5, 5)) / 25,
        "gaussian_5x5": np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256,
    }.items()
}


class ConvolutionError(LayerError):
    """Arguments a convolution cannot use, with a message that says what is wrong and what to do."""


# --------------------------------------------------------------------------- sizes


def _pair(value: int | tuple[int, int], what: str) -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 5)`` stays; anything else is a :class:`ConvolutionError` naming ``what``."""
    return pair(value, what, ConvolutionError)


def _positive_int(value: int, what: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ConvolutionError(f"{what} must be a positive int, got {value!r}")
    return int(value)


def _check_padding(padding: Padding) -> Padding:
    if isinstance(padding, str):
        if padding.lower() not in ("valid", "same"):
            raise ConvolutionError(f"padding must be 'valid', 'same' or an int number of zeros, got {padding!r}")
        return padding.lower()
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool) and padding >= 0:
        return int(padding)
    raise ConvolutionError(f"padding must be 'valid', 'same' or an int >= 0, got {padding!r}")


def pad_amounts(size: int, kernel: int, stride: int = 1, padding: Padding = "valid") -> tuple[int, int]:
    """Zeros added before and after one axis of length ``size``, as TensorFlow/Keras add them.

    ``"same"`` pads ``max((ceil(size/S) - 1)*S + K - size, 0)`` zeros in total, the smaller
    half first: with stride 2 this can be 0 zeros on top and 1 at the bottom.
    """
    padding = _check_padding(padding)
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return same_padding(size, kernel, stride)
    return padding, padding


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: Padding = "valid") -> int:
    """Output length along one axis: ``(W - K + 2P) // S + 1`` (``"same"``: ``ceil(W / S)``).

    >>> conv_output_size(48, 3), conv_output_size(48, 3, padding="same"), conv_output_size(48, 3, 2, 1)
    (46, 48, 24)
    """
    size, kernel, stride = (_positive_int(v, what) for v, what in ((size, "size"), (kernel, "kernel"), (stride, "stride")))
    padding = _check_padding(padding)
    if padding == "same":
        return -(-size // stride)
    pad = 0 if padding == "valid" else padding
    if kernel > size + 2 * pad:
        raise ConvolutionError(
            f"a {kernel}-wide kernel does not fit in an input of {size} (+{2 * pad} padding): "
            "use a smaller kernel, a larger input, or padding='same'")
    return (size - kernel + 2 * pad) // stride + 1


def conv_params(kernel: int | tuple[int, int], c_in: int, c_out: int, bias: bool = True) -> int:
    """Trainable parameters of a conv layer: ``(K*K*C_in + 1) * C_out`` (without the +1 when ``bias=False``).

    >>> conv_params(3, 1, 32)
    320
    """
    k_h, k_w = _pair(kernel, "kernel")
    c_in, c_out = _pair((c_in, c_out), "channels (c_in, c_out)")
    return (k_h * k_w * c_in + int(bool(bias))) * c_out


# --------------------------------------------------------------------------- checks


def _as_batch(inputs: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(N, H, W, C)`` view of the inputs and whether a single image was given."""
    inputs = np.asarray(inputs)
    if inputs.dtype == object or not (np.issubdtype(inputs.dtype, np.number) or inputs.dtype == bool):
        raise ConvolutionError(f"inputs must be a numeric array, got dtype {inputs.dtype}")
    if inputs.ndim == 3:
        return inputs[np.newaxis], True
    if inputs.ndim == 4:
        return inputs, False
    hint = (" A grayscale image (H, W) needs a channel axis: image[..., np.newaxis]"
            " (or use correlate2d for a 2D image and a 2D kernel)." if inputs.ndim == 2 else "")
    raise ConvolutionError(
        f"inputs must have shape (H, W, C_in) or (N, H, W, C_in), got {inputs.ndim} dimensions {inputs.shape}.{hint}")


def _check_kernels(kernels: np.ndarray, channels: int) -> np.ndarray:
    kernels = np.asarray(kernels)
    if kernels.ndim != 4:
        hint = " A single 2D kernel (K, K) becomes (K, K, 1, 1) with kernel[:, :, None, None]." if kernels.ndim == 2 else ""
        raise ConvolutionError(
            f"kernels must have shape (K, K, C_in, C_out) (Keras's layout), got {kernels.ndim} dimensions {kernels.shape}.{hint}")
    if kernels.shape[2] != channels:
        raise ConvolutionError(
            f"the kernels expect C_in={kernels.shape[2]} input channels but the inputs have {channels}: "
            "kernels.shape[2] must equal inputs.shape[-1]")
    if 0 in kernels.shape:
        raise ConvolutionError(f"kernels must not be empty, got shape {kernels.shape}")
    return kernels


def _check_bias(bias: np.ndarray | None, filters: int) -> np.ndarray | None:
    if bias is None:
        return None
    bias = np.asarray(bias)
    if bias.shape not in ((filters,), ()):
        raise ConvolutionError(f"bias must have one value per filter, shape ({filters},), got {bias.shape}")
    return bias


def _plan(image_hw: tuple[int, int], kernel_hw: tuple[int, int], stride: int | tuple[int, int], padding: Padding):
    """Validated strides, padding amounts and output size for both axes."""
    strides = _pair(stride, "stride")
    padding = _check_padding(padding)
    pads, outs = [], []
    for axis, (size, k, s) in enumerate(zip(image_hw, kernel_hw, strides)):
        name = ("height", "width")[axis]
        if padding == "same" and k % 2 == 0:
            raise ConvolutionError(
                f"padding='same' needs an odd kernel size to have a centre, got {k} along the {name}: "
                "use an odd kernel (3, 5, 7) or padding='valid'")
        pad = pad_amounts(size, k, s, padding)
        if k > size + sum(pad):
            raise ConvolutionError(
                f"the kernel ({k} along the {name}) is larger than the input ({size}"
                f"{f' + {sum(pad)} padding' if sum(pad) else ''}): the output would be empty. "
                "Use a smaller kernel, a larger image, or padding='same'")
        pads.append(pad)
        outs.append((size + sum(pad) - k) // s + 1)
    return strides, pads, tuple(outs)


def _result_dtype(*arrays: np.ndarray) -> np.dtype:
    """float32 for images and float32 weights (as Keras), float64 when any input is float64."""
    return np.result_type(np.float32, *[a.dtype for a in arrays if a is not None and a.dtype.kind == "f"])


def pad_input(inputs: np.ndarray, kernel: int | tuple[int, int], stride: int | tuple[int, int] = 1,
              padding: Padding = "valid") -> np.ndarray:
    """The ``(N, H, W, C)`` or ``(H, W, C)`` inputs with the zeros that ``padding`` adds around them."""
    batch, single = _as_batch(inputs)
    _, pads, _ = _plan(batch.shape[1:3], _pair(kernel, "kernel"), stride, padding)
    padded = np.pad(batch, ((0, 0), pads[0], pads[1], (0, 0)))
    return padded[0] if single else padded


# --------------------------------------------------------------------------- one cell


def correlate_patch(patch: np.ndarray, kernel: np.ndarray, bias: float = 0.0) -> float:
    """One output cell: the sum of ``patch * kernel`` (same shapes) plus ``bias``."""
    patch, kernel = np.asarray(patch), np.asarray(kernel)
    if patch.shape != kernel.shape:
        raise ConvolutionError(f"the patch {patch.shape} and the kernel {kernel.shape} must have the same shape")
    return float(np.sum(patch.astype(np.float64) * kernel) + bias)


@dataclass(frozen=True)
class ConvStep:
    """One position of the sliding window over a 2D image (for step-by-step views)."""

    row: int                 # output cell
    col: int
    top: int                 # where the window starts in the padded image
    left: int
    padded: np.ndarray       # the padded image the window slides over
    patch: np.ndarray        # what lies under the kernel
    products: np.ndarray     # patch * kernel, element by element
    value: float             # products.sum() + bias


def conv_step(image: np.ndarray, kernel: np.ndarray, row: int, col: int, stride: int = 1,
              padding: Padding = "valid", bias: float = 0.0) -> ConvStep:
    """The patch, the products and the sum behind output cell ``(row, col)`` of a 2D correlation."""
    image, kernel = _check_2d(image, kernel)
    strides, pads, out_hw = _plan(image.shape, kernel.shape, stride, padding)
    if not (0 <= row < out_hw[0] and 0 <= col < out_hw[1]):
        raise ConvolutionError(f"output cell ({row}, {col}) is outside the {out_hw[0]}x{out_hw[1]} feature map")
    padded = np.pad(image.astype(np.float64), pads)
    top, left = row * strides[0], col * strides[1]
    patch = padded[top:top + kernel.shape[0], left:left + kernel.shape[1]]
    products = patch * kernel
    return ConvStep(row, col, top, left, padded, patch, products, float(products.sum() + bias))


# --------------------------------------------------------------------------- full layer


def conv2d_loops(inputs: np.ndarray, kernels: np.ndarray, bias: np.ndarray | None = None,
                 stride: int | tuple[int, int] = 1, padding: Padding = "valid") -> np.ndarray:
    """Keras's Conv2D forward pass with explicit loops: slow, but every step is visible.

    Same arguments and result as :func:`conv2d`.
    """
    batch, single = _as_batch(inputs)
    kernels = _check_kernels(kernels, batch.shape[3])
    bias = _check_bias(bias, kernels.shape[3])
    (s_h, s_w), pads, (out_h, out_w) = _plan(batch.shape[1:3], kernels.shape[:2], stride, padding)
    k_h, k_w, _, filters = kernels.shape
    biases = np.zeros(filters) if bias is None else np.broadcast_to(bias, (filters,))
    padded = np.pad(batch, ((0, 0), pads[0], pads[1], (0, 0)))
    out = np.zeros((batch.shape[0], out_h, out_w, filters), dtype=_result_dtype(batch, kernels, bias))
    for n in range(batch.shape[0]):                 # every image
        for i in range(out_h):                      # every output row
            for j in range(out_w):                  # every output column
                top, left = i * s_h, j * s_w
                patch = padded[n, top:top + k_h, left:left + k_w, :]   # (K, K, C_in): all input channels
                for f in range(filters):            # every filter: one number per position
                    out[n, i, j, f] = correlate_patch(patch, kernels[:, :, :, f], biases[f])
    return out[0] if single else out


def conv2d(inputs: np.ndarray, kernels: np.ndarray, bias: np.ndarray | None = None,
           stride: int | tuple[int, int] = 1, padding: Padding = "valid") -> np.ndarray:
    """Keras's Conv2D forward pass (no activation), vectorised.

    ``inputs`` ``(H, W, C_in)`` or ``(N, H, W, C_in)``; ``kernels`` ``(K, K, C_in, C_out)``;
    ``bias`` ``(C_out,)`` or None; ``stride`` an int or a pair; ``padding`` ``"valid"``,
    ``"same"`` or an int. Returns float ``(N?, H_out, W_out, C_out)`` (float32 unless an
    argument is float64).

    All windows are gathered at once (a strided view, no copy) into a matrix of
    ``N*H_out*W_out`` rows by ``K*K*C_in`` columns ("im2col"); one matrix product with the
    ``(K*K*C_in, C_out)`` weights then computes every cell of every feature map. With one
    filter, or very few channels and filters (``C_in * C_out <= 8``, e.g. a bank of 8 kernels
    on a grayscale image), summing ``K*K`` weighted shifted copies is faster and, without a
    multi-threaded matrix product, steadier (:func:`_conv_by_shifts`).
    """
    batch, single = _as_batch(inputs)
    kernels = _check_kernels(kernels, batch.shape[3])
    bias = _check_bias(bias, kernels.shape[3])
    strides, pads, (out_h, out_w) = _plan(batch.shape[1:3], kernels.shape[:2], stride, padding)
    dtype = _result_dtype(batch, kernels, bias)
    k_h, k_w, c_in, filters = kernels.shape
    padded = np.pad(batch.astype(dtype, copy=False), ((0, 0), pads[0], pads[1], (0, 0)))
    weights = kernels.astype(dtype, copy=False)
    if filters == 1 or c_in * filters <= 8:
        out = _conv_by_shifts(padded, weights, strides, (out_h, out_w))
    else:
        # (N, H', W', C, K_h, K_w) -> every stride-th window, ordered (K_h, K_w, C) like the kernels
        windows = sliding_window_view(padded, (k_h, k_w), axis=(1, 2))[:, ::strides[0], ::strides[1]]
        windows = windows[:, :out_h, :out_w].transpose(0, 1, 2, 4, 5, 3)
        columns = windows.reshape(-1, k_h * k_w * c_in)
        out = (columns @ weights.reshape(-1, filters)).reshape(batch.shape[0], out_h, out_w, filters)
    if bias is not None:
        out += bias.astype(dtype)
    return out[0] if single else out


def _conv_by_shifts(padded: np.ndarray, weights: np.ndarray, strides: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """The same sum, organised by kernel entry: ``K*K`` shifted views of the input, each times ``W[u, v]``.

    For one filter or a few (``C_in * C_out <= 8``) this beats im2col: there is no big window
    matrix to build, e.g. for one classic kernel on a photo.
    """
    (s_h, s_w), (out_h, out_w) = strides, out_hw
    out = np.zeros((padded.shape[0], out_h, out_w, weights.shape[3]), dtype=padded.dtype)
    for u, v in np.ndindex(weights.shape[:2]):
        shifted = padded[:, u:u + (out_h - 1) * s_h + 1:s_h, v:v + (out_w - 1) * s_w + 1:s_w, :]
        # (N, H_out, W_out, C_in) @ (C_in, C_out); one channel needs only a broadcast product
        out += shifted * weights[u, v] if shifted.shape[3] == 1 else shifted @ weights[u, v]
    return out


# --------------------------------------------------------------------------- 2D helpers


def _check_2d(image: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image, kernel = np.asarray(image), np.asarray(kernel)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim != 2:
        raise ConvolutionError(
            f"expected a 2D grayscale image (H, W), got shape {image.shape}; "
            "for colour or batches use conv2d with kernels (K, K, C_in, C_out)")
    if kernel.ndim != 2:
        raise ConvolutionError(f"expected a 2D kernel (K, K), got shape {kernel.shape}")
    return image, kernel


def correlate2d(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: Padding = "valid") -> np.ndarray:
    """Slide ``kernel`` over a grayscale ``image`` without flipping it (what CNNs do): a 2D feature map."""
    image, kernel = _check_2d(image, kernel)
    return conv2d(image[..., np.newaxis], kernel[:, :, np.newaxis, np.newaxis], stride=stride, padding=padding)[..., 0]


def convolve2d(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: Padding = "valid") -> np.ndarray:
    """True mathematical convolution: correlate with the kernel flipped upside down and left to right."""
    _, kernel = _check_2d(image, kernel)
    return correlate2d(image, kernel[::-1, ::-1], stride=stride, padding=padding)
