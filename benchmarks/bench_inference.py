"""How fast does the emotion CNN predict on this CPU? Faces per second, batched and one by one.

    .venv/bin/python benchmarks/bench_inference.py [--model PATH] [--faces N] [--onednn 0|1|both]

Measures the shipped prediction pipeline (utils.models.predict_proba: scale to [0, 1],
predict, and with flip-TTA predict the mirrored faces too) on random 48x48 faces.
Without --model it uses the shipped model, else the newest ``runs/*/best.keras``, else
a freshly built model of models/recipe.json (same layers, so the same speed).
TensorFlow's oneDNN kernels are switched by an environment variable read at import,
so each setting runs in its own process.
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
sys.path.insert(0, str(ROOT))


def pick_model(path: str | None) -> tuple[str, str]:
    """(what to load, how it was chosen)."""
    if path:
        return path, "given"
    shipped = ROOT / "models" / "emotion_cnn.keras"
    if shipped.exists():
        return str(shipped), "shipped"
    checkpoints = sorted((ROOT / "runs").glob("*/best.keras"), key=lambda p: p.stat().st_mtime)
    if checkpoints:
        return str(checkpoints[-1]), "newest checkpoint"
    return "", "built from models/recipe.json (untrained; same speed)"


def measure(model_path: str, faces: int, repeats: int) -> dict:
    import numpy as np

    import utils  # noqa: F401
    from utils.models import Architecture, build_emotion_cnn, load_model, multiply_adds_per_face, predict_proba

    arch = Architecture.from_dict(json.loads((ROOT / "models" / "recipe.json").read_text())["model"])
    model = load_model(model_path) if model_path else build_emotion_cnn(arch)
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (faces, 48, 48, 1), dtype=np.uint8)
    results: dict = {"parameters": model.count_params(), "mmac_per_face": multiply_adds_per_face(arch) / 1e6}
    for flip in (False, True):
        for batch_size in (64, 256, 1024):
            predict_proba(model, batch[:batch_size], flip_tta=flip, batch_size=batch_size)  # warm-up
            best = float("inf")
            for _ in range(repeats):
                started = time.perf_counter()
                predict_proba(model, batch, flip_tta=flip, batch_size=batch_size)
                best = min(best, time.perf_counter() - started)
            results[f"batch {batch_size:4d}, flip-TTA {'on ' if flip else 'off'}"] = faces / best
        predict_proba(model, batch[:1], flip_tta=flip)
        started = time.perf_counter()
        for face in batch[:50]:
            predict_proba(model, face[None], flip_tta=flip)
        results[f"one face at a time, flip-TTA {'on ' if flip else 'off'}"] = 50 / (time.perf_counter() - started)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a .keras model (default: shipped, else newest runs/*/best.keras)")
    parser.add_argument("--faces", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions; the fastest counts")
    parser.add_argument("--onednn", choices=("0", "1", "both"), default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    model_path, how = pick_model(args.model)
    if args.child:
        print(json.dumps(measure(model_path, args.faces, args.repeats)))
        return 0
    print(f"model: {model_path or '-'} ({how})")
    print(f"CPU cores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for setting in (("0", "1") if args.onednn == "both" else (args.onednn,)):
        env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": setting, "TF_CPP_MIN_LOG_LEVEL": "3"}
        command = [sys.executable, __file__, "--child", "--faces", str(args.faces), "--repeats", str(args.repeats)]
        if model_path:
            command += ["--model", model_path]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            print(done.stderr[-2000:], file=sys.stderr)
            return done.returncode
        results = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"\nTF_ENABLE_ONEDNN_OPTS={setting}: {results.pop('parameters'):,} parameters, "
              f"{results.pop('mmac_per_face'):.1f} M multiply-adds per face (x2 with flip-TTA)")
        for name, rate in results.items():
            print(f"  {name:<36} {rate:8.0f} faces/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
