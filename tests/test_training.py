"""utils.training and the utils.train command line: augmentation, class weights, schedule, run folders, resume."""

import json
from pathlib import Path

import numpy as np
import pytest

from utils.models import Architecture, load_model, predict_proba
from utils.training import (
    BEST_CHECKPOINT,
    FINAL_MODEL,
    LAST_CHECKPOINT,
    RunFolder,
    TrainingError,
    class_weights,
    make_augmenter,
    make_datasets,
    make_schedule,
    read_recipe,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RECIPE = json.loads((PROJECT_ROOT / "models" / "recipe.json").read_text())


def tiny_recipe(epochs: int = 2) -> dict:
    recipe = json.loads(json.dumps(RECIPE))
    recipe["model"] = {"filters": [4, 8], "convs_per_block": 1, "kernel_size": 3, "block_dropout": [0.0, 0.1],
                       "head": "global_average", "dense_units": 8, "dense_dropout": 0.0, "batch_norm": True}
    # float32: the shipped recipe trains in mixed bfloat16, whose checkpoints predict ~1e-4 apart
    # from their float32 export (test_a_mixed_bfloat16_run_ships_a_float32_model covers that case)
    recipe["training"].update(epochs=epochs, batch_size=32, early_stopping_patience=10, precision="float32",
                              precise_batch_norm=False)
    return recipe


# --------------------------------------------------------------------------- pieces


def test_class_weights():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 10)
    assert class_weights(labels, power=0, num_classes=3) == {0: 1.0, 1: 1.0, 2: 1.0}
    balanced = class_weights(labels, power=1, num_classes=3)
    # Fully balanced: every class carries the same total weight.
    totals = [balanced[0] * 60, balanced[1] * 30, balanced[2] * 10]
    np.testing.assert_allclose(totals, totals[0])
    soft = class_weights(labels, power=0.5, num_classes=3)
    assert balanced[2] > soft[2] > 1 > soft[0] > balanced[0]
    for weights in (balanced, soft):  # the average weight per image stays 1
        assert (weights[0] * 60 + weights[1] * 30 + weights[2] * 10) / 100 == pytest.approx(1)
    with pytest.raises(ValueError, match="no training images"):
        class_weights(np.array([0, 0, 1]), num_classes=3)


def test_augmenter_changes_faces_only_in_training():
    faces = np.random.default_rng(0).random((8, 48, 48, 1)).astype("float32")
    augmenter = make_augmenter(seed=1)
    np.testing.assert_array_equal(np.asarray(augmenter(faces, training=False)), faces)
    changed = np.asarray(augmenter(faces, training=True))
    assert changed.shape == faces.shape and not np.allclose(changed, faces)
    assert changed.min() >= -1e-4 and changed.max() <= 1 + 1e-4
    flips = np.asarray(make_augmenter(translation=0, rotation=0, zoom=0, seed=2)(faces, training=True))
    for original, out in zip(faces, flips):  # a flip-only augmenter gives the face or its mirror
        assert np.allclose(out, original) or np.allclose(out, original[:, ::-1])


def test_datasets_give_scaled_batches_one_hot_labels_and_weights():
    images = np.random.default_rng(0).integers(0, 256, (70, 48, 48, 1), dtype=np.uint8)
    labels = np.arange(70) % 7
    weights = class_weights(labels)
    train, val = make_datasets(images, labels, images[:20], labels[:20], batch_size=16, sample_weights=weights)
    x, y, w = next(iter(train))
    assert x.shape == (16, 48, 48, 1) and float(np.max(x)) <= 1.0 and y.shape == (16, 7)
    assert w.shape == (16,)
    vx, vy = next(iter(val))
    assert len(vx) == 20 and np.array_equal(np.argmax(vy, axis=1), labels[:20])
    assert sum(len(b[0]) for b in train) == 70


def test_schedule_warms_up_then_decays():
    schedule = make_schedule(learning_rate=1e-3, epochs=10, steps_per_epoch=100, warmup_epochs=1, final_fraction=0.01)
    lr = [float(schedule(step)) for step in (0, 50, 100, 550, 1000)]
    assert lr[0] == pytest.approx(1e-5)
    assert lr[0] < lr[1] < lr[2] == pytest.approx(1e-3)
    assert lr[2] > lr[3] > lr[4] == pytest.approx(1e-5, rel=1e-3)


def test_run_folder_never_overwrites(tmp_path):
    RunFolder.create(tmp_path / "a", {"x": 1})
    with pytest.raises(TrainingError, match="already holds a run"):
        RunFolder.create(tmp_path / "a", {"x": 2})
    assert json.loads((tmp_path / "a" / "settings.json").read_text()) == {"x": 1}
    with pytest.raises(TrainingError, match="not a run folder"):
        RunFolder.open(tmp_path)


# --------------------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def synthetic_folders(tmp_path_factory):
    from utils.synthetic import write_image_folders

    return write_image_folders(tmp_path_factory.mktemp("faces"), train_size=140, test_size=70, seed=5)


def test_train_resume_and_refusals(tmp_path, synthetic_folders, capsys):
    from utils.train import main
    from utils.training import train

    recipe_file = tmp_path / "recipe.json"
    recipe_file.write_text(json.dumps(tiny_recipe(epochs=3)))
    run_dir = tmp_path / "run"
    # Patience 0 stops after the first epoch: an interrupted run, as far as resuming is concerned.
    recipe = tiny_recipe(epochs=3)
    recipe["training"]["early_stopping_patience"] = 0
    run = train(recipe=recipe, run_dir=run_dir, data=str(synthetic_folders), cache=False, verbose=0)
    assert run.state["epoch"] == 1 and len(run.history()) == 1
    for name in (LAST_CHECKPOINT, BEST_CHECKPOINT, FINAL_MODEL, "settings.json", "train.log", "results.json"):
        assert (run_dir / name).exists(), name
    steps_per_epoch = int(np.ceil(140 / 32))
    assert int(load_model(run_dir / LAST_CHECKPOINT, compile=True).optimizer.iterations) == steps_per_epoch

    assert run.state["finished"] is True  # early stopping ends a run for good ...
    assert main(["--resume", str(run_dir), "--no-cache", "--verbose", "0"]) == 0
    assert len(RunFolder.open(run_dir).history()) == 1
    assert "finished already" in (run_dir / "train.log").read_text()
    state = json.loads((run_dir / "state.json").read_text())  # ... a killed run is not finished
    del state["finished"]
    (run_dir / "state.json").write_text(json.dumps(state))
    settings = json.loads((run_dir / "settings.json").read_text())
    settings["recipe"]["training"]["early_stopping_patience"] = 10
    (run_dir / "settings.json").write_text(json.dumps(settings))
    assert main(["--resume", str(run_dir), "--no-cache", "--verbose", "0"]) == 0
    history = RunFolder.open(run_dir).history()
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert history[2]["learning_rate"] < history[1]["learning_rate"] < history[0]["learning_rate"]
    assert int(load_model(run_dir / LAST_CHECKPOINT, compile=True).optimizer.iterations) == 3 * steps_per_epoch
    log = (run_dir / "train.log").read_text()
    assert "resuming" in log and "epoch 3:" in log and " s\n" in log

    # A finished run, an existing folder, a bad recipe: clear errors, nothing overwritten.
    best_before = (run_dir / BEST_CHECKPOINT).read_bytes()
    assert main(["--config", str(recipe_file), "--run-dir", str(run_dir), "--data", str(synthetic_folders), "--no-cache"]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (run_dir / BEST_CHECKPOINT).read_bytes() == best_before
    assert main(["--resume", str(run_dir), "--epochs", "9"]) == 2
    assert "--epochs cannot change" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**tiny_recipe(), "training": {**tiny_recipe()["training"], "lr": 1}}))
    assert main(["--config", str(bad), "--run-dir", str(tmp_path / "other")]) == 2
    assert "unknown ['lr']" in capsys.readouterr().err
    assert main(["--config", str(recipe_file), "--run-dir", str(tmp_path / "other"), "--data", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


def test_the_plateau_schedule_lowers_the_rate_after_each_patience_and_the_checkpoint_keeps_it(tmp_path):
    import keras

    from utils.training import PlateauSchedule, RunCheckpoint

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    checkpoint = RunCheckpoint(RunFolder.create(tmp_path / "run", {"recipe": {}}))
    plateau = PlateauSchedule(checkpoint, patience=2, factor=0.5, min_rate=0.02)
    for callback in (plateau, checkpoint):
        callback.set_model(model)
    rates = []
    # better, worse, worse (2 without improvement: halve), better, worse, worse (halve), worse, worse (floor)
    for epoch, accuracy in enumerate([0.5, 0.4, 0.4, 0.6, 0.5, 0.5, 0.5, 0.5]):
        for callback in (plateau, checkpoint):  # the order train() uses
            callback.on_epoch_end(epoch, {"val_accuracy": accuracy})
        rates.append(round(float(np.asarray(model.optimizer.learning_rate)), 6))
        saved = keras.models.load_model(checkpoint.run.file(LAST_CHECKPOINT))  # any model: not the course's own check
        assert round(float(np.asarray(saved.optimizer.learning_rate)), 6) == rates[-1]  # a resume goes on at this rate
    assert rates == [0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.02]
    assert "learning rate lowered to 2.50e-02" in checkpoint.run.file("train.log").read_text()


def test_a_plateau_recipe_trains_and_a_bad_schedule_is_refused(tmp_path, synthetic_folders):
    from utils.training import train

    recipe = tiny_recipe(epochs=2)
    recipe["training"].update(schedule="plateau", plateau_patience=1, optimizer="sgd", learning_rate=0.05)
    run = train(recipe=recipe, run_dir=tmp_path / "run", data=str(synthetic_folders), cache=False, verbose=0)
    assert [row["epoch"] for row in run.history()] == [1, 2]
    assert run.history()[0]["learning_rate"] == pytest.approx(0.05)  # no warm-up, no cosine decay within an epoch
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**tiny_recipe(), "training": {**tiny_recipe()["training"], "schedule": "step"}}))
    with pytest.raises(TrainingError, match="schedule must be one of"):
        read_recipe(bad)


def test_final_model_predicts_like_the_best_checkpoint(tmp_path, synthetic_folders):
    from utils.training import train

    run = train(recipe=tiny_recipe(epochs=1), run_dir=tmp_path / "run", data=str(synthetic_folders), cache=False, verbose=0)
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48, 1), dtype=np.uint8)
    final, best = load_model(run.file(FINAL_MODEL)), load_model(run.file(BEST_CHECKPOINT))
    np.testing.assert_allclose(predict_proba(final, faces), predict_proba(best, faces), atol=1e-6)
    assert run.file(FINAL_MODEL).stat().st_size < run.file(BEST_CHECKPOINT).stat().st_size
    results = json.loads(run.file("results.json").read_text())
    assert 0 <= results["validation_accuracy_flip_tta"] <= 1


def test_precise_batch_norm_recomputes_the_statistics_of_the_shipped_model(tmp_path, synthetic_folders, capsys):
    from utils.train import main
    from utils.training import train

    recipe = tiny_recipe(epochs=1)
    recipe["training"]["precise_batch_norm"] = True
    run = train(recipe=recipe, run_dir=tmp_path / "run", data=str(synthetic_folders), cache=False, verbose=0)
    final, best = load_model(run.file(FINAL_MODEL)), load_model(run.file(BEST_CHECKPOINT))
    results = json.loads(run.file("results.json").read_text())
    assert "recomputed on 140 plain training faces (2 layers)" == results["batch_norm_statistics"]
    assert {"validation_accuracy_training_statistics", "validation_accuracy_training_statistics_flip_tta"} <= set(results)
    # Same weights, other statistics.
    for name in ("block1_conv1", "block2_conv1", "emotion"):
        for mine, theirs in zip(final.get_layer(name).get_weights(), best.get_layer(name).get_weights()):
            np.testing.assert_array_equal(mine, theirs)
    assert not np.allclose(final.get_layer("block1_bn1").moving_mean, best.get_layer("block1_bn1").moving_mean)

    # The command line does the same for a model trained without it, never over a file.
    out = tmp_path / "recomputed.keras"
    args = ["--recompute-batch-norm", str(run.file(BEST_CHECKPOINT)), "--data", str(synthetic_folders), "--no-cache"]
    with pytest.raises(SystemExit):
        main(args)
    assert "needs --out" in capsys.readouterr().err
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "validation_accuracy_before" in printed and "validation_accuracy_after_flip_tta" in printed
    assert json.loads(out.with_name(out.name + ".json").read_text())["layers"] == 2
    before = out.read_bytes()
    assert main([*args, "--out", str(out)]) == 2 and "already exists" in capsys.readouterr().err
    assert out.read_bytes() == before


@pytest.mark.slow
def test_a_few_training_steps_on_fer2013(tmp_path, shared_fer2013):
    """The shipped recipe's model on 512 real faces for one epoch: it runs and writes its run folder."""
    from utils.training import train

    recipe = json.loads(json.dumps(RECIPE))
    recipe["training"]["epochs"] = 1
    run = train(recipe=recipe, run_dir=tmp_path / "run", data=str(shared_fer2013), limit=512, verbose=0)
    settings = run.settings
    assert settings["data"]["train_split"] == "train" and settings["data"]["validation_split"] == "public_test"
    assert settings["data"]["train_images"] == 512
    (row,) = run.history()
    assert np.isfinite(row["loss"]) and 0 <= row["val_accuracy"] <= 1


def test_random_erasing_replaces_one_rectangle_only_in_training():
    from utils.training import RandomErasing

    faces = np.full((16, 48, 48, 1), 0.5, np.float32)
    always = RandomErasing(1.0, seed=3)
    erased = np.asarray(always(faces, training=True))
    changed = erased != 0.5
    assert changed.any(axis=(1, 2, 3)).all()  # probability 1: every face has a patch
    for mask in changed[..., 0]:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        # The changed cells form one axis-aligned rectangle of at most 25% of the face.
        assert mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1].mean() > 0.95
        assert mask.mean() <= 0.26
    assert (np.asarray(always(faces, training=False)) == faces).all()
    assert (np.asarray(RandomErasing(0.0)(faces, training=True)) == faces).all()
    with pytest.raises(ValueError, match="probability"):
        RandomErasing(1.5)


def test_sgd_nesterov_and_adamw_are_the_two_optimizers():
    from utils.training import TrainingError, make_optimizer

    sgd = make_optimizer("sgd", learning_rate=0.1, weight_decay=1e-4, momentum=0.8)
    assert sgd.nesterov and float(sgd.momentum) == pytest.approx(0.8)
    assert type(make_optimizer("adamw", learning_rate=1e-3)).__name__ == "AdamW"
    with pytest.raises(TrainingError, match="unknown optimizer"):
        make_optimizer("rmsprop", learning_rate=1e-3)


def test_an_augmenter_without_any_change_passes_faces_unchanged():
    from utils.training import make_augmenter

    faces = np.random.default_rng(0).random((4, 48, 48, 1)).astype(np.float32)
    none = make_augmenter(flip=False, translation=0, rotation=0, zoom=0)
    np.testing.assert_array_equal(np.asarray(none(faces, training=True)), faces)


def test_quick_recipe_is_small_and_valid():
    from utils.models import count_parameters
    from utils.training import read_recipe

    quick = read_recipe(PROJECT_ROOT / "models" / "recipe_quick.json")
    arch = Architecture.from_dict(quick["model"])
    assert count_parameters(arch)["total"] < 100_000 and quick["training"]["epochs"] <= 5
    assert quick["training"]["train_images"] == 1500 and quick["training"]["batch_norm_momentum"] == 0.9
    # the shipped recipe keeps Keras's defaults for the keys it leaves out
    full = read_recipe(PROJECT_ROOT / "models" / "recipe.json")
    assert full["training"]["batch_norm_momentum"] == 0.99 and full["training"]["train_images"] is None


def test_a_mixed_bfloat16_run_ships_a_float32_model(tmp_path, synthetic_folders):
    """precision=mixed_bfloat16 trains in bfloat16; model.keras is float32 with the same weights."""
    import keras

    from utils.training import read_recipe, train

    recipe = tiny_recipe(epochs=1)
    recipe["training"]["precision"] = "mixed_bfloat16"
    run = train(recipe=recipe, run_dir=tmp_path / "run", data=str(synthetic_folders), cache=False, verbose=0)
    assert keras.mixed_precision.global_policy().name == "float32"  # the policy does not leak
    best, final = load_model(run.file(BEST_CHECKPOINT)), load_model(run.file(FINAL_MODEL))
    assert best.get_layer("block1_conv1").dtype_policy.name == "mixed_bfloat16"
    assert best.get_layer("emotion").dtype_policy.name == "float32"
    assert {layer.dtype_policy.name for layer in final.layers} == {"float32"}
    for mine, theirs in zip(final.get_weights(), best.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    faces = np.random.default_rng(1).integers(0, 256, (8, 48, 48, 1), dtype=np.uint8)
    np.testing.assert_allclose(predict_proba(final, faces), predict_proba(best, faces), atol=0.05)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**recipe, "training": {**recipe["training"], "precision": "float16"}}))
    with pytest.raises(TrainingError, match="precision must be one of"):
        read_recipe(bad)


def test_bfloat16_is_fast_reads_the_cpu_flags():
    import tensorflow as tf

    from utils.training import bfloat16_is_fast

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU always computes bfloat16 natively")
    assert bfloat16_is_fast("flags : fpu sse avx512f avx512_bf16 avx512vl")
    assert bfloat16_is_fast("flags : fpu amx_bf16 amx_tile")
    assert not bfloat16_is_fast("flags : fpu sse avx2 avx512f")
    assert not bfloat16_is_fast("")


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "models").glob("recipe*.json")), ids=lambda p: p.name)
def test_every_committed_recipe_is_valid_and_its_run_used_it(path):
    """Each recipe in models/ reads cleanly, builds a network that drops no cell, and the run named
    after it (if committed) trained with exactly these settings."""
    from utils.training import read_recipe

    recipe = read_recipe(path)
    Architecture.from_dict(recipe["model"])  # refuses a pooling that drops cells
    runs = {"recipe.json": ("global_average", "global_average_2"), "recipe_flatten.json": ("wide2",),
            "recipe_flip_only.json": ("flip_only",), "recipe_narrow.json": ("shipped",)}
    for run in runs.get(path.name, ()):
        settings = PROJECT_ROOT / "runs" / run / "settings.json"
        if settings.is_file():
            used = json.loads(settings.read_text())["recipe"]
            for section in ("model", "augmentation"):
                assert {k: used[section][k] for k in recipe[section]} == recipe[section], (path.name, run, section)
            # a training setting added to the course after a run (precise_batch_norm) is absent from its settings
            recorded = {k: v for k, v in recipe["training"].items() if k in used["training"]}
            assert recorded == {k: used["training"][k] for k in recorded}, (path.name, run, "training")
