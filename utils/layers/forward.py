"""A whole CNN's forward pass with only the numpy layers of :mod:`utils.layers`.

:func:`layer_specs` reads the layers of a Keras model (a ``Sequential``, or a functional
model whose layers form one chain) with their configuration and weights;
:func:`forward` then runs them on numpy arrays. Equal probabilities from
``forward(layer_specs(model), x)`` and ``model.predict(x)`` show that nothing in a CNN's
prediction is hidden: it is convolutions, ReLUs, pooling, a reshape, matrix products
and a softmax. This module does not import Keras; it reads what the model object offers.

Lesson 03 (section 6, "All together: a CNN in numpy only") uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from utils.layers.activations import relu, softmax
from utils.layers.convolution import conv2d
from utils.layers.dense import dense, flatten
from utils.layers.pooling import average_pool2d, global_average_pool2d, global_max_pool2d, max_pool2d

#: Keras layer classes that :func:`forward` can run (inference mode).
SUPPORTED_LAYERS = (
    "InputLayer", "Rescaling", "Conv2D", "BatchNormalization", "ReLU", "Activation",
    "MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling2D",
    "Flatten", "Dropout", "Dense", "Softmax",
)
ACTIVATIONS = {"linear": lambda x: x, "relu": relu, "softmax": softmax}


@dataclass(frozen=True)
class LayerSpec:
    """One layer to run: its Keras class name, its config and its weights (Keras layout)."""

    kind: str
    name: str
    config: dict = field(default_factory=dict)
    weights: tuple[np.ndarray, ...] = ()


def _activation(config: dict, layer: str):
    name = config.get("activation", "linear") or "linear"
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"layer {layer!r}: activation {name!r} is not supported here (supported: {sorted(ACTIVATIONS)})")
    return ACTIVATIONS[name]


def _strides(value) -> int | tuple[int, int]:
    """Keras stores strides as a tuple (or an int); conv2d takes either."""
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else int(value)


def layer_specs(model) -> list[LayerSpec]:
    """The layers of a Keras model as :class:`LayerSpec` objects, checked to be runnable by :func:`forward`."""
    layers = getattr(model, "layers", None)
    if layers is None:
        raise ValueError(f"expected a Keras model (with .layers), got {type(model).__name__}")
    specs = []
    for layer in layers:
        kind = type(layer).__name__
        if kind not in SUPPORTED_LAYERS:
            raise ValueError(
                f"layer {layer.name!r} is a {kind}, which the numpy forward pass does not implement; "
                f"supported layers: {', '.join(SUPPORTED_LAYERS)}"
            )
        config = layer.get_config()
        if config.get("data_format", "channels_last") != "channels_last":
            raise ValueError(f"layer {layer.name!r}: only channels_last (Keras's default) is supported")
        if kind == "Conv2D" and tuple(config.get("dilation_rate", (1, 1))) != (1, 1):
            raise ValueError(f"layer {layer.name!r}: dilated convolutions are not supported")
        if kind == "Conv2D" and config.get("groups", 1) != 1:
            raise ValueError(f"layer {layer.name!r}: grouped convolutions are not supported")
        spec = LayerSpec(kind, layer.name, config, tuple(np.asarray(w) for w in layer.get_weights()))
        if kind in ("Conv2D", "Dense", "Activation"):
            _activation(config, layer.name)  # fail now rather than half-way through a forward pass
        specs.append(spec)
    return specs


def _run(spec: LayerSpec, x: np.ndarray) -> np.ndarray:
    c, w = spec.config, spec.weights
    kind = spec.kind
    if kind in ("InputLayer", "Dropout"):  # dropout does nothing at inference
        return x
    if kind == "Rescaling":
        return x * c["scale"] + c["offset"]
    if kind == "Conv2D":
        bias = w[1] if c.get("use_bias", True) else None
        out = conv2d(x, w[0], bias, stride=_strides(c["strides"]), padding=c["padding"])
        return _activation(c, spec.name)(out)
    if kind == "Dense":
        bias = w[1] if c.get("use_bias", True) else None
        return _activation(c, spec.name)(dense(x, w[0], bias))
    if kind == "BatchNormalization":
        names = [n for n, on in (("gamma", c.get("scale", True)), ("beta", c.get("center", True))) if on]
        params = dict(zip(names + ["moving_mean", "moving_variance"], w))
        normalised = (x - params["moving_mean"]) / np.sqrt(params["moving_variance"] + c["epsilon"])
        return normalised * params.get("gamma", 1.0) + params.get("beta", 0.0)
    if kind == "ReLU":
        if c.get("max_value") is not None or c.get("negative_slope", 0.0) or c.get("threshold", 0.0):
            raise ValueError(f"layer {spec.name!r}: only the plain ReLU is supported (no max_value, slope or threshold)")
        return relu(x)
    if kind == "Activation":
        return _activation(c, spec.name)(x)
    if kind == "Softmax":
        return softmax(x, axis=c.get("axis", -1))
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        pool = max_pool2d if kind == "MaxPooling2D" else average_pool2d
        return pool(x, tuple(c["pool_size"]), tuple(c["strides"] or c["pool_size"]), c["padding"])
    if kind == "GlobalMaxPooling2D":
        return global_max_pool2d(x)
    if kind == "GlobalAveragePooling2D":
        return global_average_pool2d(x)
    if kind == "Flatten":
        return flatten(x)
    raise ValueError(f"layer {spec.name!r}: {kind} is not supported")


def forward(specs: list[LayerSpec], inputs, return_intermediates: bool = False):
    """Run ``inputs`` ``(N, H, W, C)`` through the layers, in inference mode, with numpy only.

    Returns the last layer's output (the probabilities, for a classifier), or with
    ``return_intermediates=True`` a list of ``(layer name, output)`` pairs, one per layer.
    """
    x = np.asarray(inputs)
    if x.ndim != 4:
        raise ValueError(f"forward expects a batch of images (N, H, W, C), got shape {x.shape}; add the batch axis with x[np.newaxis]")
    x = x.astype(np.float32, copy=False) if not np.issubdtype(x.dtype, np.floating) else x
    trace = []
    for spec in specs:
        try:
            x = _run(spec, x)
        except ValueError as error:
            raise ValueError(f"numpy forward pass, layer {spec.name!r} ({spec.kind}): {error}") from error
        trace.append((spec.name, x))
    return trace if return_intermediates else x
