"""The model card's figures, measured again: ``python -m tools.model_card_figures --data ../shared/fer2013``.

Writes ``models/confusion_public_test.png`` and ``models/training_curves.png`` (from a run's
history.csv), with ``--compare RUN RUN ...`` also ``models/runs_compared.png`` (those runs'
curves in one figure), and prints one JSON object with the calibration figures the card quotes: ECE with
and without flip averaging, the mean top probability, and a temperature fitted on the
even-numbered PublicTest faces and judged on the odd-numbered ones.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def read_history(path: Path) -> dict[str, list[float]]:
    """A run's history.csv as columns of floats."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise SystemExit(f"{path} has no epochs: train the run first")
    return {key: [float(row[key]) for row in rows] for key in rows[0]}


def runs_figure(run_dirs: list[Path]):
    """Training and PublicTest curves of several runs (their history.csv) in one figure."""
    from utils import viz

    histories = {Path(run).name: read_history(Path(run) / "history.csv") for run in run_dirs}
    return viz.compare_training_curves(histories, title="training (solid) vs PublicTest (dashed)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="FER2013 root with the PublicTest split")
    parser.add_argument("--model", default=None, help="a .keras model (default: the shipped one)")
    parser.add_argument("--run", default=str(ROOT / "runs" / "global_average_2"), help="the run whose history.csv to plot (default: the shipped model's)")
    parser.add_argument("--out", default=str(ROOT / "models"), help="folder for the PNG files")
    parser.add_argument("--compare", nargs="+", default=None, metavar="RUN",
                        help="also draw these runs' curves together (runs_compared.png)")
    args = parser.parse_args(argv)

    import matplotlib
    matplotlib.use("Agg")
    import numpy as np

    sys.path.insert(0, str(ROOT))
    import utils  # noqa: F401  (quiet TensorFlow)
    from utils import calibration, viz
    from utils.data import load_fer2013
    from utils.metrics import confusion_matrix
    from utils.models import load_model, predict_proba

    split = load_fer2013(args.data, progress=False)["public_test"]
    model = load_model(args.model) if args.model else load_model()
    single = predict_proba(model, split.images, flip_tta=False)
    shipped = predict_proba(model, split.images)
    labels = np.asarray(split.labels)
    out = Path(args.out)

    figure = viz.confusion_heatmap(confusion_matrix(labels, shipped.argmax(axis=1)),
                                   title="PublicTest, shipped pipeline (rows: true emotion)")
    figure.savefig(out / "confusion_public_test.png", dpi=110, bbox_inches="tight")
    history = read_history(Path(args.run) / "history.csv")
    figure = viz.plot_history(history, title=f"{Path(args.run).name}: training vs PublicTest")
    figure.savefig(out / "training_curves.png", dpi=110, bbox_inches="tight")

    figures = [out / "confusion_public_test.png", out / "training_curves.png"]
    if args.compare:
        figures.append(out / "runs_compared.png")
        runs_figure([Path(run) for run in args.compare]).savefig(figures[-1], dpi=110, bbox_inches="tight")

    even, odd = slice(0, None, 2), slice(1, None, 2)
    temperature = calibration.fit_temperature(shipped[even], labels[even])
    scaled = calibration.apply_temperature(shipped[odd], temperature)
    report = {
        "faces": int(len(labels)),
        "accuracy_single": float(np.mean(single.argmax(1) == labels)),
        "accuracy_shipped": float(np.mean(shipped.argmax(1) == labels)),
        "ece_single": calibration.expected_calibration_error(single, labels),
        "ece_shipped": calibration.expected_calibration_error(shipped, labels),
        "mean_top_probability_shipped": float(shipped.max(axis=1).mean()),
        "temperature_fitted_on_even": temperature,
        "ece_odd_before": calibration.expected_calibration_error(shipped[odd], labels[odd]),
        "ece_odd_after": calibration.expected_calibration_error(scaled, labels[odd]),
        "nll_odd_before": calibration.negative_log_likelihood(shipped[odd], labels[odd]),
        "nll_odd_after": calibration.negative_log_likelihood(scaled, labels[odd]),
        "figures": [str(path) for path in figures],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
