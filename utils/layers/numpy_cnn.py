"""A tiny CNN trained with numpy only: forward, backward (chain rule) and SGD, no autodiff.

The network: ``conv (K x K, F filters) -> ReLU -> 2x2 max pooling -> flatten -> dense -> softmax``,
its parameters a dict ``{"conv_w", "conv_b", "dense_w", "dense_b"}`` in Keras's layouts.
:func:`cnn_forward` keeps what the backward pass needs (a "cache"), :func:`cnn_backward`
walks the layers in reverse with :mod:`utils.layers.backward`, :func:`train_cnn` runs
mini-batch SGD (with momentum) over epochs. :func:`keras_twin` builds the same network in
Keras with the same weights, so a lesson can compare the two learning curves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from utils.layers.activations import relu
from utils.layers.backward import (
    conv2d_backward,
    dense_backward,
    flatten_backward,
    max_pool2d_backward,
    relu_backward,
    softmax_cross_entropy,
    softmax_cross_entropy_backward,
)
from utils.layers.convolution import conv2d, conv_output_size
from utils.layers.dense import dense, flatten
from utils.layers.optim import SGD
from utils.layers.pooling import average_pool2d, max_pool2d, pooled_size

PARAMETERS = ("conv_w", "conv_b", "dense_w", "dense_b")


def _glorot(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    """Keras's default initialiser: uniform in ``+-sqrt(6 / (fan_in + fan_out))``."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def init_cnn(input_shape=(24, 24, 1), filters: int = 8, kernel_size: int = 3, classes: int = 7,
             padding: str = "same", seed: int = 0, dtype=np.float32) -> dict[str, np.ndarray]:
    """Initial parameters: Glorot-uniform kernels (as Keras initialises them) and zero biases."""
    height, width, channels = (int(s) for s in input_shape)
    rng = np.random.default_rng(seed)
    out_h = pooled_size(conv_output_size(height, kernel_size, 1, padding), 2, 2)
    out_w = pooled_size(conv_output_size(width, kernel_size, 1, padding), 2, 2)
    features = out_h * out_w * filters
    k2 = kernel_size * kernel_size
    return {
        "conv_w": _glorot(rng, (kernel_size, kernel_size, channels, filters), k2 * channels, k2 * filters).astype(dtype),
        "conv_b": np.zeros(filters, dtype=dtype),
        "dense_w": _glorot(rng, (features, classes), features, classes).astype(dtype),
        "dense_b": np.zeros(classes, dtype=dtype),
    }


def _check_params(params) -> None:
    missing = [name for name in PARAMETERS if name not in params]
    if missing:
        raise KeyError(f"the parameters need {list(PARAMETERS)}; missing {missing} (make them with init_cnn)")


def cnn_forward(params: dict[str, np.ndarray], images, padding: str = "same") -> tuple[np.ndarray, dict]:
    """Logits ``(N, classes)`` of a batch ``(N, H, W, C)`` and the cache of every layer's input."""
    _check_params(params)
    x = np.asarray(images)
    if x.ndim != 4:
        raise ValueError(f"cnn_forward expects a batch (N, H, W, C), got shape {x.shape}")
    conv = conv2d(x, params["conv_w"], params["conv_b"], padding=padding)
    activated = relu(conv)
    pooled = max_pool2d(activated, 2)
    flat = flatten(pooled)
    if flat.shape[1] != params["dense_w"].shape[0]:
        raise ValueError(f"the images give {flat.shape[1]} features but dense_w expects {params['dense_w'].shape[0]}: "
                         "make the parameters with init_cnn for this image size and padding")
    logits = dense(flat, params["dense_w"], params["dense_b"])
    return logits, {"x": x, "conv": conv, "activated": activated, "pooled": pooled, "flat": flat, "padding": padding}


def cnn_backward(params: dict[str, np.ndarray], cache: dict, logits: np.ndarray, labels) -> tuple[float, dict]:
    """The mean cross-entropy and its gradient for every parameter, by the chain rule, last layer first."""
    loss = softmax_cross_entropy(logits, labels)
    g = softmax_cross_entropy_backward(logits, labels)                     # dL/dlogits = (p - y) / N
    g, dense_w, dense_b = dense_backward(g, cache["flat"], params["dense_w"])
    g = flatten_backward(g, cache["pooled"].shape)
    g = max_pool2d_backward(g, cache["activated"], 2)                       # to each window's maximum
    g = relu_backward(g, cache["conv"])                                     # 0 where the conv output was <= 0
    _, conv_w, conv_b = conv2d_backward(g, cache["x"], params["conv_w"], padding=cache["padding"],
                                        input_gradient=False)               # the image needs no gradient
    grads = {"conv_w": conv_w, "conv_b": conv_b, "dense_w": dense_w, "dense_b": dense_b}
    return loss, {name: grads[name].astype(params[name].dtype, copy=False) for name in PARAMETERS}


def predict(params: dict[str, np.ndarray], images, padding: str = "same", batch_size: int = 500) -> np.ndarray:
    """Predicted classes ``(N,)``, computed in batches."""
    x = np.asarray(images)
    return np.concatenate([cnn_forward(params, x[i:i + batch_size], padding)[0].argmax(axis=1)
                           for i in range(0, len(x), batch_size)]) if len(x) else np.zeros(0, dtype=np.int64)


def accuracy(params: dict[str, np.ndarray], images, labels, padding: str = "same") -> float:
    """Share of images whose predicted class is the label."""
    return float(np.mean(predict(params, images, padding) == np.asarray(labels)))


def prepare_faces(images, factor: int = 2) -> np.ndarray:
    """uint8 faces ``(N, 48, 48, 1)`` -> float32 in [0, 1], shrunk ``factor`` times by average pooling (48 -> 24)."""
    x = np.asarray(images, dtype=np.float32) / 255.0
    return average_pool2d(x, factor) if factor > 1 else x


@dataclass
class History:
    """What :func:`train_cnn` returns: the trained parameters and the curves."""

    params: dict[str, np.ndarray]
    step_losses: list[float] = field(default_factory=list)        # one per mini-batch
    epoch_losses: list[float] = field(default_factory=list)       # mean over each epoch's mini-batches
    train_accuracy: list[float] = field(default_factory=list)     # after each epoch
    val_accuracy: list[float] = field(default_factory=list)       # after each epoch, when validation data is given
    val_losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def batches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch's mini-batches: a fresh random order of ``0..n-1`` cut into ``batch_size`` pieces (the last may be smaller)."""
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def train_cnn(params: dict[str, np.ndarray], images, labels, *, epochs: int = 3, batch_size: int = 32,
              learning_rate: float = 0.05, momentum: float = 0.9, nesterov: bool = False, validation=None,
              padding: str = "same", seed: int = 0, optimizer=None) -> History:
    """Mini-batch SGD on the tiny CNN: for every epoch, for every batch, forward, backward, step.

    ``params`` are copied (the caller's stay as they were). ``validation`` ``(images, labels)``
    adds the held-out accuracy and loss after each epoch. ``optimizer`` (e.g.
    :class:`~utils.layers.optim.Adam`) replaces the default ``SGD(learning_rate, momentum, nesterov)``.
    """
    x, y = np.asarray(images), np.asarray(labels)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"need as many labels as images (and at least one), got {len(x)} images and {len(y)} labels")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be at least 1, got {epochs} and {batch_size}")
    params = {name: np.array(params[name]) for name in PARAMETERS}
    opt = optimizer if optimizer is not None else SGD(learning_rate, momentum, nesterov)
    rng = np.random.default_rng(seed)
    history = History(params)
    start = time.perf_counter()
    for _ in range(epochs):
        losses = []
        for batch in batches(len(x), batch_size, rng):
            logits, cache = cnn_forward(params, x[batch], padding)
            loss, grads = cnn_backward(params, cache, logits, y[batch])
            if not np.isfinite(loss):
                raise FloatingPointError("the loss became NaN or infinite: the learning rate is too large")
            opt.step(params, grads)
            losses.append(loss)
        history.step_losses += losses
        history.epoch_losses.append(float(np.mean(losses)))
        history.train_accuracy.append(accuracy(params, x, y, padding))
        if validation is not None:
            val_x, val_y = validation
            history.val_accuracy.append(accuracy(params, val_x, val_y, padding))
            history.val_losses.append(softmax_cross_entropy(cnn_forward(params, np.asarray(val_x), padding)[0], val_y))
    history.seconds = time.perf_counter() - start
    return history


def keras_twin(params: dict[str, np.ndarray], input_shape=(24, 24, 1), padding: str = "same"):
    """The same network in Keras, with the same weights; its output is the logits (use ``from_logits=True``).

    ``Conv2D(F, K, padding) -> ReLU -> MaxPooling2D(2) -> Flatten -> Dense(classes)``.
    """
    import keras  # only here: the rest of this module is numpy

    _check_params(params)
    k, _, _, filters = params["conv_w"].shape
    model = keras.Sequential([
        keras.Input(tuple(input_shape)),
        keras.layers.Conv2D(filters, k, padding=padding, name="conv"),
        keras.layers.ReLU(name="relu"),
        keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(params["dense_w"].shape[1], name="dense"),
    ], name="tiny_cnn")
    model.get_layer("conv").set_weights([params["conv_w"], params["conv_b"]])
    model.get_layer("dense").set_weights([params["dense_w"], params["dense_b"]])
    return model


def train_keras_twin(params: dict[str, np.ndarray], images, labels, *, epochs: int = 3, batch_size: int = 32,
                     learning_rate: float = 0.05, momentum: float = 0.9, nesterov: bool = False, validation=None,
                     padding: str = "same", seed: int = 0) -> History:
    """:func:`train_cnn`'s run done by Keras: same initial weights, same mini-batches in the same order, same SGD.

    ``model.train_on_batch`` on every batch of :func:`batches` (same ``seed``); the curves
    should lie on top of :func:`train_cnn`'s (up to float32 rounding), which shows that
    ``fit`` does nothing more than forward, backward and step.
    """
    import keras

    x, y = np.asarray(images), np.asarray(labels)
    model = keras_twin(params, x.shape[1:], padding)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=float(momentum), nesterov=nesterov),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(seed)
    history = History({})
    start = time.perf_counter()

    def weights() -> dict[str, np.ndarray]:
        return dict(zip(PARAMETERS, (np.asarray(w) for w in model.get_weights())))

    for _ in range(epochs):
        losses = []
        for batch in batches(len(x), batch_size, rng):
            logits = np.asarray(model(x[batch], training=False))  # the loss before the step, as train_cnn records it
            losses.append(softmax_cross_entropy(logits, y[batch]))
            model.train_on_batch(x[batch], y[batch])
        history.step_losses += losses
        history.epoch_losses.append(float(np.mean(losses)))
        history.train_accuracy.append(accuracy(weights(), x, y, padding))
        if validation is not None:
            val_x, val_y = validation
            history.val_accuracy.append(accuracy(weights(), val_x, val_y, padding))
            history.val_losses.append(softmax_cross_entropy(cnn_forward(weights(), np.asarray(val_x), padding)[0], val_y))
    history.params = weights()
    history.seconds = time.perf_counter() - start
    return history
