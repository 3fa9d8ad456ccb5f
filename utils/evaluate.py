"""Evaluate a model on a FER2013 split, from the command line (the metrics are :mod:`utils.metrics`)::

    python -m utils.evaluate --data DIR [--model PATH] [--split S] [--json]

``--data`` is a FER2013 root (image folders, fer2013.csv or a .zip) or one split's
folder of class subfolders; ``--split`` picks the split (default: the held-out test
split, ``private_test`` if present, else ``public_test`` / ``test``); ``--model``
defaults to the shipped model.

Lesson 04 (section 5, "How good is it?") explains the metrics it reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import utils  # noqa: F401  (quiets TensorFlow before it is imported)
from utils.data import DataError, load_fer2013
from utils.errors import CourseError
from utils.metrics import choose_split, evaluate_model, format_report
from utils.models import SHIPPED_MODEL_PATH, load_model


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.evaluate", description="Evaluate an emotion model on a FER2013 split.")
    parser.add_argument("--data", required=True, help="FER2013 root (folders, CSV or zip) or one split's folder of class folders")
    parser.add_argument("--model", help=f"a .keras model (default: the shipped {SHIPPED_MODEL_PATH.name})")
    parser.add_argument("--split", help="the split to evaluate (default: private_test if present, else public_test / test)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    parser.add_argument("--no-flip-tta", action="store_true", help="predict the faces only, not their mirror images")
    parser.add_argument("--batch-size", type=int, default=512)
    args = parser.parse_args(argv)
    try:
        if not Path(args.data).expanduser().exists():
            raise DataError(f"No data set at {args.data}: the path does not exist.")
        model_path = Path(args.model) if args.model else SHIPPED_MODEL_PATH
        model = load_model(model_path)
        dataset = load_fer2013(args.data, progress=not args.json and sys.stderr.isatty())
        split = choose_split(dataset, args.split)
        images, labels = dataset[split].images, dataset[split].labels
        result = evaluate_model(model, images, labels, flip_tta=not args.no_flip_tta, batch_size=args.batch_size)
    except (CourseError, ValueError) as error:  # ValueError: bad numbers given to the metrics
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"model": str(model_path), "data": dataset.source, "split": split, **result.to_dict()}))
    else:
        print(format_report(result, title=f"{model_path} on {dataset.source} [{split}]"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
