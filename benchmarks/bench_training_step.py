"""How long does one training step of the emotion CNN take on this CPU? (the speed levers of training)

    .venv/bin/python benchmarks/bench_training_step.py [--steps N] [--batch B]
        [--arch NAME ...] [--onednn 0 1] [--policy float32 mixed_bfloat16]

For every architecture x oneDNN setting x dtype policy, one fresh process builds the model,
compiles it as ``utils.training.train`` does (AdamW, label-smoothed cross-entropy) and times
``train_on_batch`` on random faces after two warm-up steps. Prints milliseconds per step
(median) and the implied seconds per FER2013 epoch (28,709 faces). TensorFlow reads
``TF_ENABLE_ONEDNN_OPTS`` once at import, hence one process per setting.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FER2013_TRAIN_FACES = 28_709

#: Candidate architectures (``utils.models.Architecture`` settings) compared by default.
ARCHITECTURES = {
    "interim-16to256x5": {"filters": [16, 32, 64, 128, 256], "block_dropout": [0.1] * 5, "pool": [True, True, True, True, False]},
    "16to128x4": {"filters": [16, 32, 64, 128], "block_dropout": [0.1] * 4},
    "32to256x4": {"filters": [32, 64, 128, 256], "block_dropout": [0.1] * 4},
    "32to256x4-6x6": {"filters": [32, 64, 128, 256], "block_dropout": [0.1] * 4, "pool": [True, True, True, False]},
    "64to512x4": {"filters": [64, 128, 256, 512], "block_dropout": [0.1] * 4},
}


def measure(arch_name: str, steps: int, batch: int, policy: str) -> dict:
    """Median milliseconds of one training step (run in the child process)."""
    import keras
    import numpy as np

    from utils.models import Architecture, build_emotion_cnn, multiply_adds_per_face
    from utils.training import compile_model

    keras.mixed_precision.set_global_policy(policy)
    arch = Architecture.from_dict(ARCHITECTURES[arch_name])
    model = build_emotion_cnn(arch)
    compile_model(model, learning_rate=1e-3)
    rng = np.random.default_rng(0)
    x = rng.random((batch, 48, 48, 1), dtype=np.float32)
    y = np.eye(7, dtype=np.float32)[rng.integers(0, 7, batch)]
    for _ in range(2):
        model.train_on_batch(x, y)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    step_ms = float(np.median(times) * 1000)
    return {"arch": arch_name, "parameters": model.count_params(), "mmac": multiply_adds_per_face(arch) / 1e6,
            "step_ms": step_ms, "epoch_s": step_ms / 1000 * FER2013_TRAIN_FACES / batch}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--arch", nargs="+", default=list(ARCHITECTURES), choices=list(ARCHITECTURES))
    parser.add_argument("--onednn", nargs="+", default=["0", "1"], choices=["0", "1"])
    parser.add_argument("--policy", nargs="+", default=["float32"], choices=["float32", "mixed_bfloat16"])
    parser.add_argument("--child", nargs=2, metavar=("ARCH", "POLICY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure(args.child[0], args.steps, args.batch, args.child[1])))
        return 0
    print(f"load average before: {os.getloadavg()[0]:.2f}; batch {args.batch}, median of {args.steps} steps")
    print(f"{'architecture':<20} {'params':>10} {'MMAC':>7} {'oneDNN':>6} {'policy':>15} {'ms/step':>8} {'s/epoch':>8}")
    for arch in args.arch:
        for onednn in args.onednn:
            for policy in args.policy:
                env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "3"}
                out = subprocess.run([sys.executable, __file__, "--child", arch, policy, "--steps", str(args.steps),
                                      "--batch", str(args.batch)], env=env, capture_output=True, text=True)
                if out.returncode:
                    print(f"{arch:<20} failed: {out.stderr.strip().splitlines()[-1:]}")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{arch:<20} {r['parameters']:>10,} {r['mmac']:>7.1f} {onednn:>6} {policy:>15} "
                      f"{r['step_ms']:>8.1f} {r['epoch_s']:>8.0f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
