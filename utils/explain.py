"""Looking inside the course's CNN: feature maps of any layer, and Grad-CAM heatmaps.

- :func:`feature_layer_names` the layers whose outputs are worth showing: for every
  convolution, its rectified output (the ReLU after it, which the next layer reads)
- :func:`feature_maps`        one forward pass that returns the maps of several layers at once
- :func:`grad_cam`            which regions of a face drove the score of an emotion
  (Selvaraju et al., 2017, "Grad-CAM: Visual Explanations from Deep Networks via
  Gradient-based Localization"), as a heatmap in [0, 1] at the input's 48x48
- :func:`overlay_heatmap`     a heatmap laid over a grayscale face, in colour, for display

Grad-CAM in four steps, for a face, a class ``c`` and a layer with maps ``A^k`` (``k`` the channel):

1. the class score ``y_c`` is the logit of ``c`` (before softmax: the softmax would couple
   every class to every other and saturate near probability 1);
2. the gradient ``dy_c / dA^k`` says, for every cell of every map, how much the score rises
   when that cell does;
3. its average over the cells is the weight of channel ``k``: ``alpha_k = mean_ij dy_c / dA^k_ij``;
4. the heatmap is ``ReLU(sum_k alpha_k A^k)`` (only evidence *for* the class), scaled to
   [0, 1] and resized from the layer's resolution (3x3 .. 48x48) to 48x48.

Lesson 04 (section 6, "Looking inside") explains feature maps and Grad-CAM.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import cv2
import numpy as np

from utils.constants import IMAGE_SIZE, NUM_CLASSES
from utils.models import preprocess

_ACTIVATIONS = ("ReLU", "Activation", "LeakyReLU", "ELU")
_CONVOLUTIONS = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")
_SUBMODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _kind(layer) -> str:
    return type(layer).__name__


def _is_map_layer(layer) -> bool:
    """True for layers that output a batch of 2D feature maps ``(N, H, W, C)``."""
    shape = getattr(layer, "output", None)
    shape = getattr(shape, "shape", None)
    return shape is not None and len(shape) == 4


def conv_layer_names(model) -> list[str]:
    """The names of the model's convolution layers, input to output."""
    return [layer.name for layer in model.layers if _kind(layer) in _CONVOLUTIONS]


def feature_layer_names(model) -> list[str]:
    """For every convolution, the layer whose output to show: the ReLU that follows it (the
    rectified maps the next layer reads) when there is one before the next convolution or
    pooling, else the convolution itself. Input to output.
    """
    layers = model.layers
    names = []
    for index, layer in enumerate(layers):
        if _kind(layer) not in _CONVOLUTIONS:
            continue
        chosen = layer.name
        for later in layers[index + 1:]:
            if _kind(later) in _CONVOLUTIONS or "Pooling" in _kind(later) or not _is_map_layer(later):
                break
            if _kind(later) in _ACTIVATIONS:
                chosen = later.name
        names.append(chosen)
    if not names:
        raise ValueError(f"model {model.name!r} has no convolution layer: there are no feature maps to show")
    return names


def default_cam_layer(model) -> str:
    """Grad-CAM's usual layer: the last convolution's rectified output (the most abstract maps)."""
    return feature_layer_names(model)[-1]


def _check_layer(model, name: str):
    try:
        layer = model.get_layer(name)
    except ValueError:
        raise ValueError(
            f"model {model.name!r} has no layer {name!r}; layers with feature maps: {feature_layer_names(model)}"
        ) from None
    if not _is_map_layer(layer):
        raise ValueError(
            f"layer {name!r} outputs shape {tuple(layer.output.shape)}, not feature maps (N, H, W, C); "
            f"choose one of {feature_layer_names(model)}"
        )
    return layer


def _submodel(model, outputs: tuple[str, ...], with_logits: bool):
    """A Keras model from the same input to the named layers' outputs (+ the classifier's input), cached."""
    import keras

    cache = _SUBMODELS.setdefault(model, {})
    key = (outputs, with_logits)
    if key not in cache:
        tensors = [model.get_layer(name).output for name in outputs]
        if with_logits:
            tensors.append(model.layers[-1].input)
        cache[key] = keras.Model(model.input, tensors, name=f"{model.name}_inside")
    return cache[key]


def feature_maps(model, face: np.ndarray, layer_names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The feature maps ``(H, W, C)`` of one face at every named layer (default: :func:`feature_layer_names`).

    ``face`` is uint8 ``(48, 48[, 1])`` or float in [0, 1], as for :func:`utils.models.predict_proba`.
    One forward pass in inference mode (dropout off) gives all of them.
    """
    x, _ = _as_batch(face)
    if len(x) != 1:
        raise ValueError(f"feature_maps takes one face, got {len(x)}; pass faces[i]")
    names = tuple(layer_names) if layer_names is not None else tuple(feature_layer_names(model))
    if not names:
        raise ValueError("give at least one layer name")
    for name in names:
        _check_layer(model, name)
    outputs = _submodel(model, names, with_logits=False)(x, training=False)
    if len(names) == 1:
        outputs = [outputs]
    return {name: np.asarray(out)[0] for name, out in zip(names, outputs)}


def _as_batch(faces: np.ndarray) -> tuple[np.ndarray, bool]:
    """Float32 faces ``(N, 48, 48, 1)`` in [0, 1], and whether a single face ``(48, 48[, 1])`` was given."""
    faces = np.asarray(faces)
    single = faces.ndim == 2 or (faces.ndim == 3 and faces.shape[-1] == 1 and faces.shape[0] != 1 and faces.shape[:2] == (IMAGE_SIZE, IMAGE_SIZE))
    return preprocess(faces[np.newaxis] if single and faces.ndim == 3 else faces), single


def _logits(features, classifier):
    """The class scores before softmax, from the last dense layer's input and weights."""
    import keras

    if _kind(classifier) != "Dense":
        raise ValueError(f"the model's last layer is a {_kind(classifier)}, not the Dense softmax layer Grad-CAM needs")
    kernel, bias = classifier.kernel, classifier.bias
    logits = keras.ops.matmul(features, kernel)
    return logits + bias if bias is not None else logits


def grad_cam(model, faces: np.ndarray, class_index: int | Sequence[int] | None = None, *,
             layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM heatmaps: float32 in [0, 1], ``(48, 48)`` for one face or ``(N, 48, 48)`` for a batch.

    ``class_index``: the emotion to explain, one for all faces or one per face (default: each
    face's predicted class). ``layer_name``: the layer whose maps are weighted (default:
    :func:`default_cam_layer`). A heatmap is all zeros when nothing in the layer speaks for
    the class. Raises ``ValueError`` for a bad layer, class or face shape.
    """
    x, single = _as_batch(faces)
    if len(x) == 0:
        raise ValueError("grad_cam needs at least one face")
    name = layer_name if layer_name is not None else default_cam_layer(model)
    _check_layer(model, name)
    if class_index is None:
        classes, use_predicted = np.zeros(len(x), np.int32), True
    else:
        requested = np.asarray(class_index)
        if not np.issubdtype(requested.dtype, np.integer) or requested.min() < 0 or requested.max() >= NUM_CLASSES:
            raise ValueError(f"class_index must be an integer 0..{NUM_CLASSES - 1} (or one per face), got {class_index!r}")
        try:
            classes = np.broadcast_to(requested, (len(x),)).astype(np.int32)
        except ValueError:
            raise ValueError(f"class_index must be one integer or one per face ({len(x)}), got shape {requested.shape}") from None
        use_predicted = False
    maps, gradients = _cam_gradients(model, name)(x, classes, use_predicted)
    maps, gradients = maps.numpy(), gradients.numpy()
    weights = gradients.mean(axis=(1, 2), keepdims=True)           # alpha_k: one weight per channel
    cams = np.maximum((weights * maps).sum(axis=-1), 0.0)          # ReLU(sum_k alpha_k A^k)
    heatmaps = np.stack([_to_unit_square(cam, x.shape[1:3]) for cam in cams])
    return heatmaps[0] if single else heatmaps


def _cam_gradients(model, name: str):
    """A traced TensorFlow function: faces, classes -> (the layer's maps, d logit[class] / d maps), cached per model and layer.

    Traced once: run eagerly, the tape would call the model layer by layer from Python,
    several times slower for one face.
    """
    import tensorflow as tf

    cache = _SUBMODELS.setdefault(model, {})
    key = ("grad_cam", name)
    if key not in cache:
        inside = _submodel(model, (name,), with_logits=True)
        classifier = model.layers[-1]
        if _kind(classifier) != "Dense":
            raise ValueError(f"the model's last layer is a {_kind(classifier)}, not the Dense softmax layer Grad-CAM needs")
        signature = [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32), tf.TensorSpec((None,), tf.int32),
                     tf.TensorSpec((), tf.bool)]

        @tf.function(input_signature=signature)
        def gradients(x, classes, use_predicted):
            with tf.GradientTape() as tape:
                maps, features = inside(x, training=False)
                tape.watch(maps)
                logits = _logits(features, classifier)
                chosen = tf.where(use_predicted, tf.argmax(logits, axis=1, output_type=tf.int32), classes)
                scores = tf.gather(logits, chosen, axis=1, batch_dims=1)
            return maps, tape.gradient(scores, maps)

        cache[key] = gradients
    return cache[key]


def _to_unit_square(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a coarse map to the input size (bilinear: each cell becomes a smooth blob) and scale to [0, 1]."""
    cam = cv2.resize(cam.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    cam = np.maximum(cam, 0.0)
    peak = float(cam.max())
    if not np.isfinite(peak) or peak <= 1e-12:
        return np.zeros(size, dtype=np.float32)
    return (cam / peak).astype(np.float32)


def overlay_heatmap(face: np.ndarray, heatmap: np.ndarray, *, alpha: float = 0.45, zoom: int = 1) -> np.ndarray:
    """A uint8 RGB image: the grayscale face with the heatmap in colour on top (red = strong).

    ``face``: uint8 or float in [0, 1], ``(H, W)`` or ``(H, W, 1)``; ``heatmap``: values in [0, 1]
    of any size (it is resized to the face). ``zoom`` enlarges the result (nearest neighbour).
    """
    face = np.asarray(face)
    if face.ndim == 3 and face.shape[2] == 1:
        face = face[..., 0]
    if face.ndim != 2:
        raise ValueError(f"expected a grayscale face (H, W) or (H, W, 1), got shape {face.shape}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha (the heatmap's opacity) must lie in [0, 1], got {alpha}")
    heatmap = np.asarray(heatmap, dtype=np.float32)
    if heatmap.ndim != 2 or not np.isfinite(heatmap).all():
        raise ValueError(f"expected a finite 2D heatmap, got shape {heatmap.shape}")
    gray = face if face.dtype == np.uint8 else np.clip(np.round(face.astype(np.float32) * 255), 0, 255).astype(np.uint8)
    heatmap = cv2.resize(np.clip(heatmap, 0, 1), (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    colour = cv2.applyColorMap(np.round(heatmap * 255).astype(np.uint8), cv2.COLORMAP_JET)
    base = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    blended = cv2.addWeighted(colour, alpha, base, 1 - alpha, 0)
    if zoom > 1:
        blended = cv2.resize(blended, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    return cv2.cvtColor(blended, cv2.COLOR_BGR2RGB)


__all__ = ["conv_layer_names", "default_cam_layer", "feature_layer_names", "feature_maps", "grad_cam", "overlay_heatmap"]


# --------------------------------------------------------------------------- evidence for "edges -> parts"


def top_activating_patches(model, faces: np.ndarray, layer_name: str, channel: int, *, k: int = 9,
                           batch_size: int = 256) -> tuple[np.ndarray, list[tuple[int, int, int, int, int]], np.ndarray]:
    """The ``k`` face patches that excite one channel of a layer the most, cropped to the cell's receptive field.

    For every face the strongest cell of the channel is found; the ``k`` faces with the
    strongest such cells give their patch (the cell's receptive field, clipped at the face's
    border, from :mod:`utils.receptive_field`). Returns ``(patches, boxes, values)``: the patches
    as a list-like object array of uint8 crops (sizes differ at the border), boxes as
    ``(face_index, top, left, bottom, right)`` and the activation values, strongest first.
    """
    from utils.receptive_field import receptive_field_table

    _check_layer(model, layer_name)
    x = preprocess(np.asarray(faces))
    probe = _submodel(model, (layer_name,), with_logits=False)
    maps = np.concatenate([np.asarray(probe(x[s:s + batch_size], training=False))[..., channel]
                           for s in range(0, len(x), batch_size)])
    best_cell = maps.reshape(len(x), -1).argmax(axis=1)
    best_value = maps.reshape(len(x), -1).max(axis=1)
    order = np.argsort(-best_value)[:k]
    fields = {row.layer: row for row in receptive_field_table(model)}
    field = _field_for(model, layer_name, fields)
    side = maps.shape[2]
    patches, boxes = [], []
    for index in order:
        row, col = divmod(int(best_cell[index]), side)
        top, left, bottom, right = field.box(row, col, x.shape[1])
        patches.append((x[index, top:bottom, left:right, 0] * 255).round().astype(np.uint8))
        boxes.append((int(index), top, left, bottom, right))
    holder = np.empty(len(patches), dtype=object)
    holder[:] = patches
    return holder, boxes, best_value[order]


def _field_for(model, layer_name: str, fields: dict):
    """The receptive field of ``layer_name``: its own row, or that of the last conv/pool layer before it
    (a ReLU or batch norm sees what the layer before it sees)."""
    if layer_name in fields:
        return fields[layer_name]
    last = None
    for layer in model.layers:
        if layer.name in fields:
            last = fields[layer.name]
        if layer.name == layer_name:
            break
    if last is None:
        raise ValueError(f"{layer_name} comes before any convolution: it has no receptive field to crop")
    return last


def maximise_activation(model, layer_name: str, channel: int, *, steps: int = 60, learning_rate: float = 0.05,
                        seed: int = 0, blur_every: int = 10) -> np.ndarray:
    """Activation maximisation: the 48x48 input, grown from faint noise, that excites one channel most.

    Gradient ascent on the channel's mean activation, with the input kept in [0, 1] and a
    light blur every ``blur_every`` steps (without it the ascent finds high-frequency noise
    that no face contains). Returns float32 ``(48, 48)`` in [0, 1].
    """
    import tensorflow as tf

    _check_layer(model, layer_name)
    probe = _submodel(model, (layer_name,), with_logits=False)
    rng = np.random.default_rng(seed)
    image = tf.Variable((0.5 + 0.05 * rng.standard_normal((1, *model.input_shape[1:]))).astype(np.float32))
    for step in range(1, steps + 1):
        with tf.GradientTape() as tape:
            score = tf.reduce_mean(probe(image, training=False)[..., channel])
        gradient = tape.gradient(score, image)
        gradient /= tf.sqrt(tf.reduce_mean(tf.square(gradient))) + 1e-8  # a step of fixed size
        image.assign(tf.clip_by_value(image + learning_rate * gradient, 0.0, 1.0))
        if blur_every and step % blur_every == 0 and step < steps:
            image.assign(cv2.GaussianBlur(image.numpy()[0, :, :, 0], (3, 3), 0.5)[None, :, :, None])
    return image.numpy()[0, :, :, 0]


def randomised_copy(model, *, seed: int = 0, from_layer: str | None = None):
    """A copy of ``model`` whose weights from ``from_layer`` (default: all) to the output are re-drawn at random.

    The sanity check of Adebayo et al. (2018): an explanation that looks the same for the
    trained network and for one with random weights says nothing about what was learned.
    """
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    rng = np.random.default_rng(seed)
    started = from_layer is None
    for layer in copy.layers:
        started = started or layer.name == from_layer
        if not started or not layer.weights:
            continue
        if _kind(layer) in ("Conv2D", "Dense"):
            kernel = layer.kernel
            fan_in = int(np.prod(kernel.shape[:-1]))
            kernel.assign(rng.normal(0, np.sqrt(2 / fan_in), kernel.shape).astype("float32"))
    if from_layer is not None and not started:
        raise ValueError(f"no layer named {from_layer!r} in {model.name}")
    return copy


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two heatmaps (1: same ordering of the pixels, 0: unrelated)."""
    ranks_a = np.argsort(np.argsort(np.ravel(a))).astype(np.float64)
    ranks_b = np.argsort(np.argsort(np.ravel(b))).astype(np.float64)
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])
