"""Which ingredient of the recipe buys what? Ablations of the training recipe, on one fixed budget.

An ablation file (``models/ablations.json``, the quick ``models/ablations_quick.json``
that a student can run in a few minutes, or ``models/ablations_medium.json``: the full
file's variants on a subset, a CPU afternoon) names a base recipe, a budget (how many
training images, how many epochs) and a list of variants; each variant changes a few
settings of the base recipe, written as dotted keys::

    {"name": "no_label_smoothing", "changes": {"training.label_smoothing": 0.0},
     "question": "Does label smoothing help?"}

Every variant is trained with :func:`utils.training.train` on the same images and epochs and
scored on the validation split (PublicTest: the split the recipe is tuned on; PrivateTest
is never looked at), with and without flip test-time augmentation. Results go to one
small JSON file (each variant's settings, history and accuracies), written after every
variant, so an interrupted search continues where it stopped. Lesson 04 plots that file
("what each ingredient bought"); the plot is :func:`utils.viz.plot_ablations`.

Command line::

    python -m utils.experiments run --spec models/ablations_quick.json --out runs/ablations_quick
    python -m utils.experiments plot --results runs/ablations_quick/results.json
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from utils.constants import PROJECT_ROOT
from utils.errors import CourseError

RESULTS_FILE = "results.json"
SPEC_KEYS = {"description", "base", "base_changes", "budget", "variants", "variants_from"}
BUDGET_KEYS = {"limit", "epochs"}


class ExperimentError(CourseError):
    """An ablation file or results folder that cannot be used, with what to do about it."""


def apply_changes(recipe: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``recipe`` with each dotted key (``"model.filters"``) set to its new value.

    A key that the recipe does not have is an error: a typo must not silently train the base recipe.
    ``"seed"`` changes the random seed (initial weights, shuffles, augmentation, subset drawn).
    ``"model.filters*"`` multiplies every filter count by the value (a width change in one setting).
    """
    result = copy.deepcopy(recipe)
    for dotted, value in changes.items():
        if dotted == "seed":  # the one top-level setting: the same recipe again, to see the run-to-run noise
            result["seed"] = int(value)
            continue
        scale = dotted.endswith("*")
        section_name, _, key = dotted.rstrip("*").partition(".")
        section = result.get(section_name)
        optional = {"pool", "erasing", "optimizer", "momentum", "batch_norm_momentum", "train_images",
                    "validation_images"}
        if not isinstance(section, dict) or (key not in section and key not in optional):
            raise ExperimentError(f"change {dotted!r}: the recipe has no setting {section_name}.{key}")
        if scale:
            section[key] = [max(1, round(f * float(value))) for f in section[key]]
        else:
            section[key] = copy.deepcopy(value)
    return result


def read_spec(path: str | Path) -> dict[str, Any]:
    """The ablation file, checked: its base recipe exists and every variant's changes apply to it."""
    from utils.training import read_recipe

    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"No ablation file at {path}; the course's are models/ablations*.json.")
    try:
        spec = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ExperimentError(f"{path} is not valid JSON ({error}).") from error
    if "variants_from" in spec and "variants" not in spec:
        # the same questions on another budget: one list of variants, not two to keep in step
        spec["variants"] = read_spec(path.parent / spec["variants_from"])["variants"]
    if set(spec) - SPEC_KEYS or {"base", "budget", "variants"} - set(spec):
        raise ExperimentError(f"{path}: the sections must be {sorted(SPEC_KEYS)} ('description' optional; "
                              "'variants_from' names another ablation file whose variants to use, 'base_changes' change the base recipe first).")
    if set(spec["budget"]) != BUDGET_KEYS:
        raise ExperimentError(f"{path}: 'budget' needs exactly {sorted(BUDGET_KEYS)} (limit null = all images).")
    base_path = (path.parent / spec["base"]) if not Path(spec["base"]).is_absolute() else Path(spec["base"])
    # "base_changes" turn the base recipe into a cheaper stand-in (e.g. half the filters) before the variants apply
    spec["base_recipe"] = apply_changes(read_recipe(base_path), spec.get("base_changes", {}))
    names = [v.get("name") for v in spec["variants"]]
    if len(set(names)) != len(names) or not all(names):
        raise ExperimentError(f"{path}: every variant needs a unique 'name'; got {names}.")
    for variant in spec["variants"]:
        apply_changes(spec["base_recipe"], variant.get("changes", {}))
    return spec


def load_results(path: str | Path) -> dict[str, Any]:
    """The results file of a search: ``{"spec": ..., "variants": {name: result}}``."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"No results at {path}; run `python -m utils.experiments run` first.")
    return json.loads(path.read_text())


def run_search(
    spec_path: str | Path,
    out_dir: str | Path,
    *,
    data: str | None = None,
    only: Sequence[str] | None = None,
    keep_models: bool = False,
    verbose: int = 2,
) -> dict[str, Any]:
    """Train every variant of the ablation file on its budget; returns (and keeps writing) the results.

    Variants already in ``out_dir/results.json`` are skipped, so a search can be resumed by
    running the same command again. A variant whose training was cut off restarts from
    scratch (each is short). Run folders are deleted after scoring unless ``keep_models``.
    """
    from utils.training import train

    spec = read_spec(spec_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / RESULTS_FILE
    results = load_results(results_path) if results_path.exists() else {
        "spec": str(spec_path), "description": spec.get("description", ""), "budget": spec["budget"], "variants": {}}
    if results["budget"] != spec["budget"]:
        raise ExperimentError(
            f"{results_path} was made with the budget {results['budget']}, the ablation file now says "
            f"{spec['budget']}: results on different budgets cannot be compared. Use another --out."
        )
    results["description"] = spec.get("description", "")  # the file's words, kept current (not a measurement)
    chosen = [v for v in spec["variants"] if not only or v["name"] in only]
    unknown = sorted(set(only or ()) - {v["name"] for v in spec["variants"]})
    if unknown:
        raise ExperimentError(f"unknown variant(s) {unknown}; the file has {[v['name'] for v in spec['variants']]}")
    for number, variant in enumerate(chosen, start=1):
        name = variant["name"]
        if name in results["variants"]:
            print(f"[{number}/{len(chosen)}] {name}: done already ({results['variants'][name]['accuracy']:.4f})")
            continue
        print(f"[{number}/{len(chosen)}] {name}: {variant.get('question', '')}", flush=True)
        recipe = apply_changes(spec["base_recipe"], variant.get("changes", {}))
        recipe["name"] = name
        run_dir = out_dir / name
        if run_dir.exists():
            shutil.rmtree(run_dir)  # an interrupted variant: start it again
        started = time.perf_counter()
        run = train(recipe=recipe, run_dir=run_dir, data=data, epochs=spec["budget"]["epochs"],
                    limit=spec["budget"]["limit"], verbose=verbose)
        scored = json.loads(run.file("results.json").read_text())
        results["variants"][name] = {
            "question": variant.get("question", ""),
            "changes": variant.get("changes", {}),
            "accuracy": scored["validation_accuracy"],
            "accuracy_flip_tta": scored["validation_accuracy_flip_tta"],
            "validation_images": scored["validation_images"],
            "best_epoch": scored["best_epoch"],
            "parameters": run.settings["parameters"]["total"],
            "seconds": round(time.perf_counter() - started, 1),
            "history": run.history(),
        }
        _write_json(results_path, _in_spec_order(results, spec))
        if not keep_models:
            shutil.rmtree(run_dir)
    _write_json(results_path, _in_spec_order(results, spec))
    return results


def _in_spec_order(results: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """``results`` with its variants in the ablation file's order (variants the file no longer has last)."""
    order = [v["name"] for v in spec["variants"]]
    done = results["variants"]
    results["variants"] = {**{n: done[n] for n in order if n in done}, **{n: r for n, r in done.items() if n not in order}}
    return results


def summary_rows(results: dict[str, Any], baseline: str = "base") -> list[dict[str, Any]]:
    """One row per variant: accuracy, flip-TTA accuracy and the difference to the baseline variant."""
    variants = results["variants"]
    reference = variants.get(baseline, {}).get("accuracy")
    rows = []
    for name, r in variants.items():
        rows.append({"variant": name, "accuracy": r["accuracy"], "accuracy_flip_tta": r["accuracy_flip_tta"],
                     "difference": None if reference is None else r["accuracy"] - reference,
                     "parameters": r["parameters"], "seconds": r["seconds"], "question": r.get("question", "")})
    return rows


def format_table(results: dict[str, Any]) -> str:
    """The summary as a Markdown table (for the model card)."""
    lines = ["| variant | PublicTest accuracy | with flip TTA | vs base | parameters | seconds |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in summary_rows(results):
        diff = "" if row["difference"] is None else f"{row['difference'] * 100:+.1f} pt"
        lines.append(f"| {row['variant']} | {row['accuracy']:.2%} | {row['accuracy_flip_tta']:.2%} | {diff} | "
                     f"{row['parameters']:,} | {row['seconds']:.0f} |")
    return "\n".join(lines)


def _write_json(path: Path, value: Any) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value, indent=1) + "\n")
    temporary.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.experiments", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train every variant of an ablation file (resumable)")
    run.add_argument("--spec", default=str(PROJECT_ROOT / "models" / "ablations_quick.json"))
    run.add_argument("--out", required=True, help="folder for results.json (and the runs while they train)")
    run.add_argument("--data", help="FER2013 (default $FER2013_DIR, else data/fer2013)")
    run.add_argument("--only", nargs="+", help="train only these variants")
    run.add_argument("--keep-models", action="store_true", help="keep every variant's run folder")
    plot = commands.add_parser("plot", help="plot a results file (PNG next to it unless --png)")
    plot.add_argument("--results", required=True)
    plot.add_argument("--png")
    table = commands.add_parser("table", help="print a results file as a Markdown table")
    table.add_argument("--results", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            results = run_search(args.spec, args.out, data=args.data, only=args.only, keep_models=args.keep_models)
            print(format_table(results))
        elif args.command == "table":
            print(format_table(load_results(args.results)))
        else:
            from utils.viz import plot_ablations

            results = load_results(args.results)
            png = Path(args.png) if args.png else Path(args.results).with_suffix(".png")
            plot_ablations(results).savefig(png, dpi=120, bbox_inches="tight")
            print(f"wrote {png}")
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
