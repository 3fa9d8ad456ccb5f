"""What does test-time augmentation buy, and what does it cost? Accuracy and faces/s per number of views.

    .venv/bin/python benchmarks/bench_tta.py --data ../shared/fer2013 [--model PATH] [--split public_test]

Views: 1 = the face; 2 = the face and its mirror (the shipped pipeline,
``utils.models.predict_proba``); 6 = those two shifted 2 px up and down as well; 10 = also
shifted 2 px left and right. Shifts pad with the border pixels. The probabilities of the views
are averaged. Prints one JSON object: for each view count its accuracy, expected calibration
error and batched faces per second (the whole split, batches of 512).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHIFTS = {6: [(-2, 0), (2, 0)], 10: [(-2, 0), (2, 0), (0, -2), (0, 2)]}


def shifted(x, dy: int, dx: int, pad: int = 2):
    """Faces ``(N, H, W, 1)`` moved by (dy, dx) pixels, borders repeated."""
    import numpy as np

    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    height, width = x.shape[1:3]
    return padded[:, pad + dy:pad + dy + height, pad + dx:pad + dx + width]


def views(x, count: int) -> list:
    """The ``count`` views of the faces, each with its mirror image after it."""
    plain = [x, x[:, :, ::-1]]
    if count <= 2:
        return plain[:count]
    out = list(plain)
    for dy, dx in SHIFTS[count]:
        moved = shifted(x, dy, dx)
        out += [moved, moved[:, :, ::-1]]
    return out


def main() -> int:
    import numpy as np

    import utils  # noqa: F401  (quiet TensorFlow import)
    from utils.calibration import expected_calibration_error
    from utils.data import load_fer2013
    from utils.models import _predict_batches, load_model, preprocess

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", default=None)
    parser.add_argument("--split", default="public_test")
    args = parser.parse_args()

    split = load_fer2013(args.data, progress=False)[args.split]
    model = load_model(args.model)
    x = preprocess(split.images)
    _predict_batches(model, x[:512], 512)                     # warm-up: graph tracing
    report = {"split": args.split, "faces": len(x), "views": {}}
    for count in (1, 2, 6, 10):
        start = time.perf_counter()
        probabilities = np.mean([_predict_batches(model, v, 512) for v in views(x, count)], axis=0)
        seconds = time.perf_counter() - start
        report["views"][count] = {
            "accuracy": round(float(np.mean(probabilities.argmax(axis=1) == split.labels)), 4),
            "ece": round(expected_calibration_error(probabilities, split.labels), 4),
            "faces_per_second": round(len(x) / seconds),
        }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
