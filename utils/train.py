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

An interrupted run continues where it stopped with ``--resume RUN_DIR``. A model trained
without the recipe's ``precise_batch_norm`` gets it afterwards with
``--recompute-batch-norm MODEL --out NEW.keras`` (see :func:`utils.training.recompute_model_statistics`).
Train only on FER2013's Training split; PublicTest is the validation split (the one
the recipe was tuned on); PrivateTest is never looked at here. A quick run (the one
lesson 04 trains on a CPU in quick mode): ``--config models/recipe_quick.json``.

This module only parses the arguments; the run itself is :func:`utils.training.train`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import utils  # noqa: F401  (quiets TensorFlow before it is imported)
from utils.constants import PROJECT_ROOT
from utils.errors import CourseError
from utils.training import DEFAULT_RECIPE, read_recipe, recompute_model_statistics, train


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
    parser.add_argument("--recompute-batch-norm", metavar="MODEL",
                        help="no training: recompute MODEL's batch-norm statistics on the plain training faces (needs --out)")
    parser.add_argument("--out", help="with --recompute-batch-norm: the new .keras file (never overwritten)")
    args = parser.parse_args(argv)
    if args.recompute_batch_norm:
        if not args.out:
            parser.error("--recompute-batch-norm needs --out NEW.keras (the model given is never changed)")
        try:
            results = recompute_model_statistics(args.recompute_batch_norm, args.out, data=args.data, cache=not args.no_cache)
        except CourseError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        for key, value in results.items():
            print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
        return 0
    if args.resume and args.run_dir:
        parser.error("--resume continues a run in its own folder; leave out --run-dir")
    try:
        recipe = None if args.resume else read_recipe(args.config)
        train(recipe=recipe, run_dir=args.run_dir, resume=args.resume, data=args.data, epochs=args.epochs,
              limit=args.limit, cache=not args.no_cache, verbose=args.verbose)
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
