"""The course's emotion CNN: build it, count its parameters, save, load and predict.

The model is a small VGG-style network (Simonyan & Zisserman, 2014): blocks of
``convolution -> batch normalisation -> ReLU`` (twice), then max-pooling and dropout;
after the last block a global average pooling (or a flatten), one dense layer with
dropout, and a softmax over the seven emotions of :data:`utils.data.EMOTIONS`.

Every parameter count can be traced to three formulas (see :func:`parameter_table`):

- convolution  ``(K*K*C_in + 1) * C_out``  (a K x K x C_in kernel plus one bias per filter)
- dense        ``(n_in + 1) * n_out``
- batch norm   ``4 * C``  (gamma, beta trainable; moving mean, moving variance not)

The prediction pipeline (:func:`predict_proba`) is the one used everywhere -- the
lesson, ``python -m utils.evaluate`` and the web demo: uint8 faces ``(N, 48, 48, 1)``
-> float32 in [0, 1] -> probabilities, averaged with those of the mirrored faces
(test-time augmentation: a face and its mirror image show the same emotion).

Lesson 04 (section 2, "The model, block by block") explains the builder and the formulas.
"""

from __future__ import annotations

import json
import os
import weakref
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from utils.constants import EMOTIONS, IMAGE_SIZE, INPUT_SHAPE, NUM_CLASSES, PROJECT_ROOT  # noqa: F401  (re-exported)
from utils.errors import CourseError
from utils.layers.convolution import conv_params  # noqa: F401  (re-exported: lesson 04 counts with it)
from utils.layers.dense import dense_parameter_count

#: Where the trained model of the course lives (written only by hand, from a run folder).
SHIPPED_MODEL_PATH = PROJECT_ROOT / "models" / "emotion_cnn.keras"

#: Test-time augmentation of the shipped pipeline: average with the mirrored face.
SHIPPED_FLIP_TTA = True


class ModelError(CourseError):
    """A model that cannot be used, with a message that says what is wrong and what to do."""


class ArchitectureError(ModelError, ValueError):
    """Architecture settings the builder refuses (a ValueError too, as before it existed)."""


# --------------------------------------------------------------------------- architecture


@dataclass(frozen=True)
class Architecture:
    """The choices that define the CNN; ``models/recipe.json`` stores them under ``"model"``.

    ``filters[i]`` is the number of filters of every convolution in block ``i``;
    ``block_dropout[i]`` the dropout rate after block ``i``'s pooling.
    ``pool[i]`` says whether block ``i`` ends with a 2x2 max-pooling (default: every block).
    A 2x2 pooling of stride 2 on maps of odd size never reads their last row and column,
    so such a configuration is refused (see :func:`feature_map_sizes`).
    ``head`` is ``"global_average"`` (one number per feature map) or ``"flatten"``.
    """

    filters: tuple[int, ...] = (32, 64, 128, 256)
    convs_per_block: int = 2
    kernel_size: int = 3
    block_dropout: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4)
    head: str = "global_average"
    dense_units: int = 256
    dense_dropout: float = 0.5
    batch_norm: bool = True
    pool: tuple[bool, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", tuple(int(f) for f in self.filters))
        object.__setattr__(self, "block_dropout", tuple(float(d) for d in self.block_dropout))
        pool = (True,) * len(self.filters) if self.pool is None else tuple(bool(p) for p in self.pool)
        object.__setattr__(self, "pool", pool)
        if not self.filters or any(f < 1 for f in self.filters):
            raise ArchitectureError(f"filters must be a non-empty list of positive integers, got {self.filters}")
        if len(self.block_dropout) != len(self.filters):
            raise ArchitectureError(
                f"block_dropout needs one rate per block: {len(self.filters)} blocks, "
                f"{len(self.block_dropout)} rates ({self.block_dropout})"
            )
        if any(not 0 <= d < 1 for d in (*self.block_dropout, self.dense_dropout)):
            raise ArchitectureError("dropout rates must lie in [0, 1)")
        if self.head not in ("global_average", "flatten"):
            raise ArchitectureError(f"head must be 'global_average' or 'flatten', got {self.head!r}")
        if self.convs_per_block < 1 or self.kernel_size < 1 or self.dense_units < 1:
            raise ArchitectureError("convs_per_block, kernel_size and dense_units must be positive")
        if len(self.pool) != len(self.filters):
            raise ArchitectureError(
                f"pool needs one true/false per block: {len(self.filters)} blocks, {len(self.pool)} values ({self.pool})"
            )
        size = IMAGE_SIZE
        for block, pooled in enumerate(self.pool, start=1):
            if not pooled:
                continue
            if size < 2:
                raise ArchitectureError(
                    f"block {block}'s 2x2 max-pooling has {size}x{size} maps to pool: {sum(self.pool)} pooling "
                    "blocks shrink a 48x48 image to nothing. Use fewer blocks or set their 'pool' to false."
                )
            if size % 2:
                lost = size * size - (size - 1) * (size - 1)
                raise ArchitectureError(
                    f"block {block}'s 2x2 max-pooling would turn {size}x{size} maps into {size // 2}x{size // 2} "
                    f"and never read their last row and column ({lost} of {size * size} cells): those cells "
                    f"could not reach the classifier. Set block {block}'s 'pool' to false (\"pool\": "
                    f"{json.dumps([p if i != block - 1 else False for i, p in enumerate(self.pool)])}) or use fewer blocks."
                )
            size //= 2

    @classmethod
    def from_dict(cls, settings: dict) -> Architecture:
        """From the ``"model"`` section of a recipe; unknown keys are an error, not ignored."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ArchitectureError(f"unknown model settings {unknown}; known: {sorted(known)}")
        return cls(**settings)

    def feature_map_sizes(self) -> list[int]:
        """The side of the feature maps at the end of every block (48 -> 24 -> ... for pooled blocks)."""
        sizes, size = [], IMAGE_SIZE
        for pooled in self.pool:
            size = size // 2 if pooled else size
            sizes.append(size)
        return sizes

    def to_dict(self) -> dict:
        values = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def build_emotion_cnn(architecture: Architecture | None = None, *, name: str = "emotion_cnn"):
    """The course's CNN: input float32 ``(N, 48, 48, 1)`` in [0, 1], output 7 probabilities."""
    import keras
    from keras import layers

    arch = architecture or Architecture()
    inputs = keras.Input(shape=INPUT_SHAPE, name="face")
    x = inputs
    for block, (filters, rate, pooled) in enumerate(zip(arch.filters, arch.block_dropout, arch.pool), start=1):
        for conv in range(1, arch.convs_per_block + 1):
            x = layers.Conv2D(filters, arch.kernel_size, padding="same", name=f"block{block}_conv{conv}")(x)
            if arch.batch_norm:
                x = layers.BatchNormalization(name=f"block{block}_bn{conv}")(x)
            x = layers.ReLU(name=f"block{block}_relu{conv}")(x)
        if pooled:
            x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
        if rate > 0:
            x = layers.Dropout(rate, name=f"block{block}_dropout")(x)
    if arch.head == "global_average":
        x = layers.GlobalAveragePooling2D(name="global_average")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(arch.dense_units, activation="relu", name="dense")(x)
    if arch.dense_dropout > 0:
        x = layers.Dropout(arch.dense_dropout, name="dense_dropout")(x)
    # float32 even under a mixed policy: a softmax in bfloat16 rounds small probabilities away.
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="emotion", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- parameter formulas


def batchnorm_params(channels: int) -> int:
    """``4 * C``: gamma and beta are learned; the moving mean and variance are not."""
    return 4 * channels


@dataclass(frozen=True)
class ParameterRow:
    """One layer of :func:`parameter_table`: its name, output shape, formula and count."""

    layer: str
    output_shape: tuple[int, ...]
    formula: str
    parameters: int
    trainable: int = field(default=-1)

    def __post_init__(self) -> None:
        if self.trainable < 0:
            object.__setattr__(self, "trainable", self.parameters)


def parameter_table(architecture: Architecture | None = None) -> list[ParameterRow]:
    """Every layer with parameters or a shape change, its count worked out by formula.

    Computed without Keras, so a lesson can set it beside ``model.summary()``.
    """
    arch = architecture or Architecture()
    k, size, channels = arch.kernel_size, IMAGE_SIZE, 1
    rows: list[ParameterRow] = []
    for block, (filters, pooled) in enumerate(zip(arch.filters, arch.pool), start=1):
        for conv in range(1, arch.convs_per_block + 1):
            rows.append(ParameterRow(
                f"block{block}_conv{conv}", (size, size, filters),
                f"({k}*{k}*{channels} + 1) * {filters}", conv_params(k, channels, filters),
            ))
            if arch.batch_norm:
                rows.append(ParameterRow(
                    f"block{block}_bn{conv}", (size, size, filters), f"4 * {filters}",
                    batchnorm_params(filters), trainable=2 * filters,
                ))
            channels = filters
        if pooled:
            size //= 2
            rows.append(ParameterRow(f"block{block}_pool", (size, size, channels), "0 (no weights)", 0))
    features = channels if arch.head == "global_average" else size * size * channels
    head_name = "global_average" if arch.head == "global_average" else "flatten"
    rows.append(ParameterRow(head_name, (features,), "0 (no weights)", 0))
    rows.append(ParameterRow("dense", (arch.dense_units,), f"({features} + 1) * {arch.dense_units}",
                             dense_parameter_count(features, arch.dense_units)))
    rows.append(ParameterRow("emotion", (NUM_CLASSES,), f"({arch.dense_units} + 1) * {NUM_CLASSES}",
                             dense_parameter_count(arch.dense_units, NUM_CLASSES)))
    return rows


def count_parameters(architecture: Architecture | None = None) -> dict[str, int]:
    """Total, trainable and non-trainable parameters, from :func:`parameter_table`."""
    rows = parameter_table(architecture)
    total = sum(r.parameters for r in rows)
    trainable = sum(r.trainable for r in rows)
    return {"total": total, "trainable": trainable, "non_trainable": total - trainable}


def multiply_adds_per_face(architecture: Architecture | None = None) -> int:
    """Multiply-adds of one forward pass (convolutions and dense layers): the cost of a prediction."""
    arch = architecture or Architecture()
    k, size, channels, total = arch.kernel_size, IMAGE_SIZE, 1, 0
    for filters, pooled in zip(arch.filters, arch.pool):
        for _ in range(arch.convs_per_block):
            total += size * size * k * k * channels * filters
            channels = filters
        if pooled:
            size //= 2
    features = channels if arch.head == "global_average" else size * size * channels
    return total + features * arch.dense_units + arch.dense_units * NUM_CLASSES


# --------------------------------------------------------------------------- prediction


def preprocess(faces: np.ndarray) -> np.ndarray:
    """uint8 faces ``(N, 48, 48, 1)`` (or ``(N, 48, 48)``, or one face) -> float32 in [0, 1]."""
    faces = np.asarray(faces)
    if faces.ndim == 2:
        faces = faces[np.newaxis]
    if faces.ndim == 3:
        faces = faces[..., np.newaxis]
    if faces.ndim != 4 or faces.shape[1:] != INPUT_SHAPE:
        raise ValueError(
            f"expected faces of shape (N, 48, 48, 1) or (N, 48, 48), got {np.asarray(faces).shape}; "
            "crop and resize each face to 48x48 grayscale first (see utils.images)."
        )
    if faces.dtype == np.uint8:
        return faces.astype(np.float32) / 255.0
    if np.issubdtype(faces.dtype, np.floating):
        if faces.size and (faces.min() < 0 or faces.max() > 1):
            raise ValueError(
                f"float faces must already lie in [0, 1] (found {faces.min():.3g}..{faces.max():.3g}); "
                "pass uint8 images (0-255) instead and this function scales them."
            )
        return faces.astype(np.float32, copy=False)
    raise ValueError(f"faces must be uint8 (0-255) or float in [0, 1], got dtype {faces.dtype}")


def predict_proba(model, faces: np.ndarray, *, flip_tta: bool = SHIPPED_FLIP_TTA, batch_size: int = 512) -> np.ndarray:
    """Class probabilities ``(N, 7)`` of the shipped pipeline (preprocess, then flip-TTA)."""
    x = preprocess(faces)
    if len(x) == 0:
        return np.zeros((0, NUM_CLASSES), dtype=np.float32)
    if not flip_tta:
        return _predict_batches(model, x, batch_size)
    # A face and its mirror image show the same emotion: average the two opinions. Each chunk
    # of faces goes through the network together with its mirror images, in one call.
    chunk = max(1, batch_size // 2)
    outputs = []
    for start in range(0, len(x), chunk):
        part = x[start:start + chunk]
        both = _predict_batches(model, np.concatenate([part, part[:, :, ::-1, :]]), 2 * len(part))
        outputs.append((both[:len(part)] + both[len(part):]) / 2)
    return np.concatenate(outputs)


def predict_labels(model, faces: np.ndarray, **kwargs) -> np.ndarray:
    """The most probable emotion index of each face (see :func:`predict_proba`)."""
    return predict_proba(model, faces, **kwargs).argmax(axis=1)


def _predict_batches(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """``model(x)`` batch by batch, in inference mode (dropout off, batch-norm statistics frozen).

    Calling the model directly avoids ``model.predict``'s per-call set-up, which
    dominates when a demo predicts one face at a time.
    """
    forward = _compiled_forward(model)
    outputs = []
    for start in range(0, len(x), batch_size):
        batch = np.ascontiguousarray(x[start:start + batch_size])
        outputs.append(np.asarray(forward(batch)))
    return np.concatenate(outputs).astype(np.float32, copy=False)


_FORWARD_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: How the prediction pipeline computes: "auto" (bfloat16 where the CPU has native bfloat16,
#: else float32), "float32" or "bfloat16"; read from $FACEEXPR_INFERENCE_PRECISION.
INFERENCE_PRECISIONS = ("auto", "float32", "bfloat16")


def bfloat16_is_fast(cpuinfo: str | None = None) -> bool:
    """Whether this machine computes bfloat16 natively: a GPU, or a CPU with AVX-512 BF16 or AMX.

    ``cpuinfo`` is the text of /proc/cpuinfo (read when not given; other systems answer False,
    since emulated bfloat16 on a CPU is several times slower than float32).
    """
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return True
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags = set(cpuinfo.split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def inference_precision() -> str:
    """"float32" or "bfloat16": what :func:`predict_proba` computes in on this machine.

    $FACEEXPR_INFERENCE_PRECISION chooses (default "auto": bfloat16 where :func:`bfloat16_is_fast`).
    On the shipped model both give the same PublicTest accuracy within a face or two (models/MODEL_CARD.md).
    """
    choice = os.environ.get("FACEEXPR_INFERENCE_PRECISION", "auto").strip().lower() or "auto"
    if choice not in INFERENCE_PRECISIONS:
        raise ModelError(f"FACEEXPR_INFERENCE_PRECISION must be one of {INFERENCE_PRECISIONS}, got {choice!r}")
    if choice == "auto":
        return "bfloat16" if bfloat16_is_fast() else "float32"
    return choice


def _is_chain(model) -> bool:
    """Whether every layer takes exactly the previous layer's output (the course's models do)."""
    layers = getattr(model, "layers", None)
    if not layers or len(getattr(model, "inputs", []) or []) != 1 or len(layers) < 2 or type(layers[0]).__name__ != "InputLayer":
        return False
    try:
        return all(layer.input is previous.output for previous, layer in zip(layers, layers[1:]))
    except (AttributeError, ValueError):  # a layer called more than once, or never: not a chain
        return False


def inference_graph(model, precision: str = "float32"):
    """A prediction-only copy of a chain model: batch norms folded into their convolutions, no dropout.

    At prediction a batch norm is a fixed affine map per channel, ``y = s * (x - mean) + beta``
    with ``s = gamma / sqrt(var + eps)``; after a convolution ``x = W * input + b`` it can be
    folded into it: ``W' = s * W``, ``b' = s * (b - mean) + beta``. Same outputs (to float
    rounding), one pass over the maps fewer per layer. ``precision="bfloat16"`` computes in
    bfloat16 (Keras ``mixed_bfloat16``; the output layer stays float32). Returns ``model``
    itself when it is not a chain of layers.
    """
    import keras

    if precision not in ("float32", "bfloat16"):
        raise ModelError(f"precision must be 'float32' or 'bfloat16', got {precision!r}")
    if not _is_chain(model):
        return model
    policy = "mixed_bfloat16" if precision == "bfloat16" else "float32"
    layers = model.layers[1:]
    inputs = keras.Input(shape=model.input_shape[1:], name=model.layers[0].name)
    x, copies = inputs, []
    for index, layer in enumerate(layers):
        kind = type(layer).__name__
        if kind == "Dropout" or (kind == "BatchNormalization" and copies and copies[-1][2] is layer):
            continue  # dropout does nothing at prediction; this batch norm is folded already
        following = layers[index + 1] if index + 1 < len(layers) else None
        folds = kind == "Conv2D" and type(following).__name__ == "BatchNormalization" and following.axis in (-1, 3)
        config = layer.get_config()
        config["dtype"] = "float32" if layer is layers[-1] else policy
        if folds:
            config["use_bias"] = True
        copy = type(layer).from_config(config)
        x = copy(x)
        copies.append((copy, layer, following if folds else None))
    graph = keras.Model(inputs, x, name=f"{model.name}_inference")
    for copy, layer, norm in copies:
        if norm is None:
            copy.set_weights(layer.get_weights())
            continue
        kernel, *bias = layer.get_weights()
        bias = bias[0] if bias else np.zeros(kernel.shape[-1], kernel.dtype)
        mean, variance = np.asarray(norm.moving_mean), np.asarray(norm.moving_variance)
        scale = 1 / np.sqrt(variance + norm.epsilon)
        if norm.scale:
            scale = scale * np.asarray(norm.gamma)
        shift = np.asarray(norm.beta) if norm.center else 0.0
        copy.set_weights([kernel * scale, (bias - mean) * scale + shift])
    return graph


def _compiled_forward(model):
    """``model(x, training=False)`` as one TensorFlow graph, traced once per model.

    Run eagerly, Keras calls layer after layer from Python, which costs tens of
    milliseconds per call on a slow CPU: most of the time when predicting one face.
    A model that is not being trained (not compiled: the shipped model, a loaded checkpoint)
    is predicted through :func:`inference_graph` in :func:`inference_precision`, a copy of
    its weights: after changing its weights, call :func:`forget_compiled_forward`.
    """
    import tensorflow as tf

    forward = _FORWARD_CACHE.get(model)
    if forward is None:
        signature = [tf.TensorSpec((None, *INPUT_SHAPE), tf.float32)]
        if getattr(model, "optimizer", None) is None:
            graph = inference_graph(model, inference_precision())

            @tf.function(input_signature=signature)
            def forward(batch):
                return graph(batch, training=False)
        else:
            model_ref = weakref.ref(model)  # the cache must not keep the model alive

            @tf.function(input_signature=signature)
            def forward(batch):
                return model_ref()(batch, training=False)

        _FORWARD_CACHE[model] = forward
    return lambda batch: forward(tf.constant(batch)).numpy()


def forget_compiled_forward(model) -> None:
    """Drop the prediction graph cached for ``model`` (its weights changed)."""
    _FORWARD_CACHE.pop(model, None)


# --------------------------------------------------------------------------- saving and loading


def save_model(model, path: str | os.PathLike, *, overwrite: bool = False, include_optimizer: bool = True) -> Path:
    """Save ``model`` in the ``.keras`` format, never over an existing file unless asked.

    ``include_optimizer=False`` writes an inference-only copy (smaller: no optimizer state).
    The file is written next to its destination first and then renamed into place,
    so an interrupted save never leaves a half-written model behind.
    """
    import keras

    path = Path(path)
    if path.suffix != ".keras":
        raise ModelError(f"{path}: a model file must end in .keras (the Keras 3 format).")
    if path.exists() and not overwrite:
        raise ModelError(f"{path} already exists; nothing was written. Choose another path (or remove the old file yourself).")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not include_optimizer:
        model = _inference_copy(model)
    temporary = path.with_name(f".{path.stem}.tmp{os.getpid()}.keras")
    try:
        keras.saving.save_model(model, temporary)
        _deflate(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


def _deflate(path: Path) -> None:
    """Re-write a ``.keras`` archive with its members compressed (Keras stores them as they are).

    Float weights shrink by about a tenth (a checkpoint with optimizer state of the shipped
    recipe: 21.5 MB -> 19.5 MB); Keras reads the compressed archive unchanged.
    """
    packed = path.with_name(path.name + ".deflate")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target:
        for member in source.infolist():
            target.writestr(member.filename, source.read(member.filename))
    os.replace(packed, path)


def _inference_copy(model):
    """The same layers and weights, not compiled: no optimizer state in the file."""
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def load_model(path: str | os.PathLike | None = None, *, compile: bool = False):
    """Load a ``.keras`` model (default: the shipped one), with clear errors for bad files.

    The model must take 48x48x1 faces and give 7 probabilities.
    """
    import keras

    path = Path(path) if path is not None else SHIPPED_MODEL_PATH
    if not path.exists():
        hint = (
            "The shipped model is made by `python -m utils.train --config models/recipe.json`, "
            "which ends by writing runs/<run>/model.keras; copy that file here."
            if path.resolve() == SHIPPED_MODEL_PATH.resolve()
            else "Check the path, or leave it out to use the shipped model."
        )
        raise ModelError(f"No model at {path}. {hint}")
    if path.is_dir():
        raise ModelError(f"{path} is a folder; give the .keras file inside it (e.g. {path / 'best.keras'}).")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ModelError(
            f"{path} is not a Keras 3 model file (.keras, a zip archive): it is corrupt, "
            "incomplete or of another format. Train again or copy the file again."
        )
    try:
        model = keras.saving.load_model(path, compile=compile)
    except Exception as error:  # Keras raises many kinds for a bad file; all mean the same here
        raise ModelError(f"{path} cannot be loaded as a Keras model ({type(error).__name__}: {error}).") from error
    input_shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
    output_shape = tuple(model.output_shape[1:]) if hasattr(model, "output_shape") else None
    if input_shape != INPUT_SHAPE or output_shape != (NUM_CLASSES,):
        raise ModelError(
            f"{path} takes inputs {input_shape} and gives outputs {output_shape}; the course's "
            f"pipeline needs inputs {INPUT_SHAPE} and {NUM_CLASSES} emotion probabilities."
        )
    return model


def describe_architecture(architecture: Architecture | None = None) -> str:
    """A few lines: the blocks, the parameter count and the cost of one prediction."""
    arch = architecture or Architecture()
    counts = count_parameters(arch)
    blocks = " -> ".join(
        f"{arch.convs_per_block}x conv{arch.kernel_size}x{arch.kernel_size}({f}){' + pool' if pooled else ''} [{side}x{side}]"
        for f, pooled, side in zip(arch.filters, arch.pool, arch.feature_map_sizes())
    )
    return (
        f"{blocks} -> {arch.head} -> dense({arch.dense_units}) -> softmax({NUM_CLASSES})\n"
        f"{counts['total']:,} parameters ({counts['trainable']:,} trainable), "
        f"{multiply_adds_per_face(arch) / 1e6:.1f} M multiply-adds per face"
    )


def recompute_batch_norm_statistics(model, faces: np.ndarray, *, batch_size: int = 256, seed: int = 0) -> int:
    """Replace every batch-norm layer's moving mean and variance by their average over ``faces``.

    During training the moving averages follow augmented faces (shifted, rotated, zoomed, with
    filled borders) while the weights keep changing; at prediction the network sees plain faces.
    Averaging the batch statistics of plain training faces, with the final weights and dropout
    off, gives the statistics prediction actually meets ("precise batch norm"). The faces are
    shuffled first (``seed``): batches of one class, as a folder layout lists them, would
    underestimate the variance. Changes ``model`` in place; returns the number of layers updated.
    """
    import tensorflow as tf

    norms = [layer for layer in model.layers if type(layer).__name__ == "BatchNormalization"]
    if not norms:
        return 0
    x = preprocess(faces)
    if len(x) < 2:
        raise ModelError(f"batch-norm statistics need at least 2 faces (a mean and a variance), got {len(x)}")
    x = x[np.random.default_rng(seed).permutation(len(x))]
    dropouts = [layer for layer in model.layers if type(layer).__name__ == "Dropout"]
    momenta, rates = [layer.momentum for layer in norms], [layer.rate for layer in dropouts]
    seen = 0
    try:
        for layer in dropouts:
            layer.rate = 0.0  # the statistics of prediction, where dropout is off
        for start in range(0, len(x), batch_size):
            batch = x[start:start + batch_size]
            for layer in norms:  # m <- momentum * m + (1 - momentum) * batch: a running mean, weighted by size
                layer.momentum = seen / (seen + len(batch))
            # Eager on purpose: a traced function would freeze the first batch's momentum.
            model(tf.constant(batch), training=True)
            seen += len(batch)
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum
        for layer, rate in zip(dropouts, rates):
            layer.rate = rate
    forget_compiled_forward(model)
    return len(norms)


def set_batch_norm_momentum(model, momentum: float) -> int:
    """Set the momentum of every batch normalisation layer of ``model`` (before ``fit``); returns how many.

    At prediction a batch-norm layer uses moving averages ``m <- momentum * m + (1 - momentum) * batch_mean``.
    Keras's 0.99 averages over roughly the last 100 steps, too slow for a run of a few hundred
    steps, whose predictions would then use statistics still close to their initial values;
    0.9 averages over about 10 steps.
    """
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
    changed = 0
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            layer.momentum = float(momentum)
            changed += 1
    return changed


__all__: Sequence[str] = (
    "Architecture", "ArchitectureError", "ModelError", "ParameterRow", "SHIPPED_MODEL_PATH", "SHIPPED_FLIP_TTA",
    "batchnorm_params", "build_emotion_cnn", "conv_params", "count_parameters",
    "describe_architecture", "load_model", "multiply_adds_per_face", "parameter_table",
    "predict_labels", "predict_proba", "preprocess", "save_model", "set_batch_norm_momentum",
)
