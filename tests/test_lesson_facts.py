"""Facts that lessons 03 and 04 state, checked: the course's model is described from
models/recipe.json (never hard-coded), Keras does not weight `metrics=` accuracy with sample
weights, label smoothing and class weights follow the stated formulas, and the bad inputs that
the lessons no longer demonstrate raise clear errors."""

import json
import re

import numpy as np
import pytest
from lesson_files import lang_of, lesson_paths, read

from utils.data import PROJECT_ROOT
from utils.models import Architecture, build_emotion_cnn, describe_architecture

LESSONS = {p.stem[:2]: p for p in lesson_paths()}
RECIPE = json.loads((PROJECT_ROOT / "models" / "recipe.json").read_text())


def _code_cell_reading_recipe(stem: str) -> str:
    cells = [c.source for c in read(LESSONS[stem]).cells if c.cell_type == "code"
             and '"recipe.json"' in c.source and "Architecture.from_dict" in c.source]
    assert cells, f"lesson {stem}: no code cell reads models/recipe.json with Architecture.from_dict"
    return cells[0]


@pytest.mark.parametrize("stem", ["03", "04"])
def test_model_description_is_read_from_the_recipe(stem):
    source = _code_cell_reading_recipe(stem)
    assert "describe_architecture" in source


def test_lesson_03_description_prints_the_recipes_numbers(capsys):
    """Run lesson 03's description cell: the numbers it prints are those of Architecture.from_dict(recipe)."""
    import keras

    from utils.i18n import count_phrase, fmt, set_language, tr
    from utils.layers.dense import dense_parameter_count

    set_language("en")
    train = np.zeros(1234)                       # stands for the training split: only len() is used
    namespace = {"json": json, "PROJECT_ROOT": PROJECT_ROOT, "Architecture": Architecture, "tr": tr, "fmt": fmt, "count_phrase": count_phrase,
                 "build_emotion_cnn": build_emotion_cnn, "describe_architecture": describe_architecture,
                 "dense_parameter_count": dense_parameter_count, "train": train, "keras": keras}
    exec(_code_cell_reading_recipe("03"), namespace)
    printed = capsys.readouterr().out
    arch = Architecture.from_dict(RECIPE["model"])
    side, channels = arch.feature_map_sizes()[-1], arch.filters[-1]
    dense = build_emotion_cnn(arch).get_layer("dense")
    assert describe_architecture(arch) in printed
    assert f"{len(arch.filters)} blocks, {sum(arch.pool)} of them pooled" in printed
    assert f"last feature maps {side}x{side}x{channels}, head: {arch.head}" in printed
    assert f"{dense.input.shape[-1]:,} inputs -> {arch.dense_units} units, {dense.count_params():,} parameters" in printed
    assert f"{dense_parameter_count(48 * 48 * channels, arch.dense_units):,}" in printed


@pytest.mark.parametrize("stem", ["03", "04"])
def test_theory_does_not_hard_code_the_shipped_models_numbers(stem):
    """Numbers of the shipped model's head would go stale at the next retraining: the prose must not state them."""
    arch = Architecture.from_dict(RECIPE["model"])
    dense = build_emotion_cnn(arch).get_layer("dense")
    side, channels = arch.feature_map_sizes()[-1], arch.filters[-1]
    stale = [f"{dense.count_params():,}", f"{dense.count_params():,}".replace(",", "."), f"{side}×{side}×{channels}",
             f"{channels} maps", f"{channels} feature maps", f"{channels} hărți", f"{channels} de hărți",
             "four blocks", "patru blocuri", "48 → 24 → 12 → 6 → 3"]
    if arch.head == "flatten":  # a global-average head's input is the channel count, a number unrelated arithmetic also uses
        stale.append(f"{dense.input.shape[-1]:,}")
    text = "\n".join(c.source for c in read(LESSONS[stem]).cells if lang_of(c) in ("en", "ro")
                     and "<details>" not in c.source)
    for number in stale:
        assert number not in text, f"lesson {stem} states {number!r}: print it from the recipe instead"


def test_keras_does_not_weight_metrics_accuracy():
    """E4: with sample weights, `metrics=` accuracy is the plain share; only the loss (and weighted_metrics) is weighted."""
    import keras

    from utils.training import compile_model

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(7, activation="softmax")])
    compile_model(model, learning_rate=1e-3, weight_decay=0.0, label_smoothing=0.0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = keras.utils.to_categorical(np.random.default_rng(1).integers(0, 7, 64), 7)
    predictions = model.predict(x, verbose=0)
    right = predictions.argmax(1) == y.argmax(1)
    weights = np.where(right, 10.0, 0.1).astype("float32")       # weighted accuracy would be close to 1
    plain = model.evaluate(x, y, verbose=0, return_dict=True)
    weighted = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    assert np.isclose(weighted["accuracy"], right.mean(), atol=1e-6), "metrics= accuracy ignores the sample weights"
    assert np.isclose(plain["accuracy"], weighted["accuracy"])
    assert not np.isclose(plain["loss"], weighted["loss"], rtol=1e-3), "the loss is weighted"


def test_label_smoothing_targets_are_the_stated_formula():
    """E7: y (1 - eps) + eps / K gives 0.914 / 0.014 for eps = 0.1, K = 7, as Keras's loss uses them."""
    import keras

    eps, k = 0.1, 7
    target = np.eye(k)[3] * (1 - eps) + eps / k
    assert np.isclose(target[3], 0.9143, atol=1e-4) and np.isclose(target[0], 0.0143, atol=1e-4)
    p = np.random.default_rng(0).dirichlet(np.ones(k), size=5).astype("float32")
    y = np.eye(k)[[3, 0, 1, 6, 2]].astype("float32")
    smoothed = y * (1 - eps) + eps / k
    keras_loss = float(keras.losses.CategoricalCrossentropy(label_smoothing=eps)(y, p))
    by_hand = float(np.mean(-(smoothed * np.log(np.clip(p, 1e-7, 1))).sum(axis=1)))
    assert np.isclose(keras_loss, by_hand, rtol=1e-5)


def test_class_weights_average_one_per_image():
    """E9: the weights (N / (K n_c))^p are rescaled to mean 1 over the training images."""
    from utils.training import class_weights

    labels = np.repeat(np.arange(7), [3995, 436, 4097, 7215, 4830, 3171, 4965])
    for power in (0.3, 0.5, 1.0):
        weights = class_weights(labels, power=power)
        assert np.isclose(np.mean([weights[c] for c in labels]), 1.0)
        raw = (len(labels) / (7 * np.bincount(labels))) ** power
        assert np.allclose(np.array([weights[c] for c in range(7)]) / raw, weights[0] / raw[0]), "one common factor"


@pytest.mark.parametrize("call, message", [
    (lambda: __import__("utils.layers.pooling", fromlist=["x"]).max_pool2d(np.zeros((3, 3)), pool_size=4), r"larger|window"),
    (lambda: __import__("utils.layers.dropout", fromlist=["x"]).dropout(np.ones(10), rate=1.0), r"dropout rate.*\[0, 1\)"),
    (lambda: __import__("utils.layers.activations", fromlist=["x"]).softmax([1.0, np.nan, 0.0]), r"NaN|infinite"),
    (lambda: __import__("utils.layers.losses", fromlist=["x"]).sparse_categorical_crossentropy([7], np.full((1, 7), 1 / 7)),
     r"7|class"),
])
def test_bad_inputs_of_lesson_03_raise_clear_errors(call, message):
    """The four 'bad inputs' lesson 03 used to demonstrate: each raises a ValueError that says what is wrong."""
    with pytest.raises(ValueError, match=message):
        call()


def test_lessons_03_and_04_have_answers_and_references():
    for stem in ("03", "04"):
        cells = read(LESSONS[stem]).cells
        for lang, heading in (("en", "References"), ("ro", "Bibliografie")):
            assert any(lang_of(c) == lang and heading in c.source for c in cells), f"lesson {stem}: {heading} ({lang})"
        questions = next(c.source for c in cells if lang_of(c) == "en" and "## Check your understanding" in c.source)
        answers = [c.source for c in cells if lang_of(c) == "en" and "<details>" in c.source]
        assert answers and len(re.findall(r"(?m)^\d+\. ", questions)) == sum(a.count("<details>") for a in answers), \
            f"lesson {stem}: one collapsible answer per check-your-understanding question"
