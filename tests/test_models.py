"""utils.models: the builder, parameter counts by formula, prediction pipeline, save / load."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from utils.layers.dense import dense_parameter_count
from utils.models import (
    Architecture,
    ModelError,
    batchnorm_params,
    build_emotion_cnn,
    conv_params,
    count_parameters,
    load_model,
    multiply_adds_per_face,
    parameter_table,
    predict_labels,
    predict_proba,
    preprocess,
    save_model,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RECIPE = PROJECT_ROOT / "models" / "recipe.json"
TINY = Architecture(filters=(4, 8), block_dropout=(0.1, 0.2), dense_units=8)


def recipe_architecture() -> Architecture:
    return Architecture.from_dict(json.loads(RECIPE.read_text())["model"])


# --------------------------------------------------------------------------- formulas


def test_formulas_on_hand_worked_examples():
    assert conv_params(3, 1, 32) == (3 * 3 * 1 + 1) * 32 == 320
    assert conv_params(3, 32, 64) == 18_496
    assert conv_params(5, 3, 10) == 760
    assert dense_parameter_count(256, 7) == 1_799
    assert batchnorm_params(64) == 256


@pytest.mark.parametrize("arch", [
    Architecture(),
    TINY,
    Architecture(filters=(8, 16, 32), block_dropout=(0, 0, 0), head="flatten", convs_per_block=1, kernel_size=5),
    Architecture(filters=(8, 16), block_dropout=(0.1, 0.1), batch_norm=False),
    Architecture(filters=(4, 4, 4, 4, 8), block_dropout=(0,) * 5, pool=(True, True, True, True, False), head="flatten"),
], ids=["default", "tiny", "flatten-k5", "no-bn", "last-block-unpooled"])
def test_keras_counts_match_the_formulas_layer_by_layer(arch):
    model = build_emotion_cnn(arch)
    table = parameter_table(arch)
    assert model.count_params() == count_parameters(arch)["total"]
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == count_parameters(arch)["trainable"]
    for row in table:
        layer = model.get_layer(row.layer)
        assert layer.count_params() == row.parameters, row
        assert tuple(layer.output.shape[1:]) == row.output_shape, row


def test_recipe_model_parameter_count_and_cost():
    arch = recipe_architecture()
    counts = count_parameters(arch)
    # 1-8 M parameters: big enough for FER2013, small enough to train on a CPU and ship (< 32 MB float32).
    assert 1_000_000 <= counts["total"] <= 8_000_000
    # Per block: two convolutions and two batch norms, e.g. block 1 = (9*1+1)*16 + (9*16+1)*16 + 2*4*16.
    expected = 0
    channels = 1
    for filters in arch.filters:
        expected += conv_params(3, channels, filters) + conv_params(3, filters, filters) + 2 * batchnorm_params(filters)
        channels = filters
    side = arch.feature_map_sizes()[-1]
    features = channels if arch.head == "global_average" else side * side * channels
    expected += dense_parameter_count(features, arch.dense_units) + dense_parameter_count(arch.dense_units, 7)
    assert counts["total"] == expected == build_emotion_cnn(arch).count_params()
    # the web demo's budget: one face (two views) in well under 30 ms on a laptop CPU
    assert multiply_adds_per_face(arch) < 200e6


def test_output_shape_and_probabilities():
    model = build_emotion_cnn(TINY)
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48, 1), dtype=np.uint8)
    probabilities = predict_proba(model, faces)
    assert probabilities.shape == (5, 7) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert predict_labels(model, faces).shape == (5,)
    assert predict_proba(model, faces[:0]).shape == (0, 7)


def test_architecture_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown model settings"):
        Architecture.from_dict({"filters": [8], "block_dropout": [0.1], "filtres": 3})
    with pytest.raises(ValueError, match="one rate per block"):
        Architecture(filters=(8, 16), block_dropout=(0.1,))
    with pytest.raises(ValueError, match="head"):
        Architecture(head="max")
    with pytest.raises(ValueError, match="shrink|never read"):
        Architecture(filters=(4,) * 6, block_dropout=(0,) * 6)
    with pytest.raises(ValueError, match="one true/false per block"):
        Architecture(filters=(8, 16), block_dropout=(0, 0), pool=(True,))


def test_pooling_that_would_drop_cells_is_refused_with_the_fix_in_the_message():
    # 48 -> 24 -> 12 -> 6 -> 3: a fifth 2x2 pooling would read only the top-left 2x2 of the 3x3 maps.
    with pytest.raises(ValueError) as error:
        Architecture(filters=(16, 32, 64, 128, 256), block_dropout=(0,) * 5)
    message = str(error.value)
    assert "block 5" in message and "3x3" in message and "5 of 9 cells" in message
    assert '"pool": [true, true, true, true, false]' in message
    # The same blocks with the last pooling left out are fine, and so are pools only where sizes are even.
    assert Architecture(filters=(16, 32, 64, 128, 256), block_dropout=(0,) * 5,
                        pool=(True, True, True, True, False)).feature_map_sizes() == [24, 12, 6, 3, 3]
    assert Architecture(filters=(8,) * 6, block_dropout=(0,) * 6,
                        pool=(False, True, True, True, True, False)).feature_map_sizes() == [48, 24, 12, 6, 3, 3]


def test_no_pooling_layer_of_the_recipe_model_drops_cells():
    """Every max-pooling layer of the recipe's model gets maps of even size, so it reads every cell."""
    model = build_emotion_cnn(recipe_architecture())
    pools = [layer for layer in model.layers if type(layer).__name__ == "MaxPooling2D"]
    assert pools
    for layer in pools:
        height, width = layer.input.shape[1:3]
        assert height % 2 == 0 and width % 2 == 0, (layer.name, layer.input.shape)


# --------------------------------------------------------------------------- prediction pipeline


def test_preprocess_scales_uint8_and_accepts_common_shapes():
    face = np.full((48, 48), 255, np.uint8)
    assert preprocess(face).shape == (1, 48, 48, 1)
    assert preprocess(np.stack([face, face * 0])).shape == (2, 48, 48, 1)
    x = preprocess(np.stack([face, face * 0])[..., None])
    assert x.dtype == np.float32 and x.max() == 1.0 and x.min() == 0.0
    with pytest.raises(ValueError, match="48, 48"):
        preprocess(np.zeros((2, 64, 64, 1), np.uint8))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        preprocess(np.full((1, 48, 48, 1), 200.0))
    with pytest.raises(ValueError, match="dtype"):
        preprocess(np.zeros((1, 48, 48, 1), np.int32))


def test_flip_tta_averages_the_face_and_its_mirror():
    model = build_emotion_cnn(TINY)
    faces = np.random.default_rng(1).integers(0, 256, (6, 48, 48, 1), dtype=np.uint8)
    plain = predict_proba(model, faces, flip_tta=False)
    mirrored = predict_proba(model, faces[:, :, ::-1], flip_tta=False)
    np.testing.assert_allclose(predict_proba(model, faces, flip_tta=True), (plain + mirrored) / 2, atol=1e-6)
    # A mirror-symmetric face gets the same answer with and without TTA.
    symmetric = np.concatenate([faces[:, :, :24], faces[:, :, :24][:, :, ::-1]], axis=2)
    np.testing.assert_allclose(predict_proba(model, symmetric, flip_tta=True), predict_proba(model, symmetric, flip_tta=False), atol=1e-6)


def test_batches_do_not_change_predictions():
    model = build_emotion_cnn(TINY)
    faces = np.random.default_rng(2).integers(0, 256, (10, 48, 48, 1), dtype=np.uint8)
    np.testing.assert_allclose(predict_proba(model, faces, batch_size=3), predict_proba(model, faces, batch_size=512), atol=1e-6)


# --------------------------------------------------------------------------- save and load


def test_save_load_round_trip_gives_identical_predictions(tmp_path):
    model = build_emotion_cnn(TINY)
    faces = np.random.default_rng(3).integers(0, 256, (8, 48, 48, 1), dtype=np.uint8)
    path = save_model(model, tmp_path / "m.keras", include_optimizer=False)
    loaded = load_model(path)
    np.testing.assert_array_equal(predict_proba(loaded, faces), predict_proba(model, faces))


def test_save_never_overwrites_unless_asked(tmp_path):
    path = tmp_path / "m.keras"
    path.write_bytes(b"the user's file")
    with pytest.raises(ModelError, match="already exists"):
        save_model(build_emotion_cnn(TINY), path)
    assert path.read_bytes() == b"the user's file"
    with pytest.raises(ModelError, match=".keras"):
        save_model(build_emotion_cnn(TINY), tmp_path / "m.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]  # no temporary left behind


def test_inference_copy_is_smaller_than_a_training_checkpoint(tmp_path, monkeypatch):
    import keras

    # float32: a loaded (uncompiled) model predicts through the folded graph, the compiled one live
    monkeypatch.setenv("FACEEXPR_INFERENCE_PRECISION", "float32")

    model = build_emotion_cnn(TINY)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(np.zeros((4, 48, 48, 1)), keras.utils.to_categorical([0, 1, 2, 3], 7), verbose=0)
    full = save_model(model, tmp_path / "full.keras")
    small = save_model(model, tmp_path / "small.keras", include_optimizer=False)
    assert small.stat().st_size < full.stat().st_size
    faces = np.random.default_rng(4).integers(0, 256, (3, 48, 48, 1), dtype=np.uint8)
    np.testing.assert_allclose(predict_proba(load_model(small), faces), predict_proba(model, faces), atol=1e-6)


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(ModelError, match="No model at"):
        load_model(tmp_path / "missing.keras")
    with pytest.raises(ModelError, match="folder"):
        load_model(tmp_path)
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"not a zip at all")
    with pytest.raises(ModelError, match="not a Keras 3 model file"):
        load_model(corrupt)
    empty_zip = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("hello.txt", "no model here")
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_model(empty_zip)
    truncated = tmp_path / "truncated.keras"
    good = save_model(build_emotion_cnn(TINY), tmp_path / "good.keras")
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelError):
        load_model(truncated)


def test_load_refuses_a_model_of_the_wrong_shape(tmp_path):
    import keras

    inputs = keras.Input((32, 32, 3))
    other = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))
    path = tmp_path / "other.keras"
    other.save(path)
    with pytest.raises(ModelError, match=r"inputs \(32, 32, 3\)"):
        load_model(path)


def test_recomputed_batch_norm_statistics_are_those_of_the_faces_given():
    """The first batch-norm layer ends with the mean and variance of conv1's outputs over all faces."""
    import keras

    from utils.models import ModelError, recompute_batch_norm_statistics

    arch = Architecture(filters=(4, 8), convs_per_block=1, block_dropout=(0.0, 0.5), pool=(True, False),
                        head="global_average", dense_units=8, dense_dropout=0.5)
    model = build_emotion_cnn(arch)
    rng = np.random.default_rng(1)
    # Two "classes" of faces, listed one after the other as a folder layout does: dark, then bright.
    faces = np.concatenate([rng.integers(0, 80, (300, 48, 48, 1)), rng.integers(150, 256, (300, 48, 48, 1))]).astype(np.uint8)
    conv = keras.Model(model.input, model.get_layer("block1_conv1").output)
    responses = conv.predict(faces / 255.0, verbose=0).reshape(-1, 4)
    norm = model.get_layer("block1_bn1")
    assert recompute_batch_norm_statistics(model, faces, batch_size=64, seed=3) == 2
    np.testing.assert_allclose(norm.moving_mean.numpy(), responses.mean(axis=0), rtol=1e-3, atol=1e-4)
    # Shuffled batches see both kinds of faces: the variance of the whole set, not of one class.
    np.testing.assert_allclose(norm.moving_variance.numpy(), responses.var(axis=0), rtol=0.03)
    assert norm.momentum == 0.99 and model.get_layer("block2_dropout").rate == 0.5, "settings are put back"
    with pytest.raises(ModelError, match="at least 2 faces"):
        recompute_batch_norm_statistics(model, faces[:1])
