"""Data layer speed: cold vs cached load of FER2013, and synthetic face generation.

    .venv/bin/python benchmarks/bench_data.py [--data /path/to/fer2013]

Cold = decoding every image (cache in a fresh temporary folder); cached = the second load,
which reads the .npz the first one wrote. Each cached figure is the median of 5 loads.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import utils  # noqa: F401  (quiet TensorFlow before anything imports it)
from utils.data import load_fer2013, resolve_data_dir
from utils.synthetic import make_faces


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default = Path(__file__).resolve().parents[2] / "shared" / "fer2013"
    parser.add_argument("--data", default=str(default) if default.exists() else None)
    args = parser.parse_args()
    root = resolve_data_dir(args.data)
    with tempfile.TemporaryDirectory() as cache:
        cold = seconds(lambda: load_fer2013(root, cache_dir=cache, progress=False))
        cached = statistics.median(seconds(lambda: load_fer2013(root, cache_dir=cache)) for _ in range(5))
    n = sum(len(s) for s in load_fer2013(root, progress=False).splits.values())
    print(f"FER2013 at {root}: {n:,} images")
    print(f"  cold load (decode all images): {cold:6.2f} s  ({n / cold:,.0f} images/s)")
    print(f"  cached load (median of 5):     {cached:6.2f} s  (target < 2 s)")
    generate = seconds(lambda: make_faces(10_000, seed=0))
    print(f"synthetic faces: 10,000 in {generate:.2f} s ({10_000 / generate:,.0f} faces/s)")


if __name__ == "__main__":
    main()
