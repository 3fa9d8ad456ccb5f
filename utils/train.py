"""Train the course's emotion CNN from a recipe: ``python -m utils.train --config models/recipe.json``.

Every run writes to its own folder (``runs/<name>-<date>`` unless ``--run-dir`` says
otherwise) and never touches the shipped model or another run:

- ``settings.json``  the recipe, the data set, the seed and the versions used
- ``train.log``      one line per epoch (losses, accuracies, learning rate, seconds)
- ``history.csv``    the same numbers as a table
- ``last.keras``     the full training state after the last finished epoch (resume from it)
- ``best.keras``     the model of the epoch with the best validation (PublicTest) accuracy
- ``model.keras``    at the end: the best model without optimizer state, ready to ship
- ``results.json``   at the end: its validation accuracy with the shipped pipeline

An interrupted run continues where it stopped with ``--resume RUN_DIR``.
Train only on FER2013's Training split; PublicTest is the validation split (the one
the recipe was tuned on); PrivateTest is never looked at here.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

import utils  # noqa: F401  (quiets TensorFlow before it is imported)
from utils.data import PROJECT_ROOT, DataError, Dataset, Split, load_fer2013, resolve_data_dir
from utils.models import Architecture, ModelError, build_emotion_cnn, count_parameters, describe_architecture, load_model, predict_labels, save_model
from utils.training import (
    BEST_CHECKPOINT,
    FINAL_MODEL,
    LAST_CHECKPOINT,
    EpochLog,
    ResumableEarlyStopping,
    RunCheckpoint,
    RunFolder,
    TrainingError,
    class_weights,
    compile_model,
    make_augmenter,
    make_datasets,
    make_schedule,
)

DEFAULT_RECIPE = PROJECT_ROOT / "models" / "recipe.json"
DEFAULT_RUNS_DIR = PROJECT_ROOT / "runs"
RECIPE_SECTIONS = {"name", "description", "seed", "model", "augmentation", "training"}
TRAINING_KEYS = {
    "epochs", "batch_size", "learning_rate", "warmup_epochs", "final_fraction", "weight_decay",
    "label_smoothing", "class_weight_power", "early_stopping_patience",
}
#: Training settings a recipe may leave out, and their values then.
OPTIONAL_TRAINING_KEYS = {"optimizer": "adamw", "momentum": 0.9}


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
    train_split = subset(dataset[dataset.train_split], limit, seed)
    val_split = subset(dataset[dataset.validation_split], limit, seed + 1)
    arch = Architecture.from_dict(recipe["model"])
    hp = recipe["training"]

    if resume is None:
        if run_dir is None:
            run_dir = DEFAULT_RUNS_DIR / f"{recipe.get('name', 'run')}-{time.strftime('%Y%m%d-%H%M%S')}"
        settings = {
            "recipe": recipe,
            "data": {"path": str(resolve_data_dir(data).resolve()), "layout": dataset.layout,
                     "train_split": dataset.train_split, "validation_split": dataset.validation_split,
                     "train_images": len(train_split), "validation_images": len(val_split),
                     "train_counts": train_split.class_counts(), "validation_counts": val_split.class_counts()},
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
    run.log(f"data: {dataset.source} ({len(train_split)} training, {len(val_split)} validation images)")
    if initial_epoch >= total_epochs or state.get("finished"):
        run.log(f"this run has finished already ({initial_epoch} epochs); nothing to resume")
        return finish(run, val_split)

    # Same seed, same run; a resumed run re-seeds with its epoch so that its
    # shuffles do not repeat those of the first epochs.
    keras.utils.set_random_seed(seed + initial_epoch)
    steps_per_epoch = math.ceil(len(train_split) / hp["batch_size"])
    if resume is None:
        model = build_emotion_cnn(arch)
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
                return finish(run, val_split)

    weights = class_weights(train_split.labels, power=hp["class_weight_power"]) if hp["class_weight_power"] else None
    if weights and resume is None:
        run.log("class weights: " + ", ".join(f"{w:.2f}" for w in weights.values()))
    train_data, val_data = make_datasets(
        train_split.images, train_split.labels, val_split.images, val_split.labels,
        batch_size=hp["batch_size"], augmenter=make_augmenter(**recipe["augmentation"], seed=seed + initial_epoch),
        sample_weights=weights, seed=seed + initial_epoch,
    )
    checkpoint = RunCheckpoint(run, best=float(state.get("best", -math.inf)), wait=int(state.get("epochs_without_improvement", 0)))
    callbacks = [EpochLog(run), checkpoint, ResumableEarlyStopping(checkpoint, patience=hp["early_stopping_patience"])]
    model.fit(train_data, validation_data=val_data, epochs=total_epochs, initial_epoch=initial_epoch,
              callbacks=callbacks, verbose=verbose)
    # Reached only when fit returns (all epochs, or early stopping), not when the run is killed.
    run.update_state(finished=True)
    return finish(run, val_split)


def finish(run: RunFolder, val_split: Split) -> RunFolder:
    """The best checkpoint without optimizer state as model.keras, and its accuracy in results.json."""
    best = load_model(run.file(BEST_CHECKPOINT))
    final = run.file(FINAL_MODEL)
    save_model(best, final, overwrite=True, include_optimizer=False)
    results = {"validation_images": len(val_split), "best_epoch": run.state.get("best_epoch")}
    for flip in (False, True):
        predicted = predict_labels(best, val_split.images, flip_tta=flip)
        results["validation_accuracy" + ("_flip_tta" if flip else "")] = float((predicted == val_split.labels).mean())
    results["model_bytes"] = final.stat().st_size
    run.file("results.json").write_text(json.dumps(results, indent=2) + "\n")
    run.log(f"finished: {json.dumps(results)}")
    run.log(f"to ship it: copy {final} to models/emotion_cnn.keras (the shipped model is never overwritten by training)")
    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(DEFAULT_RECIPE), help=f"the recipe (default {DEFAULT_RECIPE.relative_to(PROJECT_ROOT)})")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the run in this folder after its last finished epoch")
    parser.add_argument("--data", help="FER2013 (folders, CSV or zip; default $FER2013_DIR, else data/fer2013)")
    parser.add_argument("--run-dir", help="folder of this run (default runs/<name>-<date>); must be new or empty")
    parser.add_argument("--epochs", type=int, help="override the recipe's number of epochs (new runs only)")
    parser.add_argument("--limit", type=int, help="use only this many training (and validation) images: quick trials")
    parser.add_argument("--no-cache", action="store_true", help="do not cache the decoded data set")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1 if sys.stdout.isatty() else 2,
                        help="Keras output: 1 progress bar, 2 one line per epoch (default 1 in a terminal, else 2)")
    args = parser.parse_args(argv)
    if args.resume and args.run_dir:
        parser.error("--resume continues a run in its own folder; leave out --run-dir")
    try:
        recipe = None if args.resume else read_recipe(args.config)
        train(recipe=recipe, run_dir=args.run_dir, resume=args.resume, data=args.data, epochs=args.epochs,
              limit=args.limit, cache=not args.no_cache, verbose=args.verbose)
    except (TrainingError, DataError, ModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
