"""Which input pixels can one cell of a feature map see? Receptive fields, by formula and measured.

Lesson 05 explains them. Going through a layer of kernel (or pooling window) ``k`` and stride
``s``, the receptive field grows by ``k - 1`` steps of the input spacing of that layer's cells:

    r_l = r_{l-1} + (k_l - 1) * j_{l-1},     j_l = j_{l-1} * s_l      (r_0 = 1, j_0 = 1)

``j`` is the *jump*: how many input pixels apart two neighbouring cells of layer ``l`` are.
The centre of cell ``i`` of layer ``l`` is at ``start_l + i * j_l`` in input pixels, with
``start_l = start_{l-1} + ((k_l - 1) / 2 - p_l) * j_{l-1}`` (``p_l``: padding added before the
first row/column). :func:`receptive_field_table` walks a Keras model's layers with these
formulas; :func:`empirical_receptive_field` measures the same thing with a gradient: the
input pixels whose change moves the cell are exactly those it can see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReceptiveField:
    """One layer: its output side, kernel, stride, the field size ``r``, jump ``j`` and first centre ``start``."""

    layer: str
    size: int        # side of the layer's output maps
    kernel: int
    stride: int
    r: int           # receptive field side, in input pixels (before clipping at the border)
    j: int           # jump: input pixels between neighbouring cells
    start: float     # input coordinate of the centre of cell 0

    def box(self, row: int, col: int, image_size: int) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)`` of cell (row, col)'s field in input pixels, bottom/right
        exclusive, clipped to the image (padding cells see nothing)."""
        if not (0 <= row < self.size and 0 <= col < self.size):
            raise ValueError(f"cell ({row}, {col}) is outside the {self.size}x{self.size} maps of {self.layer}")

        def span(index: int) -> tuple[int, int]:
            centre = self.start + index * self.j
            low = math.ceil(centre - (self.r - 1) / 2)
            return max(0, low), min(image_size, low + self.r)

        (top, bottom), (left, right) = span(row), span(col)
        return top, left, bottom, right


def _same_padding_before(size: int, kernel: int, stride: int) -> int:
    """TensorFlow's 'same' padding: total ``max((ceil(n/s) - 1) * s + k - n, 0)``, the smaller half first."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2


def receptive_field_table(model, image_size: int | None = None) -> list[ReceptiveField]:
    """One :class:`ReceptiveField` per Conv2D and pooling layer of ``model``, in order.

    Layers that act on each position alone (batch norm, ReLU, dropout) do not change the
    field; global pooling, flatten and dense layers end the table (their output sees everything).
    """
    size = image_size or int(model.input_shape[1])
    r, j, start = 1, 1, 0.0
    rows: list[ReceptiveField] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            kernel, stride = int(layer.kernel_size[0]), int(layer.strides[0])
            if int(layer.dilation_rate[0]) != 1:
                raise ValueError(f"{layer.name}: dilated convolutions are not covered by this table")
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            kernel, stride = int(layer.pool_size[0]), int(layer.strides[0])
        elif kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten", "Dense"):
            break
        else:
            continue
        padding = _same_padding_before(size, kernel, stride) if layer.padding == "same" else 0
        start += ((kernel - 1) / 2 - padding) * j
        r += (kernel - 1) * j
        j *= stride
        size = math.ceil(size / stride) if layer.padding == "same" else (size - kernel) // stride + 1
        rows.append(ReceptiveField(layer.name, size, kernel, stride, r, j, start))
    return rows


def geometry_twin(model):
    """A model with the same convolution and pooling geometry as ``model`` in which every path carries gradient.

    Max pooling sends the gradient to one input of each window and ReLU blocks it where the
    unit is off, so the gradient of a real network is zero at some pixels that its cell does
    see. The twin uses average pooling, no activations and positive weights, so the set of
    pixels with a non-zero gradient is exactly the receptive field.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=model.input_shape[1:])
    x = inputs
    rng = np.random.default_rng(0)
    built = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            twin = layers.Conv2D(1, layer.kernel_size, strides=layer.strides, padding=layer.padding,
                                 use_bias=False, name=layer.name)
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            twin = layers.AveragePooling2D(layer.pool_size, strides=layer.strides, padding=layer.padding, name=layer.name)
        else:
            continue
        x = twin(x)
        built.append(twin)
    twin_model = keras.Model(inputs, x)
    for twin in built:
        if twin.weights:
            kernel = twin.weights[0]
            kernel.assign(rng.uniform(0.5, 1.5, kernel.shape).astype("float32"))
    return twin_model


def empirical_receptive_field(model, layer: str, row: int, col: int, image: np.ndarray | None = None) -> np.ndarray:
    """Boolean (H, W) mask of the input pixels whose gradient on cell (row, col) of ``layer`` is non-zero.

    The cell's value is summed over its channels. ``image`` (H, W) or (H, W, 1) is the point where
    the gradient is taken (default: mid-gray); use a :func:`geometry_twin` for the exact field.
    """
    import keras
    import tensorflow as tf

    probe = keras.Model(model.inputs, model.get_layer(layer).output)
    shape = tuple(model.input_shape[1:])
    x = np.full((1, *shape), 0.5, np.float32) if image is None else np.asarray(image, np.float32).reshape(1, *shape)
    x = tf.Variable(x)
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(probe(x, training=False)[0, row, col])
    gradient = tape.gradient(value, x).numpy()[0]
    return np.abs(gradient).sum(axis=-1) > 0
