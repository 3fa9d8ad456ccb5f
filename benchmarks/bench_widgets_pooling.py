"""Lesson 03 explorers: time of one update (control change -> new output), p50 / p95 / max.

    .venv/bin/python benchmarks/bench_widgets_pooling.py [--repeats 200]

A change is timed from setting the control's value (or clicking a button) in Python to the
return of the observer, which has recomputed the layer and replaced the PNG bytes or HTML
(the time the kernel spends; the browser then only shows new bytes). Target: p95 <= 30 ms.
Inputs are those of the lesson: a 46x46 edge map of a synthetic 48x48 face, 7 logits.
Also timed: the numpy layers on a batch of 64 faces, for scale.
"""

import argparse
import time

import numpy as np

import utils  # noqa: F401
from utils.layers import dropout, max_pool2d, relu, softmax
from utils.layers.convolution import KERNELS, correlate2d
from utils.synthetic import make_faces
from utils.widgets.pooling import dropout_explorer, pooling_explorer, softmax_explorer

TARGET_MS = 30.0


def timed(actions, repeats: int) -> np.ndarray:
    """Milliseconds of each of ``repeats`` calls, cycling through ``actions``."""
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        actions[i % len(actions)]()
        times.append(1000 * (time.perf_counter() - start))
    return np.array(times)


def report(name: str, ms: np.ndarray) -> bool:
    p50, p95 = np.percentile(ms, [50, 95])
    ok = p95 <= TARGET_MS
    print(f"  {name:<34} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   max {ms.max():6.2f} ms   "
          f"({len(ms)} updates) {'ok' if ok else 'SLOWER THAN TARGET'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    faces, _ = make_faces(64, seed=0)
    face = faces[0, ..., 0] / 255.0
    edges = np.abs(correlate2d(correlate2d(face, KERNELS["gaussian"], padding="same"), KERNELS["sobel_y"]))

    print(f"widget updates (target p95 <= {TARGET_MS:.0f} ms):")
    results = []
    pool = pooling_explorer(edges)
    cycles = [(pool.window, [2, 3, 4, 5, 6, 1]), (pool.stride, [1, 2, 3]), (pool.mode, ["max", "average"]),
              (pool.padding, ["valid", "same"])]

    def set_pooling(i=[0]):  # noqa: B006  (the list is a deliberate call counter) every call moves one control to its next value, so every call updates
        control, options = cycles[i[0] % len(cycles)]
        control.value = options[(options.index(control.value) + 1) % len(options)]
        i[0] += 1
    results.append(report("pooling explorer (any control)", timed([set_pooling], args.repeats)))

    drop = dropout_explorer(face)
    results.append(report("dropout explorer: new mask", timed([drop.new_mask.click], args.repeats)))
    rates = iter(np.tile(np.arange(0.0, 0.95, 0.05), args.repeats))
    results.append(report("dropout explorer: rate slider", timed([lambda: setattr(drop.rate, "value", round(next(rates), 2))], args.repeats)))
    results.append(report("dropout explorer: +10 masks", timed([drop.ten_masks.click], args.repeats)))

    soft = softmax_explorer()
    values = np.random.default_rng(0).uniform(-8, 8, size=args.repeats)
    logit_moves = [lambda i=i: setattr(soft.sliders[i % 7], "value", round(float(values[i]), 1)) for i in range(args.repeats)]
    results.append(report("softmax explorer: one logit", timed(logit_moves, args.repeats)))
    temperatures = np.round(10 ** np.random.default_rng(1).uniform(-1, 1, size=args.repeats), 2)
    results.append(report("softmax explorer: temperature",
                          timed([lambda i=i: setattr(soft.temperature, "value", float(temperatures[i])) for i in range(args.repeats)], args.repeats)))

    batch = faces.astype(np.float32) / 255.0
    print("numpy layers on 64 faces (48x48x1), median of 20:")
    for name, call in [("max_pool2d 2x2", lambda: max_pool2d(batch)), ("relu", lambda: relu(batch)),
                       ("dropout 0.5", lambda: dropout(batch, 0.5, 0)), ("softmax (64x7)", lambda: softmax(batch[:, 0, :7, 0]))]:
        print(f"  {name:<34} {np.median(timed([call], 20)):6.3f} ms")
    print("all widget updates within target" if all(results) else "SOME WIDGET UPDATES ARE SLOWER THAN TARGET")


if __name__ == "__main__":
    main()
