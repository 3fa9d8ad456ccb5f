"""Lesson 02: the numpy convolution against TensorFlow and OpenCV, and the explorers' update times.

    .venv/bin/python benchmarks/bench_convolution.py [--repeats 30] [--widget-repeats 200]

Convolutions (3x3 kernels, zero 'same' padding, float32, stride 1), median of ``--repeats``
runs after one warm-up, all in this one process so that the ratios compare like with like:

- one 256x256 grayscale image with 1 and with 8 filters;
- a batch of 64 faces 48x48x1 with 32 filters (the first layer of a FER2013 network).

``utils.layers.conv2d`` (vectorised numpy, im2col) is compared with ``tf.nn.conv2d`` and
``cv2.filter2D`` (one call per image and filter: OpenCV filters one 2D plane at a time).
``conv2d_loops`` is timed on one face only (it is there for reading, not for speed).

Widget updates are timed from setting a control's value in Python to the return of the
observer that recomputed the map and replaced the PNG bytes / HTML (what the kernel spends;
the browser then only shows new bytes). Target: p95 <= 30 ms.
"""

from __future__ import annotations

import argparse
import os
import time

import cv2
import numpy as np
import tensorflow as tf

import utils  # noqa: F401  (quiet TensorFlow)
from utils.images import crop, detect_faces, load_sample_photo, to_gray
from utils.layers.convolution import KERNELS, conv2d, conv2d_loops
from utils.synthetic import make_faces
from utils.widgets.convolution import filter_bank, kernel_explorer, sliding_window_stepper

TARGET_MS = 30.0


def median_ms(call, repeats: int) -> float:
    call()  # warm-up: TensorFlow traces and allocates on the first call
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def cv2_bank(images: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """cv2.filter2D over every image and filter of a (N, H, W, 1) batch and (K, K, 1, F) kernels."""
    out = np.empty(images.shape[:3] + (kernels.shape[3],), dtype=np.float32)
    for n in range(images.shape[0]):
        for f in range(kernels.shape[3]):
            out[n, :, :, f] = cv2.filter2D(images[n, :, :, 0], cv2.CV_32F, kernels[:, :, 0, f], borderType=cv2.BORDER_CONSTANT)
    return out


def compare(title: str, images: np.ndarray, kernels: np.ndarray, repeats: int) -> None:
    tf_images, tf_kernels = tf.constant(images), tf.constant(kernels)
    reference = conv2d(images, kernels, padding="same")
    for name, call in [("tf.nn.conv2d", lambda: tf.nn.conv2d(tf_images, tf_kernels, 1, "SAME").numpy()),
                       ("cv2.filter2D", lambda: cv2_bank(images, kernels))]:
        assert np.allclose(call(), reference, rtol=1e-4, atol=1e-3), f"{name} disagrees with conv2d"
    numpy_ms = median_ms(lambda: conv2d(images, kernels, padding="same"), repeats)
    tf_ms = median_ms(lambda: tf.nn.conv2d(tf_images, tf_kernels, 1, "SAME").numpy(), repeats)
    cv2_ms = median_ms(lambda: cv2_bank(images, kernels), repeats)
    print(f"{title}")
    for name, ms in [("numpy conv2d (vectorised)", numpy_ms), ("tf.nn.conv2d", tf_ms), ("cv2.filter2D", cv2_ms)]:
        print(f"  {name:<28} {ms:9.3f} ms   {ms / numpy_ms:6.2f}x numpy")


def widget_p95(name: str, actions, repeats: int) -> bool:
    """Wall-clock p50/p95/max of ``repeats`` updates, and the p95 of this process's CPU time.

    The CPU time is what an update costs on an idle core; when other programs share the
    cores, the wall-clock figures grow while the CPU figure stays (compare the two).
    """
    wall, cpu = [], []
    for i in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        actions[i % len(actions)]()
        wall.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.process_time() - start_cpu))
    wall = np.array(wall)
    p50, p95 = np.percentile(wall, [50, 95])
    ok = p95 <= TARGET_MS
    print(f"  {name:<40} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   max {wall.max():6.2f} ms   "
          f"cpu p95 {np.percentile(cpu, 95):6.2f} ms   {'ok' if ok else 'SLOWER THAN TARGET'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--widget-repeats", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"CPU cores visible: {os.cpu_count()}, TensorFlow threads: intra {tf.config.threading.get_intra_op_parallelism_threads()} "
          f"(0 = all), numpy {np.__version__}, TensorFlow {tf.__version__}, OpenCV {cv2.__version__}")
    # other processes on the same cores inflate every figure: say how busy the machine was
    print("load average (1, 5, 15 min) at start: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))

    image = rng.integers(0, 256, (1, 256, 256, 1)).astype(np.float32)
    compare("256x256 image, 1 filter 3x3:", image, rng.standard_normal((3, 3, 1, 1)).astype(np.float32), args.repeats)
    compare("256x256 image, 8 filters 3x3:", image, rng.standard_normal((3, 3, 1, 8)).astype(np.float32), args.repeats)
    faces = make_faces(64, seed=0)[0].astype(np.float32) / 255
    compare("64 faces 48x48x1, 32 filters 3x3:", faces, rng.standard_normal((3, 3, 1, 32)).astype(np.float32), args.repeats)
    one_filter = rng.standard_normal((3, 3, 1, 32)).astype(np.float32)
    loops_ms = median_ms(lambda: conv2d_loops(faces[:1], one_filter, padding="same"), 3)
    fast_ms = median_ms(lambda: conv2d(faces[:1], one_filter, padding="same"), args.repeats)
    print(f"one face 48x48x1, 32 filters: conv2d_loops {loops_ms:.1f} ms, conv2d {fast_ms:.3f} ms "
          f"({loops_ms / fast_ms:.0f}x)")

    gray = to_gray(load_sample_photo())
    photo_face = crop(gray, detect_faces(gray)[0], margin=0.1)
    small = make_faces(7, seed=2)[0][:2, ..., 0]
    inputs = {"photo": photo_face, "face": small[0], "synthetic": small[1]}
    print(f"widget updates, {args.widget_repeats} each (photo face {photo_face.shape[0]}x{photo_face.shape[1]}, "
          f"target p95 <= {TARGET_MS:.0f} ms wall clock):")
    results = []

    explorer = kernel_explorer(inputs, preset="sobel_y")
    values = rng.integers(-4, 5, size=args.widget_repeats)
    cell_moves = [lambda i=i: setattr(explorer.cells[1 + i % 3][1 + (i // 3) % 3], "value",
                                      float(values[i]) + (0.5 if explorer.cells[1 + i % 3][1 + (i // 3) % 3].value == values[i] else 0))
                  for i in range(args.widget_repeats)]
    results.append(widget_p95("kernel explorer: edit a cell (photo)", cell_moves, args.widget_repeats))
    presets = [n for n in KERNELS]
    results.append(widget_p95("kernel explorer: preset (photo)",
                              [lambda i=i: setattr(explorer.preset, "value", presets[i % len(presets)]) for i in range(len(presets))],
                              args.widget_repeats))
    results.append(widget_p95("kernel explorer: stride / padding / size",
                              [lambda: setattr(explorer.stride, "value", 3 - explorer.stride.value),
                               lambda: setattr(explorer.padding, "value", "valid" if explorer.padding.value == "same" else "same"),
                               lambda: setattr(explorer.size, "value", 8 - explorer.size.value)], args.widget_repeats))
    results.append(widget_p95("kernel explorer: image",
                              [lambda i=i: setattr(explorer.source, "value", list(inputs)[i % 3]) for i in range(3)], args.widget_repeats))
    # what one update sends for the pointer link (HTML over the feature map), next to the map's PNG; the CSS
    # of the link is only sent again when the geometry (image, kernel size, stride, padding) changes
    explorer.preset.value, explorer.padding.value = "sobel_y", "same"
    for source in inputs:
        for stride in (1, 2):
            explorer.source.value, explorer.stride.value = source, stride
            cells = explorer.hover_geometry
            print(f"  kernel explorer hover link, {source} stride {stride}: {len(cells.rows)}x{len(cells.cols)} hover cells "
                  f"(group {cells.group}), per update {len(explorer.cell_overlay.value.encode()):,} B of HTML "
                  f"(map PNG {len(explorer.feature_view.value):,} B); on a geometry change "
                  f"{len(explorer.hover_rules.value.encode()):,} B of CSS")

    tiny = np.ones((6, 6), dtype=np.float32)
    tiny[:3, 3:] = 9
    stepper = sliding_window_stepper(tiny, KERNELS["sobel_x"])
    results.append(widget_p95("stepper: next cell",
                              [lambda: setattr(stepper.position, "value", (stepper.position.value + 1) % (stepper.position.max + 1))],
                              args.widget_repeats))
    results.append(widget_p95("stepper: stride / padding",
                              [lambda: setattr(stepper.stride, "value", 3 - stepper.stride.value),
                               lambda: setattr(stepper.padding, "value", "valid" if stepper.padding.value == "same" else "same")],
                              args.widget_repeats))

    bank = filter_bank(inputs)
    results.append(widget_p95("filter bank: image (8 maps)",
                              [lambda i=i: setattr(bank.source, "value", list(inputs)[i % 3]) for i in range(3)], args.widget_repeats))
    results.append(widget_p95("filter bank: stride",
                              [lambda: setattr(bank.stride, "value", 3 - bank.stride.value)], args.widget_repeats))
    print("load average at end: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    print("all widget updates within target" if all(results) else "SOME WIDGET UPDATES ARE SLOWER THAN TARGET")


if __name__ == "__main__":
    main()
