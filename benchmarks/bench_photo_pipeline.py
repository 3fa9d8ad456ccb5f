"""Photo -> faces -> emotions for one photo with one face: milliseconds per stage and in all.

    .venv/bin/python benchmarks/bench_photo_pipeline.py [--repeats 50] [--model PATH]

Uses the web demo's and lesson 05's pipeline (:class:`utils.pipeline.PhotoPipeline`, warmed
up as the web demo does) on matplotlib's sample portrait, re-encoded as a webcam-size JPEG
(the photo scaled to 320 px wide) and as the full-size JPEG file. Stages: decode (bytes ->
BGR, capped at the pipeline's side limit), detect (Haar cascade -> boxes -> 48x48 faces),
predict (the model, flip averaging included). Prints p50 / p95 per stage as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentiles(samples: list[float]) -> dict[str, float]:
    import numpy as np

    return {"p50_ms": round(float(np.percentile(samples, 50)) * 1000, 1),
            "p95_ms": round(float(np.percentile(samples, 95)) * 1000, 1)}


def measure(pipeline, data: bytes, repeats: int) -> dict:
    """Per-stage timings of ``repeats`` runs of the pipeline on one encoded photo."""
    stages: dict[str, list[float]] = {"decode": [], "detect": [], "predict": [], "total": []}
    faces = 0
    for _ in range(repeats):
        start = time.perf_counter()
        image, _, _ = pipeline.decode(data)
        decoded = time.perf_counter()
        found = pipeline.detect(image)
        detected = time.perf_counter()
        pipeline.probabilities(found.faces)
        done = time.perf_counter()
        faces = len(found.faces)
        for name, seconds in (("decode", decoded - start), ("detect", detected - decoded),
                              ("predict", done - detected), ("total", done - start)):
            stages[name].append(seconds)
    return {"faces": faces, "bytes": len(data), "height_width": list(image.shape[:2]),
            **{name: percentiles(samples) for name, samples in stages.items()}}


def main() -> int:
    import cv2

    import utils  # noqa: F401  (quiet TensorFlow import)
    from utils.images import load_sample_photo, sample_photo_path
    from utils.models import load_model
    from utils.pipeline import PhotoPipeline

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()

    pipeline = PhotoPipeline(load_model(args.model), warm_up=True)
    photo = load_sample_photo()
    webcam = cv2.resize(photo, (320, round(photo.shape[0] * 320 / photo.shape[1])), interpolation=cv2.INTER_AREA)
    inputs = {"webcam-size JPEG (320 px wide)": cv2.imencode(".jpg", webcam, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes(),
              f"{sample_photo_path().name} as shipped": sample_photo_path().read_bytes()}
    report = {name: measure(pipeline, data, args.repeats) for name, data in inputs.items()}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
