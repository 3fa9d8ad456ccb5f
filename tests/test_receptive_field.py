"""utils.receptive_field: the formula's table equals the field measured by gradients."""

import json
from pathlib import Path

import numpy as np
import pytest

from utils.models import Architecture, build_emotion_cnn
from utils.receptive_field import empirical_receptive_field, geometry_twin, receptive_field_table

RECIPE = Path(__file__).resolve().parents[1] / "models" / "recipe.json"


def recipe_model():
    return build_emotion_cnn(Architecture.from_dict(json.loads(RECIPE.read_text())["model"]))


def test_the_recipe_table_by_hand():
    table = {row.layer: row for row in receptive_field_table(recipe_model())}
    # 3x3 convs add 2 jumps each, 2x2 pools add 1 jump and double it.
    expected = {"block1_conv1": (3, 1), "block1_conv2": (5, 1), "block1_pool": (6, 2), "block2_conv2": (14, 2),
                "block2_pool": (16, 4), "block3_pool": (36, 8), "block4_pool": (76, 16), "block5_conv2": (140, 16)}
    for layer, (r, j) in expected.items():
        assert (table[layer].r, table[layer].j) == (r, j), layer
    assert table["block5_conv2"].size == 3
    # The last layer's cells see the whole 48x48 face.
    assert table["block5_conv2"].box(1, 1, 48) == (0, 0, 48, 48)


@pytest.mark.parametrize("layer,row,col", [
    ("block1_conv1", 0, 0), ("block1_conv2", 10, 47), ("block1_pool", 5, 7), ("block2_conv1", 11, 0),
    ("block2_pool", 3, 8), ("block3_conv2", 6, 6), ("block3_pool", 0, 5), ("block4_conv1", 2, 3),
])
def test_formula_equals_the_gradient_measurement(layer, row, col):
    model = recipe_model()
    twin = geometry_twin(model)
    field = {r.layer: r for r in receptive_field_table(model)}[layer]
    top, left, bottom, right = field.box(row, col, 48)
    expected = np.zeros((48, 48), bool)
    expected[top:bottom, left:right] = True
    measured = empirical_receptive_field(twin, layer, row, col)
    assert (measured == expected).all(), (layer, (top, left, bottom, right), np.argwhere(measured)[[0, -1]])


def test_strided_same_convolution_fields_match_too():
    import keras
    from keras import layers

    inputs = keras.Input((48, 48, 1))
    x = layers.Conv2D(2, 5, strides=2, padding="same", name="a")(inputs)
    x = layers.Conv2D(2, 3, strides=2, padding="valid", name="b")(x)
    x = layers.MaxPooling2D(3, strides=2, name="c")(x)
    model = keras.Model(inputs, x)
    twin = geometry_twin(model)
    for field in receptive_field_table(model):
        for row, col in ((0, 0), (field.size - 1, field.size // 2)):
            top, left, bottom, right = field.box(row, col, 48)
            expected = np.zeros((48, 48), bool)
            expected[top:bottom, left:right] = True
            assert (empirical_receptive_field(twin, field.layer, row, col) == expected).all(), (field, row, col)


def test_a_real_network_sees_no_pixel_outside_its_field():
    model = recipe_model()
    field = {r.layer: r for r in receptive_field_table(model)}["block3_conv1"]
    top, left, bottom, right = field.box(4, 7, 48)
    face = np.random.default_rng(0).random((48, 48, 1))
    measured = empirical_receptive_field(model, "block3_conv1", 4, 7, image=face)
    assert measured.any()
    outside = measured.copy()
    outside[top:bottom, left:right] = False
    assert not outside.any()


def test_cells_outside_the_map_are_refused():
    field = receptive_field_table(recipe_model())[0]
    with pytest.raises(ValueError, match="outside"):
        field.box(48, 0, 48)
