"""Lesson 04: Grad-CAM, feature maps and the two explorers, on the recipe's architecture.

    .venv/bin/python benchmarks/bench_explain.py [--repeats 50]

Times (median and p95 of ``--repeats`` calls after one warm-up call, which builds the
Keras sub-models and traces the graphs): Grad-CAM for one face and for a batch of 8,
the feature maps of every convolution for one face, one move of the feature-map browser's
channel slider and of its layer dropdown (observer return: new PNG bytes ready), and the
photo predictor on the matplotlib sample photo (decode, detect, predict, draw).
The model is the recipe's architecture with untrained weights: the cost does not depend
on the weights. Targets: slider/dropdown p95 <= 30 ms; Grad-CAM of one face <= 200 ms.
"""

import argparse
import json
import time

import numpy as np

import utils  # noqa: F401
from utils.data import PROJECT_ROOT
from utils.explain import feature_maps, grad_cam
from utils.images import sample_photo_path
from utils.models import Architecture, build_emotion_cnn
from utils.synthetic import make_faces
from utils.widgets.model import FeatureMapBrowser, PhotoPredictor


def timed(action, repeats: int) -> np.ndarray:
    action()  # warm-up: sub-models are built and graphs traced once
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        action(i)
        times.append(1000 * (time.perf_counter() - start))
    return np.array(times)


def report(name: str, ms: np.ndarray, target: float | None = None) -> None:
    p50, p95 = np.percentile(ms, [50, 95])
    verdict = "" if target is None else ("ok" if p95 <= target else "SLOWER THAN TARGET")
    print(f"  {name:<44} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   ({len(ms)} calls) {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    import keras

    recipe = json.loads((PROJECT_ROOT / "models" / "recipe.json").read_text())
    keras.utils.set_random_seed(0)
    model = build_emotion_cnn(Architecture.from_dict(recipe["model"]))
    faces, _ = make_faces(8, seed=3)
    print(f"model: recipe architecture, {model.count_params():,} parameters")
    report("grad_cam, 1 face (last block)", timed(lambda i=0: grad_cam(model, faces[0]), args.repeats), 200)
    report("grad_cam, 8 faces (last block)", timed(lambda i=0: grad_cam(model, faces), args.repeats))
    report("feature_maps, 1 face, every convolution", timed(lambda i=0: feature_maps(model, faces[0]), args.repeats))

    browser = FeatureMapBrowser(model, faces[0])
    layers = [value for _, value in browser.layer.options]
    report("browser: channel slider move", timed(
        lambda i=0: setattr(browser.channel, "value", (browser.channel.value + 1) % (browser.channel.max + 1)), args.repeats), 30)
    report("browser: layer dropdown change", timed(
        lambda i=0: setattr(browser.layer, "value", layers[(i + 1) % len(layers)]), args.repeats), 30)

    predictor = PhotoPredictor(model)
    photo = sample_photo_path().read_bytes()
    report("photo predictor: sample photo (1 face)", timed(lambda i=0: predictor.analyse(photo), max(5, args.repeats // 5)))


if __name__ == "__main__":
    main()
