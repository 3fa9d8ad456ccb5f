"""Training the emotion CNN with Keras: the pieces, each usable on its own.

- :func:`make_augmenter`   random flips, shifts, rotations and zooms as Keras preprocessing layers
- :func:`class_weights`    an answer to FER2013's imbalance (436 'disgust' faces, 7,215 'happy')
- :func:`make_datasets`    ``tf.data`` pipelines over the in-memory arrays
- :func:`make_schedule`    the learning-rate schedule (cosine decay with a warm-up)
- :func:`compile_model`    optimizer, loss (with label smoothing) and metrics
- callbacks: :class:`EpochLog` (history.csv + a readable log), :class:`RunCheckpoint`
  (every epoch: the full training state, so a run can be resumed exactly; plus the best
  model by validation accuracy), :class:`ResumableEarlyStopping`
  (the live training curves of a notebook are :class:`utils.viz.LivePlot`)
- :class:`RunFolder`       ``runs/<name>/``: settings.json, history.csv, train.log, checkpoints
- whole runs: :func:`read_recipe` (a checked ``models/recipe*.json``), :func:`subset`,
  :func:`train` (a new run, or the resumption of an interrupted one) and :func:`finish`

Lesson 04 (section 3, "Training") uses the pieces one at a time; ``python -m utils.train``
(:mod:`utils.train`, argument parsing only) calls :func:`train`.

Importing this module imports Keras: its callbacks and layers are Keras subclasses,
whose base classes are needed when the classes are defined.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from utils.constants import EMOTIONS, NUM_CLASSES, PROJECT_ROOT
from utils.data import Dataset, Split, load_fer2013, resolve_data_dir
from utils.errors import CourseError
from utils.models import (
    Architecture,
    bfloat16_is_fast,
    build_emotion_cnn,
    count_parameters,
    describe_architecture,
    load_model,
    predict_labels,
    recompute_batch_norm_statistics,
    save_model,
    set_batch_norm_momentum,
)

#: File names inside a run folder.
SETTINGS_FILE, HISTORY_FILE, LOG_FILE, STATE_FILE = "settings.json", "history.csv", "train.log", "state.json"
LAST_CHECKPOINT, BEST_CHECKPOINT, FINAL_MODEL = "last.keras", "best.keras", "model.keras"


class TrainingError(CourseError):
    """Training that cannot start or resume, with a message that says what to do."""


# --------------------------------------------------------------------------- augmentation


def make_augmenter(
    *, flip: bool = True, translation: float = 0.1, rotation: float = 0.05, zoom: float = 0.1,
    erasing: float = 0.0, seed: int | None = None
):
    """Random changes that keep the emotion: mirror, shift, rotate, zoom, erase a patch (Keras layers).

    ``translation`` and ``zoom`` are fractions of the image size; ``rotation`` a fraction
    of a full turn (0.05 = +-18 degrees); ``erasing`` the probability that a random
    rectangle of the face is replaced by noise (:class:`RandomErasing`). The layers are
    active only when called with ``training=True``, so the same object is harmless at
    prediction time.
    """
    import keras
    from keras import layers

    def layer_seed(offset: int) -> int | None:
        # One seed per layer: with a shared seed, shift, rotation and zoom would draw
        # the same random numbers and move together.
        return None if seed is None else seed + offset

    steps = []
    if flip:
        steps.append(layers.RandomFlip("horizontal", seed=layer_seed(0), name="flip"))
    if translation:
        steps.append(layers.RandomTranslation(translation, translation, fill_mode="nearest", seed=layer_seed(1), name="shift"))
    if rotation:
        steps.append(layers.RandomRotation(rotation, fill_mode="nearest", seed=layer_seed(2), name="rotate"))
    if zoom:
        steps.append(layers.RandomZoom(zoom, fill_mode="nearest", seed=layer_seed(3), name="zoom"))
    if erasing:
        steps.append(RandomErasing(erasing, seed=layer_seed(4), name="erase"))
    if not steps:  # no augmentation at all: the faces pass unchanged
        steps.append(layers.Identity(name="none"))
    return keras.Sequential(steps, name="augmentation")


def _keras_layer_base():
    import keras

    return keras.layers.Layer


class RandomErasing(_keras_layer_base()):
    """With probability ``probability``, replace one random rectangle of each image by uniform noise.

    Random erasing (Zhong et al., 2017): the rectangle covers ``min_area``..``max_area`` of
    the image with an aspect ratio between 1/3 and 3, so the network cannot rely on any one
    part of the face (an eye, the mouth) being visible. Images must lie in [0, 1].
    """

    def __init__(self, probability: float, *, min_area: float = 0.02, max_area: float = 0.25,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= probability <= 1 or not 0 < min_area <= max_area < 1:
            raise ValueError(f"erasing needs 0 <= probability <= 1 and 0 < min_area <= max_area < 1, "
                             f"got {probability}, {min_area}, {max_area}")
        self.probability, self.min_area, self.max_area = float(probability), float(min_area), float(max_area)
        import keras

        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training or self.probability == 0:
            return images
        import keras

        ops, rand = keras.ops, keras.random
        shape = ops.shape(images)
        n, height, width = shape[0], shape[1], shape[2]

        def uniform(low, high):
            return rand.uniform((n, 1, 1, 1), low, high, seed=self.seed_generator)

        area = uniform(self.min_area, self.max_area) * ops.cast(height * width, "float32")
        aspect = ops.exp(uniform(np.log(1 / 3), np.log(3)))
        box_h = ops.minimum(ops.sqrt(area * aspect), ops.cast(height, "float32"))
        box_w = ops.minimum(ops.sqrt(area / aspect), ops.cast(width, "float32"))
        top = uniform(0.0, 1.0) * (ops.cast(height, "float32") - box_h)
        left = uniform(0.0, 1.0) * (ops.cast(width, "float32") - box_w)
        rows = ops.reshape(ops.cast(ops.arange(height), "float32"), (1, -1, 1, 1))
        cols = ops.reshape(ops.cast(ops.arange(width), "float32"), (1, 1, -1, 1))
        inside = (rows >= top) & (rows < top + box_h) & (cols >= left) & (cols < left + box_w)
        chosen = uniform(0.0, 1.0) < self.probability
        noise = rand.uniform(ops.shape(images), 0.0, 1.0, seed=self.seed_generator)
        return ops.where(inside & chosen, ops.cast(noise, images.dtype), images)

    def compute_output_shape(self, input_shape):
        return input_shape


# --------------------------------------------------------------------------- imbalance


def class_weights(labels: np.ndarray, *, power: float = 1.0, num_classes: int = NUM_CLASSES) -> dict[int, float]:
    """Weight of each class in the loss: ``(N / (K * n_c)) ** power``, rescaled to average 1 per image.

    ``power=1`` is the fully 'balanced' weighting (every class counts as much in total);
    ``power=0.5`` a softer one that helps rare classes without sacrificing the common
    ones as much; ``power=0`` gives every image weight 1.
    """
    labels = np.asarray(labels)
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    if (counts == 0).any():
        missing = [EMOTIONS[i] if i < len(EMOTIONS) else str(i) for i in np.flatnonzero(counts == 0)]
        raise ValueError(f"no training images of class(es) {missing}: a class weight would be infinite")
    weights = (counts.sum() / (num_classes * counts)) ** power
    # Rescale so the average weight over the training images is 1: the loss keeps its scale.
    weights /= (weights * counts).sum() / counts.sum()
    return {i: float(w) for i, w in enumerate(weights)}


# --------------------------------------------------------------------------- data pipelines


def make_datasets(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    val_images: np.ndarray,
    val_labels: np.ndarray,
    *,
    batch_size: int = 64,
    augmenter=None,
    sample_weights: dict[int, float] | None = None,
    seed: int = 0,
):
    """``tf.data`` pipelines: (float faces in [0, 1], one-hot labels[, weight]) batches.

    The training pipeline shuffles every epoch and augments batch by batch; one-hot
    labels are needed by the label-smoothed loss. Per-image weights (from
    :func:`class_weights`) go in the data rather than ``fit(class_weight=...)`` so that
    validation stays unweighted. Keras applies these weights to the *loss* only (and to
    ``weighted_metrics=``, which :func:`compile_model` does not use): the training accuracy
    it reports stays a plain share of correct answers. Training and validation numbers
    still differ in kind, because the training ones are batch averages over an epoch while
    the weights change, with dropout and augmentation active, and with a weighted loss.
    """
    import tensorflow as tf

    def to_inputs(images, labels):
        return tf.cast(images, tf.float32) / 255.0, tf.one_hot(labels, NUM_CLASSES)

    train = tf.data.Dataset.from_tensor_slices((train_images, train_labels.astype(np.int32)))
    train = train.shuffle(len(train_labels), seed=seed, reshuffle_each_iteration=True)
    train = train.batch(batch_size).map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE)
    if augmenter is not None:
        train = train.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    if sample_weights is not None:
        table = tf.constant([sample_weights[i] for i in range(NUM_CLASSES)], tf.float32)
        train = train.map(lambda x, y: (x, y, tf.gather(table, tf.argmax(y, axis=1))))
    train = train.prefetch(tf.data.AUTOTUNE)
    val = tf.data.Dataset.from_tensor_slices((val_images, val_labels.astype(np.int32)))
    val = val.batch(max(batch_size, 256)).map(to_inputs).cache().prefetch(tf.data.AUTOTUNE)
    return train, val


# --------------------------------------------------------------------------- optimisation


def make_schedule(*, learning_rate: float, epochs: int, steps_per_epoch: int, warmup_epochs: float = 1.0, final_fraction: float = 0.01):
    """Linear warm-up to ``learning_rate``, then cosine decay to ``final_fraction`` of it.

    The schedule is a function of the optimizer's step counter, which is saved in
    every checkpoint: a resumed run continues on the same curve.
    """
    import keras

    warmup_steps = int(round(warmup_epochs * steps_per_epoch))
    decay_steps = max(1, epochs * steps_per_epoch - warmup_steps)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate * 0.01 if warmup_steps else learning_rate,
        decay_steps=decay_steps,
        alpha=final_fraction,
        warmup_target=learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )


def make_optimizer(name: str, *, learning_rate, weight_decay: float = 1e-4, momentum: float = 0.9):
    """``"adamw"``: Adam with decoupled weight decay; ``"sgd"``: SGD with Nesterov momentum.

    With SGD the weight decay is decoupled too (Keras applies ``weight_decay`` to the
    weights directly, not through the loss), so the two optimizers differ only in the step.
    """
    import keras

    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum, nesterov=True,
                                    weight_decay=weight_decay or None)
    raise TrainingError(f"unknown optimizer {name!r}: use 'adamw' or 'sgd'")


def compile_model(model, *, learning_rate, weight_decay: float = 1e-4, label_smoothing: float = 0.1,
                  optimizer: str = "adamw", momentum: float = 0.9) -> None:
    """Optimizer (:func:`make_optimizer`), label-smoothed cross-entropy, accuracy."""
    import keras

    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate=learning_rate, weight_decay=weight_decay, momentum=momentum),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )


def current_learning_rate(model) -> float:
    """The learning rate the optimizer uses at its current step."""
    optimizer = model.optimizer
    rate = optimizer.learning_rate
    return float(np.asarray(rate))


# --------------------------------------------------------------------------- run folders


@dataclass(frozen=True)
class RunFolder:
    """``runs/<name>/``: everything one training run wrote, never shared with another run."""

    path: Path

    @classmethod
    def create(cls, path: str | os.PathLike, settings: dict[str, Any]) -> RunFolder:
        """A new run folder holding ``settings.json``; an existing non-empty folder is refused."""
        path = Path(path)
        if path.exists() and any(path.iterdir()):
            raise TrainingError(
                f"{path} already holds a run; nothing was overwritten. Resume it with "
                f"`--resume {path}` or choose another --run-dir."
            )
        path.mkdir(parents=True, exist_ok=True)
        (path / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n")
        return cls(path)

    @classmethod
    def open(cls, path: str | os.PathLike) -> RunFolder:
        """An existing run folder, to resume or to read."""
        path = Path(path)
        if not (path / SETTINGS_FILE).is_file():
            raise TrainingError(f"{path} is not a run folder (it has no {SETTINGS_FILE}).")
        return cls(path)

    @property
    def settings(self) -> dict[str, Any]:
        return json.loads((self.path / SETTINGS_FILE).read_text())

    @property
    def state(self) -> dict[str, Any]:
        """What the last finished epoch left: epoch, best accuracy, epochs without improvement."""
        file = self.path / STATE_FILE
        return json.loads(file.read_text()) if file.exists() else {}

    def update_state(self, **changes: Any) -> None:
        """Change entries of state.json (written under another name, then renamed into place)."""
        state = {**self.state, **changes}
        temporary = self.path / (STATE_FILE + ".tmp")
        temporary.write_text(json.dumps(state, indent=2) + "\n")
        os.replace(temporary, self.path / STATE_FILE)

    def file(self, name: str) -> Path:
        return self.path / name

    def log(self, message: str) -> None:
        """Append one time-stamped line to train.log (and print it)."""
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {message}"
        print(line, flush=True)
        with open(self.path / LOG_FILE, "a") as handle:
            handle.write(line + "\n")

    def history(self) -> list[dict[str, float]]:
        """The rows of history.csv (one per finished epoch), numbers as floats."""
        file = self.path / HISTORY_FILE
        if not file.exists():
            return []
        with open(file, newline="") as handle:
            return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]

    def truncate_history(self, epochs: int) -> None:
        """Keep the first ``epochs`` rows: an epoch logged after its checkpoint is redone on resume."""
        rows = [r for r in self.history() if r["epoch"] <= epochs]
        _write_history(self.path / HISTORY_FILE, rows)


def _write_history(file: Path, rows: list[dict[str, float]]) -> None:
    if not rows:
        if file.exists():
            file.unlink()
        return
    with open(file, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _format_number(k, v) for k, v in row.items()})


def _format_number(key: str, value: float) -> str:
    return str(int(value)) if key == "epoch" else f"{value:.6g}"


# --------------------------------------------------------------------------- callbacks


def _keras_callback_base():
    import keras

    return keras.callbacks.Callback


class EpochLog(_keras_callback_base()):
    """After every epoch: one row in history.csv and one line in train.log (with the seconds taken)."""

    def __init__(self, run: RunFolder):
        super().__init__()
        self.run = run
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        row = {"epoch": epoch + 1, "seconds": time.perf_counter() - self._started,
               "learning_rate": current_learning_rate(self.model)}
        row.update({k: float(v) for k, v in sorted(logs.items()) if k != "learning_rate"})
        rows = self.run.history() + [row]
        _write_history(self.run.file(HISTORY_FILE), rows)
        self.run.log(
            f"epoch {epoch + 1}: loss {row.get('loss', math.nan):.4f} acc {row.get('accuracy', math.nan):.4f} | "
            f"val_loss {row.get('val_loss', math.nan):.4f} val_acc {row.get('val_accuracy', math.nan):.4f} | "
            f"lr {row['learning_rate']:.2e} | {row['seconds']:.0f} s"
        )


class RunCheckpoint(_keras_callback_base()):
    """Every epoch: the full training state (model, optimizer, step counter) to last.keras, and
    state.json (epoch, best validation accuracy, epochs without improvement); whenever the
    validation accuracy improves, the model to best.keras as well.

    Files are written under a temporary name and renamed into place, so a run killed in
    the middle of saving still has its previous checkpoint.
    """

    def __init__(self, run: RunFolder, *, monitor: str = "val_accuracy", best: float = -math.inf, wait: int = 0):
        super().__init__()
        self.run, self.monitor, self.best, self.wait = run, monitor, best, wait

    def on_epoch_end(self, epoch, logs=None):
        value = float((logs or {}).get(self.monitor, math.nan))
        improved = value > self.best
        if improved:
            self.best, self.wait = value, 0
            # The best model is only ever read for prediction: no optimizer state (a third of the size).
            save_model(self.model, self.run.file(BEST_CHECKPOINT), overwrite=True, include_optimizer=False)
        else:
            self.wait += 1
        save_model(self.model, self.run.file(LAST_CHECKPOINT), overwrite=True)
        self.run.update_state(epoch=epoch + 1, monitor=self.monitor, best=self.best,
                              best_epoch=epoch + 1 if improved else self.run.state.get("best_epoch"),
                              epochs_without_improvement=self.wait)
        if improved:
            self.run.log(f"epoch {epoch + 1}: {self.monitor} improved to {value:.4f}, saved {BEST_CHECKPOINT}")


class PlateauSchedule(_keras_callback_base()):
    """The ``"plateau"`` schedule: multiply the learning rate by ``factor`` after every ``patience``
    epochs without a better validation accuracy, never below ``min_rate``.

    It counts with the :class:`RunCheckpoint`'s record (best value, epochs without improvement,
    kept in state.json) and runs before it, so the checkpoint saves the lowered rate: a resumed
    run goes on at the same rate and the same count.
    """

    def __init__(self, checkpoint: RunCheckpoint, *, patience: int, factor: float, min_rate: float):
        super().__init__()
        self.checkpoint, self.patience, self.factor, self.min_rate = checkpoint, patience, factor, min_rate

    def on_epoch_end(self, epoch, logs=None):
        value = float((logs or {}).get(self.checkpoint.monitor, math.nan))
        wait = 0 if value > self.checkpoint.best else self.checkpoint.wait + 1
        if wait and wait % self.patience == 0:
            rate = self.model.optimizer.learning_rate
            new = max(self.min_rate, float(np.asarray(rate)) * self.factor)
            rate.assign(new)
            self.checkpoint.run.log(f"epoch {epoch + 1}: no better {self.checkpoint.monitor} for {wait} epochs, "
                                    f"learning rate lowered to {new:.2e}")


class ResumableEarlyStopping(_keras_callback_base()):
    """Stop when the validation accuracy has not improved for ``patience`` epochs.

    Unlike ``keras.callbacks.EarlyStopping`` it reads its count from a :class:`RunCheckpoint`,
    so the count survives a resume.
    """

    def __init__(self, checkpoint: RunCheckpoint, *, patience: int):
        super().__init__()
        self.checkpoint, self.patience = checkpoint, patience
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        if self.checkpoint.wait >= self.patience:
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True
            self.checkpoint.run.log(
                f"early stopping after epoch {epoch + 1}: no improvement of {self.checkpoint.monitor} "
                f"for {self.patience} epochs (best {self.checkpoint.best:.4f})"
            )


# --------------------------------------------------------------------------- whole runs

DEFAULT_RECIPE = PROJECT_ROOT / "models" / "recipe.json"
DEFAULT_RUNS_DIR = PROJECT_ROOT / "runs"
RECIPE_SECTIONS = {"name", "description", "seed", "model", "augmentation", "training"}
TRAINING_KEYS = {
    "epochs", "batch_size", "learning_rate", "warmup_epochs", "final_fraction", "weight_decay",
    "label_smoothing", "class_weight_power", "early_stopping_patience",
}
#: Training settings a recipe may leave out, and their values then: ``batch_norm_momentum``
#: 0.99 is Keras's own; ``train_images`` / ``validation_images`` at most this many images
#: (drawn at random; ``None``: all), for quick runs such as ``models/recipe_quick.json``;
#: ``precise_batch_norm`` recomputes the final model's batch-norm statistics on plain training faces.
#: ``schedule`` "cosine" (warm-up, then cosine decay: :func:`make_schedule`) or "plateau" (the
#: learning rate held, lowered by ``plateau_factor`` after ``plateau_patience`` epochs without a
#: better validation accuracy, down to ``final_fraction`` of it; no warm-up: :class:`PlateauSchedule`).
OPTIONAL_TRAINING_KEYS = {"optimizer": "adamw", "momentum": 0.9, "batch_norm_momentum": 0.99,
                          "train_images": None, "validation_images": None, "precision": "float32",
                          "precise_batch_norm": False, "schedule": "cosine", "plateau_patience": 3,
                          "plateau_factor": 0.5}
SCHEDULES = ("cosine", "plateau")
#: Keras dtype policies a run may train under. ``mixed_bfloat16`` computes in bfloat16 with
#: float32 weights: 1.5-1.8x faster on CPUs with AVX-512 BF16 / AMX (benchmarks/README.md),
#: far slower on CPUs without them. The shipped model is always converted back to float32.
PRECISIONS = ("float32", "mixed_bfloat16")


def read_recipe(path: str | Path) -> dict:
    """The recipe JSON, checked: unknown sections or keys are errors (a typo must not be ignored)."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"No recipe at {path}. The shipped one is {DEFAULT_RECIPE}.")
    try:
        recipe = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise TrainingError(f"{path} is not valid JSON ({error}).") from error
    unknown = set(recipe) - RECIPE_SECTIONS
    missing = {"seed", "model", "augmentation", "training"} - set(recipe)
    if unknown or missing:
        raise TrainingError(f"{path}: unknown sections {sorted(unknown)}, missing sections {sorted(missing)}.")
    given = set(recipe["training"])
    unknown_keys, missing_keys = given - TRAINING_KEYS - set(OPTIONAL_TRAINING_KEYS), TRAINING_KEYS - given
    if unknown_keys or missing_keys:
        raise TrainingError(
            f"{path}: 'training' must have the keys {sorted(TRAINING_KEYS)} (optional: {sorted(OPTIONAL_TRAINING_KEYS)}); "
            f"unknown {sorted(unknown_keys)}, missing {sorted(missing_keys)}."
        )
    recipe["training"] = {**OPTIONAL_TRAINING_KEYS, **recipe["training"]}
    try:
        Architecture.from_dict(recipe["model"])
        make_augmenter(**recipe["augmentation"])
        if recipe["training"]["optimizer"] not in ("adamw", "sgd"):
            raise ValueError(f"training.optimizer must be 'adamw' or 'sgd', got {recipe['training']['optimizer']!r}")
        if recipe["training"]["schedule"] not in SCHEDULES:
            raise ValueError(f"training.schedule must be one of {SCHEDULES}, got {recipe['training']['schedule']!r}")
        if recipe["training"]["schedule"] == "plateau" and not (
                0 < recipe["training"]["plateau_factor"] < 1 and recipe["training"]["plateau_patience"] >= 1):
            raise ValueError("a plateau schedule needs 0 < plateau_factor < 1 and plateau_patience >= 1 (epochs)")
        if recipe["training"]["precision"] not in PRECISIONS:
            raise ValueError(f"training.precision must be one of {PRECISIONS}, got {recipe['training']['precision']!r}")
    except (TypeError, ValueError) as error:
        raise TrainingError(f"{path}: {error}") from error
    return recipe


def subset(split: Split, limit: int | None, seed: int) -> Split:
    """``limit`` images drawn at random (all of them when ``limit`` is None): for quick trials."""
    if limit is None or limit >= len(split):
        return split
    keep = np.sort(np.random.default_rng(seed).permutation(len(split))[:limit])
    return Split(split.images[keep], split.labels[keep])


def _versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "machine": platform.machine(), "platform": platform.platform()}


def _load_data(data: str | None, cache: bool) -> Dataset:
    dataset = load_fer2013(data, cache=cache, progress=sys.stderr.isatty())
    if dataset.train_split not in dataset.splits or dataset.validation_split == dataset.train_split:
        raise TrainingError(
            f"{dataset.source} needs a training split and a validation split (PublicTest); "
            f"it has {sorted(dataset.splits)}."
        )
    return dataset


def train(
    *,
    recipe: dict | None = None,
    run_dir: str | Path | None = None,
    resume: str | Path | None = None,
    data: str | None = None,
    epochs: int | None = None,
    limit: int | None = None,
    cache: bool = True,
    verbose: int = 2,
) -> RunFolder:
    """Train a new run from ``recipe`` into ``run_dir``, or continue the run at ``resume``."""
    import keras

    if resume is not None:
        run = RunFolder.open(resume)
        settings = run.settings
        state = run.state
        if not run.file(LAST_CHECKPOINT).exists() or not state:
            raise TrainingError(f"{run.path} has no finished epoch to resume from; start a new run instead.")
        if epochs is not None and epochs != settings["recipe"]["training"]["epochs"]:
            raise TrainingError(
                "--epochs cannot change when resuming: the learning-rate schedule was laid out for "
                f"{settings['recipe']['training']['epochs']} epochs. Start a new run to train longer."
            )
        data = data or settings["data"]["path"]
        limit = settings["limit"]
        recipe = settings["recipe"]
    else:
        if recipe is None:
            raise TrainingError("A new run needs a recipe (--config).")
        recipe = json.loads(json.dumps(recipe))  # a private copy
        if epochs is not None:
            recipe["training"]["epochs"] = int(epochs)
        state = {}

    dataset = _load_data(data, cache)
    seed = int(recipe["seed"])
    # the optional settings' defaults, for recipes given as dicts and runs saved before a key existed
    hp = {**OPTIONAL_TRAINING_KEYS, **recipe["training"]}
    # --limit overrides the recipe's own limits (a resumed run keeps those it started with).
    train_limit = limit if limit is not None else hp.get("train_images")
    val_limit = limit if limit is not None else hp.get("validation_images")
    train_faces = subset(dataset[dataset.train_split], train_limit, seed)
    val_faces = subset(dataset[dataset.validation_split], val_limit, seed + 1)
    arch = Architecture.from_dict(recipe["model"])

    if resume is None:
        if run_dir is None:
            run_dir = DEFAULT_RUNS_DIR / f"{recipe.get('name', 'run')}-{time.strftime('%Y%m%d-%H%M%S')}"
        settings = {
            "recipe": recipe,
            "data": {"path": str(resolve_data_dir(data).resolve()), "layout": dataset.layout,
                     "train_split": dataset.train_split, "validation_split": dataset.validation_split,
                     "train_images": len(train_faces), "validation_images": len(val_faces),
                     "train_counts": train_faces.class_counts(), "validation_counts": val_faces.class_counts()},
            "limit": limit,
            "parameters": count_parameters(arch),
            "versions": _versions(),
            "environment": {k: os.environ.get(k) for k in ("TF_ENABLE_ONEDNN_OPTS", "OMP_NUM_THREADS")},
            "command": " ".join(sys.argv),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        }
        run = RunFolder.create(run_dir, settings)
        run.log(f"new run {run.path}: {describe_architecture(arch).replace(chr(10), '; ')}")
    else:
        run.truncate_history(state["epoch"])
        run.log(f"resuming {run.path} after epoch {state['epoch']} (best {state['monitor']} {state['best']:.4f})")

    initial_epoch = int(state.get("epoch", 0))
    total_epochs = int(hp["epochs"])
    run.log(f"data: {dataset.source} ({len(train_faces)} training, {len(val_faces)} validation images)")
    if initial_epoch >= total_epochs or state.get("finished"):
        run.log(f"this run has finished already ({initial_epoch} epochs); nothing to resume")
        return finish(run, val_faces, train_faces)

    # Same seed, same run; a resumed run re-seeds with its epoch so that its
    # shuffles do not repeat those of the first epochs.
    keras.utils.set_random_seed(seed + initial_epoch)
    steps_per_epoch = math.ceil(len(train_faces) / hp["batch_size"])
    plateau_schedule = hp["schedule"] == "plateau"
    if resume is None:
        # The policy applies to the layers built under it (a resumed model's layers carry
        # theirs in the checkpoint); the augmenter and everything after stay float32.
        precision = hp.get("precision", "float32")
        if precision == "mixed_bfloat16" and not bfloat16_is_fast():
            run.log("this machine has no native bfloat16 (no GPU, no AVX-512 BF16 / AMX): training in float32 instead")
            precision = "float32"
        keras.mixed_precision.set_global_policy(precision)
        try:
            model = build_emotion_cnn(arch)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        set_batch_norm_momentum(model, hp.get("batch_norm_momentum", 0.99))
        if plateau_schedule:
            schedule = float(hp["learning_rate"])  # a variable of the optimizer, lowered by PlateauSchedule
        else:
            schedule = make_schedule(learning_rate=hp["learning_rate"], epochs=total_epochs, steps_per_epoch=steps_per_epoch,
                                     warmup_epochs=hp["warmup_epochs"], final_fraction=hp["final_fraction"])
        compile_model(model, learning_rate=schedule, weight_decay=hp["weight_decay"], label_smoothing=hp["label_smoothing"],
                      optimizer=hp.get("optimizer", "adamw"), momentum=hp.get("momentum", 0.9))
    else:
        model = load_model(run.file(LAST_CHECKPOINT), compile=True)
        # The optimizer's step counter is saved with the weights: it says which epoch
        # they belong to, even if the run was killed between last.keras and state.json.
        saved_epochs = int(model.optimizer.iterations) // steps_per_epoch
        if saved_epochs != initial_epoch:
            run.log(f"note: {LAST_CHECKPOINT} holds {saved_epochs} epochs, state.json {initial_epoch}; "
                    f"going on from the checkpoint's weights after epoch {saved_epochs}")
            initial_epoch = saved_epochs
            if initial_epoch >= total_epochs:
                return finish(run, val_faces, train_faces)

    weights = class_weights(train_faces.labels, power=hp["class_weight_power"]) if hp["class_weight_power"] else None
    if weights and resume is None:
        run.log("class weights: " + ", ".join(f"{w:.2f}" for w in weights.values()))
    train_data, val_data = make_datasets(
        train_faces.images, train_faces.labels, val_faces.images, val_faces.labels,
        batch_size=hp["batch_size"], augmenter=make_augmenter(**recipe["augmentation"], seed=seed + initial_epoch),
        sample_weights=weights, seed=seed + initial_epoch,
    )
    checkpoint = RunCheckpoint(run, best=float(state.get("best", -math.inf)), wait=int(state.get("epochs_without_improvement", 0)))
    plateau = ([PlateauSchedule(checkpoint, patience=int(hp["plateau_patience"]), factor=float(hp["plateau_factor"]),
                                min_rate=hp["learning_rate"] * hp["final_fraction"])] if plateau_schedule else [])
    callbacks = [EpochLog(run), *plateau, checkpoint, ResumableEarlyStopping(checkpoint, patience=hp["early_stopping_patience"])]
    model.fit(train_data, validation_data=val_data, epochs=total_epochs, initial_epoch=initial_epoch,
              callbacks=callbacks, verbose=verbose)
    # Reached only when fit returns (all epochs, or early stopping), not when the run is killed.
    run.update_state(finished=True)
    return finish(run, val_faces, train_faces)


def finish(run: RunFolder, val_faces: Split, train_faces: Split | None = None) -> RunFolder:
    """The best checkpoint without optimizer state as model.keras, and its accuracy in results.json.

    A model trained under a mixed policy is rebuilt in float32 with the same weights, so the
    shipped file runs at full speed on CPUs without bfloat16 instructions. With the recipe's
    ``precise_batch_norm`` its batch-norm statistics are then recomputed on the plain training
    faces (:func:`utils.models.recompute_batch_norm_statistics`); results.json has the accuracy
    before and after.
    """
    recipe = run.settings["recipe"]
    best = load_model(run.file(BEST_CHECKPOINT))
    if best.dtype_policy.name != "float32" or any(layer.dtype_policy.name != "float32" for layer in best.layers):
        float32_model = build_emotion_cnn(Architecture.from_dict(recipe["model"]))
        float32_model.set_weights(best.get_weights())
        best = float32_model
    results = {"validation_images": len(val_faces), "best_epoch": run.state.get("best_epoch")}

    def measure(suffix: str = "") -> None:
        for flip in (False, True):
            predicted = predict_labels(best, val_faces.images, flip_tta=flip)
            results["validation_accuracy" + suffix + ("_flip_tta" if flip else "")] = float((predicted == val_faces.labels).mean())

    if recipe["training"].get("precise_batch_norm") and train_faces is not None:
        measure("_training_statistics")
        layers = recompute_batch_norm_statistics(best, train_faces.images, seed=int(recipe["seed"]))
        results["batch_norm_statistics"] = f"recomputed on {len(train_faces)} plain training faces ({layers} layers)"
        run.log(f"batch-norm statistics of {layers} layers recomputed on {len(train_faces)} plain training faces")
    final = run.file(FINAL_MODEL)
    save_model(best, final, overwrite=True, include_optimizer=False)
    measure()
    results["model_bytes"] = final.stat().st_size
    run.file("results.json").write_text(json.dumps(results, indent=2) + "\n")
    run.log(f"finished: {json.dumps(results)}")
    run.log(f"to ship it: copy {final} to models/emotion_cnn.keras (the shipped model is never overwritten by training)")
    return run


def recompute_model_statistics(model_path: str | Path, out: str | Path, *, data: str | None = None,
                               seed: int = 2013, cache: bool = True) -> dict:
    """A trained model with batch-norm statistics of the plain training faces, written to ``out``.

    The same step as a recipe's ``precise_batch_norm``, for a model trained without it. Only the
    Training split is used to compute; the validation split (PublicTest) is only measured,
    before and after (the returned dict, also written next to ``out`` as ``<out>.json``).
    Never overwrites ``out``.
    """
    out = Path(out)
    if out.exists():
        raise TrainingError(f"{out} already exists; nothing was written. Choose another path (or remove the old file yourself).")
    dataset = _load_data(data, cache)
    train_faces, val_faces = dataset[dataset.train_split], dataset[dataset.validation_split]
    model = load_model(model_path)
    results: dict = {"model": str(model_path), "train_images": len(train_faces), "validation_images": len(val_faces), "seed": seed}
    for when in ("before", "after"):
        if when == "after":
            results["layers"] = recompute_batch_norm_statistics(model, train_faces.images, seed=seed)
        for flip in (False, True):
            predicted = predict_labels(model, val_faces.images, flip_tta=flip)
            results[f"validation_accuracy_{when}" + ("_flip_tta" if flip else "")] = float((predicted == val_faces.labels).mean())
    save_model(model, out, include_optimizer=False)
    out.with_name(out.name + ".json").write_text(json.dumps(results, indent=2) + "\n")
    return results
