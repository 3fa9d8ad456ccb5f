"""utils.experiments: ablation files, applying changes, a tiny resumable search, its plot and table."""

import json
from pathlib import Path

import pytest

from utils.experiments import ExperimentError, apply_changes, format_table, load_results, read_spec, run_search, summary_rows

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BASE = json.loads((PROJECT_ROOT / "models" / "recipe_quick.json").read_text())


def test_apply_changes_sets_dotted_keys_on_a_copy():
    changed = apply_changes(BASE, {"training.label_smoothing": 0.0, "model.filters*": 2, "augmentation.erasing": 0.5})
    assert changed["training"]["label_smoothing"] == 0.0
    assert changed["model"]["filters"] == [2 * f for f in BASE["model"]["filters"]]
    assert changed["augmentation"]["erasing"] == 0.5
    assert BASE["training"]["label_smoothing"] == 0.1  # the base is untouched
    assert apply_changes(BASE, {"model.filters*": 0.5})["model"]["filters"] == [max(1, round(f / 2)) for f in BASE["model"]["filters"]]
    assert apply_changes(BASE, {"seed": 7})["seed"] == 7 and apply_changes(BASE, {"seed": 7})["model"] == BASE["model"]


@pytest.mark.parametrize("key", ["training.label_smooting", "modle.filters", "training"])
def test_a_misspelt_setting_is_an_error_not_a_silent_base_run(key):
    with pytest.raises(ExperimentError, match="no setting"):
        apply_changes(BASE, {key: 1})


@pytest.mark.parametrize("name", ["ablations.json", "ablations_quick.json", "ablations_medium.json"])
def test_the_shipped_ablation_files_are_valid(name):
    spec = read_spec(PROJECT_ROOT / "models" / name)
    names = [v["name"] for v in spec["variants"]]
    assert names[0] == "base" and len(names) == len(set(names)) >= 7


@pytest.mark.parametrize("name", ["ablations.json", "ablations_quick.json", "ablations_medium.json"])
def test_every_variant_changes_its_base(name):
    """A variant whose changes equal the base recipe (e.g. a head the base already has) would be a second base run."""
    spec = read_spec(PROJECT_ROOT / "models" / name)
    for variant in spec["variants"][1:]:
        assert apply_changes(spec["base_recipe"], variant.get("changes", {})) != spec["base_recipe"], (name, variant["name"])


def test_the_medium_search_asks_the_full_searchs_questions_of_a_half_width_base():
    full, medium = read_spec(PROJECT_ROOT / "models" / "ablations.json"), read_spec(PROJECT_ROOT / "models" / "ablations_medium.json")
    assert medium["variants"] == full["variants"]
    assert medium["base_recipe"]["model"]["filters"] == [f // 2 for f in full["base_recipe"]["model"]["filters"]]
    assert medium["base_recipe"]["training"] == full["base_recipe"]["training"]
    assert medium["budget"] != full["budget"]


def test_base_changes_and_variants_from_are_checked(tmp_path):
    (tmp_path / "full.json").write_text(json.dumps({"base": str(PROJECT_ROOT / "models" / "recipe_quick.json"),
                                                    "budget": {"epochs": 1, "limit": 10}, "variants": [{"name": "base"}]}))
    cheap = tmp_path / "cheap.json"
    cheap.write_text(json.dumps({"base": str(PROJECT_ROOT / "models" / "recipe_quick.json"), "budget": {"epochs": 1, "limit": 5},
                                 "base_changes": {"model.filterz": 2}, "variants_from": "full.json"}))
    with pytest.raises(ExperimentError, match="filterz"):
        read_spec(cheap)


def test_spec_errors_are_clear(tmp_path):
    bad = tmp_path / "spec.json"
    bad.write_text(json.dumps({"base": str(PROJECT_ROOT / "models" / "recipe_quick.json"), "budget": {"epochs": 1},
                               "variants": [{"name": "base"}]}))
    with pytest.raises(ExperimentError, match="budget"):
        read_spec(bad)
    bad.write_text(json.dumps({"base": str(PROJECT_ROOT / "models" / "recipe_quick.json"),
                               "budget": {"epochs": 1, "limit": 10}, "variants": [{"name": "a"}, {"name": "a"}]}))
    with pytest.raises(ExperimentError, match="unique"):
        read_spec(bad)
    with pytest.raises(ExperimentError, match="No ablation file"):
        read_spec(tmp_path / "missing.json")


@pytest.mark.slow
def test_a_tiny_search_runs_resumes_and_plots(tmp_path, capsys):
    from utils.data import main as data_main
    from utils.viz import plot_ablations

    data = tmp_path / "faces"
    assert data_main(["synthetic", "--out", str(data), "--train", "280", "--test", "140"]) == 0
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({
        "base": str(PROJECT_ROOT / "models" / "recipe_quick.json"), "budget": {"limit": 140, "epochs": 1},
        "variants": [{"name": "base", "changes": {"model.filters*": 0.5}},
                     {"name": "no_label_smoothing", "changes": {"model.filters*": 0.5, "training.label_smoothing": 0.0}}]}))
    out = tmp_path / "search"
    results = run_search(spec, out, data=str(data), only=["base"], verbose=0)
    assert list(results["variants"]) == ["base"]
    assert not (out / "base").exists()  # run folders are removed once scored
    results = run_search(spec, out, data=str(data), verbose=0)  # resumes: base is not trained again
    assert "base: done already" in capsys.readouterr().out
    assert list(load_results(out / "results.json")["variants"]) == ["base", "no_label_smoothing"]
    for r in results["variants"].values():
        assert 0 <= r["accuracy"] <= 1 and r["validation_images"] == 140 and len(r["history"]) == 1
    rows = summary_rows(results)
    assert rows[0]["difference"] == 0 and "| no_label_smoothing |" in format_table(results)
    figure = plot_ablations(results)
    assert len(figure.axes) == 2
    # A changed budget cannot be mixed into the same results.
    spec.write_text(spec.read_text().replace('"epochs": 1', '"epochs": 2'))
    with pytest.raises(ExperimentError, match="budget"):
        run_search(spec, out, data=str(data), verbose=0)
