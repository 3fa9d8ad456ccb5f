"""Lesson 03's numpy layers (pooling, ReLU, dropout, flatten, dense, softmax, cross-entropy,
the whole forward pass) against Keras, and their errors on bad input."""

import numpy as np
import pytest

import utils  # noqa: F401  (quiet TensorFlow before Keras is imported)
from utils.layers import (
    average_pool2d,
    categorical_crossentropy,
    dense,
    dense_parameter_count,
    dropout,
    dropout_mask,
    flatten,
    forward,
    global_average_pool2d,
    global_max_pool2d,
    layer_specs,
    log_softmax,
    max_pool2d,
    one_hot,
    pooled_size,
    relu,
    softmax,
    sparse_categorical_crossentropy,
)

keras = pytest.importorskip("keras")
ATOL = 1e-6


@pytest.fixture(scope="module")
def maps():
    """A batch of random feature maps with odd and even sizes, float32 like Keras."""
    return np.random.default_rng(0).normal(size=(3, 11, 10, 4)).astype(np.float32)


# --------------------------------------------------------------------------- pooling


@pytest.mark.parametrize("pool_size, strides, padding", [
    (2, None, "valid"), (3, None, "valid"), (2, 1, "valid"), (3, 2, "valid"), ((2, 3), (1, 2), "valid"),
    (2, None, "same"), (3, None, "same"), (3, 2, "same"), (2, 1, "same"), ((3, 2), (2, 3), "same"),
])
@pytest.mark.parametrize("kind", ["max", "average"])
def test_pooling_equals_keras(maps, kind, pool_size, strides, padding):
    ours = (max_pool2d if kind == "max" else average_pool2d)(maps, pool_size, strides, padding)
    layer = (keras.layers.MaxPooling2D if kind == "max" else keras.layers.AveragePooling2D)(pool_size, strides, padding)
    expected = np.asarray(layer(maps))
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, atol=ATOL)


def test_global_pooling_equals_keras(maps):
    np.testing.assert_allclose(global_max_pool2d(maps), keras.layers.GlobalMaxPooling2D()(maps), atol=ATOL)
    np.testing.assert_allclose(global_average_pool2d(maps), keras.layers.GlobalAveragePooling2D()(maps), atol=ATOL)
    assert global_max_pool2d(maps[0]).shape == (4,)
    assert float(global_average_pool2d(maps[0, :, :, 0])) == pytest.approx(float(maps[0, :, :, 0].mean()), abs=ATOL)


def test_pooling_keeps_the_rank_and_the_worked_example():
    x = np.array([[1, 3, 2, 0], [4, 2, 1, 1], [0, 0, 5, 6], [1, 2, 7, 8]], dtype=np.float32)
    np.testing.assert_array_equal(max_pool2d(x), [[4, 2], [2, 8]])
    np.testing.assert_array_equal(average_pool2d(x), [[2.5, 1.0], [0.75, 6.5]])
    assert max_pool2d(x[..., None]).shape == (2, 2, 1)
    assert max_pool2d(x[None, ..., None]).shape == (1, 2, 2, 1)
    # integers (uint8 images) with 'same' padding: the padding never wins the max
    np.testing.assert_array_equal(max_pool2d(np.zeros((3, 3), np.uint8), 2, padding="same"), np.zeros((2, 2)))


@pytest.mark.parametrize("size, pool, stride, padding, expected", [
    (48, 2, 2, "valid", 24), (47, 2, 2, "valid", 23), (47, 2, 2, "same", 24), (10, 3, 1, "valid", 8), (5, 3, 2, "same", 3),
])
def test_pooled_size(size, pool, stride, padding, expected):
    assert pooled_size(size, pool, stride, padding) == expected


@pytest.mark.parametrize("call, message", [
    (lambda: max_pool2d(np.zeros((3, 3)), 4), "larger than the input"),
    (lambda: average_pool2d(np.zeros((1, 5, 2, 1)), 3), "larger than the input"),
    (lambda: max_pool2d(np.zeros((4, 4)), 0), "at least 1"),
    (lambda: max_pool2d(np.zeros((4, 4)), 2, strides=-1), "at least 1"),
    (lambda: max_pool2d(np.zeros((4, 4)), 2.5), "positive integer"),
    (lambda: max_pool2d(np.zeros((4, 4)), 2, padding="full"), "padding"),
    (lambda: max_pool2d(np.zeros(4), 2), r"\(H, W\)"),
    (lambda: max_pool2d(np.zeros((0, 4)), 2), "empty"),
    (lambda: max_pool2d(np.array([["a", "b"], ["c", "d"]]), 2), "numeric"),
    (lambda: global_max_pool2d(np.zeros((2, 2, 2, 2, 2))), "batch"),
])
def test_pooling_bad_inputs_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- relu, softmax


def test_relu_equals_keras(maps):
    np.testing.assert_allclose(relu(maps), keras.activations.relu(maps), atol=ATOL)
    np.testing.assert_array_equal(relu(np.array([-2.0, 0.0, 3.5])), [0.0, 0.0, 3.5])
    assert relu(np.array([-3, 4])).dtype.kind == "i"


def test_softmax_equals_keras_and_is_stable():
    logits = np.random.default_rng(1).normal(scale=5, size=(6, 7)).astype(np.float32)
    ours = softmax(logits)
    np.testing.assert_allclose(ours, keras.activations.softmax(logits), atol=ATOL)
    np.testing.assert_allclose(ours.sum(axis=-1), 1.0, atol=ATOL)
    huge = np.array([1000.0, 999.0, -1000.0])  # a naive exp overflows here
    np.testing.assert_allclose(softmax(huge), keras.activations.softmax(huge[None])[0], atol=ATOL)
    np.testing.assert_allclose(softmax(logits, axis=0), keras.activations.softmax(logits, axis=0), atol=ATOL)
    np.testing.assert_allclose(np.exp(log_softmax(logits)), ours, atol=ATOL)


def test_softmax_temperature():
    z = np.array([2.0, 1.0, 0.0])
    np.testing.assert_allclose(softmax(z, temperature=2.0), softmax(z / 2.0))
    assert softmax(z, temperature=0.1)[0] > softmax(z)[0] > softmax(z, temperature=10)[0]


@pytest.mark.parametrize("logits, message", [
    ([1.0, np.nan, 0.0], "NaN or infinite"),
    ([[1.0, 2.0], [np.inf, 0.0]], r"index \(1, 0\)"),
    ([-np.inf, 0.0], "NaN or infinite"),
    (3.0, "single number"),
    (np.zeros((2, 0)), "no logits"),
    (["a", "b"], "numbers"),
])
def test_softmax_bad_logits(logits, message):
    with pytest.raises(ValueError, match=message):
        softmax(logits)


def test_softmax_bad_temperature():
    for temperature in (0.0, -1.0, np.nan):
        with pytest.raises(ValueError, match="temperature"):
            softmax([1.0, 2.0], temperature=temperature)


# --------------------------------------------------------------------------- dropout


def test_dropout_matches_keras_in_distribution():
    x = np.random.default_rng(2).uniform(0.5, 2.0, size=(400, 50)).astype(np.float32)
    rate = 0.4
    ours = dropout(x, rate, np.random.default_rng(3))
    theirs = np.asarray(keras.layers.Dropout(rate, seed=3)(x, training=True))
    for out in (ours, theirs):
        kept = out != 0
        assert abs(1 - kept.mean() - rate) < 0.01            # about `rate` of the values are dropped
        np.testing.assert_allclose(out[kept], x[kept] / (1 - rate), rtol=1e-6)  # survivors scaled by 1/(1-rate)
    assert abs(ours.mean() - x.mean()) < 0.01 and abs(theirs.mean() - x.mean()) < 0.01
    # many draws: the mean output of every unit tends to its input
    draws = np.mean([dropout(x[:5], rate, np.random.default_rng(seed)) for seed in range(2000)], axis=0)
    np.testing.assert_allclose(draws, x[:5], rtol=0.1)


def test_dropout_does_nothing_at_inference_or_rate_zero():
    x = np.random.default_rng(4).normal(size=(8, 9)).astype(np.float32)
    np.testing.assert_array_equal(dropout(x, 0.5, 0, training=False), x)
    np.testing.assert_array_equal(np.asarray(keras.layers.Dropout(0.5)(x, training=False)), x)
    np.testing.assert_array_equal(dropout(x, 0.0, 0), x)


def test_dropout_is_reproducible_with_a_seed():
    x = np.ones((20, 20))
    np.testing.assert_array_equal(dropout(x, 0.3, 11), dropout(x, 0.3, np.random.default_rng(11)))
    assert not np.array_equal(dropout(x, 0.3, 11), dropout(x, 0.3, 12))
    assert dropout_mask((1000,), 0.25, 5).dtype == bool


@pytest.mark.parametrize("rate", [1.0, 1.5, -0.1, np.nan, "0.5", True, None])
def test_dropout_bad_rate(rate):
    with pytest.raises(ValueError, match=r"dropout rate"):
        dropout(np.ones(3), rate, 0)


def test_dropout_bad_rng_and_input():
    with pytest.raises(ValueError, match="rng"):
        dropout(np.ones(3), 0.5, "seed")
    with pytest.raises(ValueError, match="numeric"):
        dropout(np.array(["x"]), 0.5, 0)


# --------------------------------------------------------------------------- flatten, dense


def test_flatten_equals_keras(maps):
    np.testing.assert_array_equal(flatten(maps), keras.layers.Flatten()(maps))
    assert flatten(maps).shape == (3, 11 * 10 * 4)
    with pytest.raises(ValueError, match="batch"):
        flatten(np.zeros(5))


def test_dense_equals_keras():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 12)).astype(np.float32)
    layer = keras.layers.Dense(5)
    expected = np.asarray(layer(x))
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(dense(x, kernel, bias), expected, atol=ATOL)
    np.testing.assert_allclose(dense(x[0], kernel, bias), expected[0], atol=ATOL)
    assert layer.count_params() == dense_parameter_count(12, 5)
    assert dense_parameter_count(12, 5, use_bias=False) == 60


@pytest.mark.parametrize("x, kernel, bias, message", [
    (np.zeros((2, 3)), np.zeros((4, 5)), None, "3 features but the kernel expects 4"),
    (np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(4), r"bias must have shape \(5,\)"),
    (np.zeros((2, 3)), np.zeros(3), None, "matrix"),
    (np.zeros((2, 4, 4, 1)), np.zeros((16, 5)), None, "flatten"),
])
def test_dense_bad_shapes(x, kernel, bias, message):
    with pytest.raises(ValueError, match=message):
        dense(x, kernel, bias)


# --------------------------------------------------------------------------- cross-entropy


@pytest.fixture(scope="module")
def predictions():
    rng = np.random.default_rng(6)
    logits = rng.normal(scale=3, size=(10, 7)).astype(np.float32)
    labels = rng.integers(0, 7, size=10)
    probabilities = softmax(logits)
    probabilities[0] = np.eye(7)[(labels[0] + 1) % 7]  # a certain, wrong prediction: clipping matters
    return logits, probabilities.astype(np.float32), labels


def test_crossentropy_equals_keras(predictions):
    logits, probabilities, labels = predictions
    targets = one_hot(labels, 7)
    np.testing.assert_array_equal(targets, keras.utils.to_categorical(labels, 7))
    cases = [
        (categorical_crossentropy(targets, probabilities), keras.losses.categorical_crossentropy(targets, probabilities)),
        (categorical_crossentropy(targets, logits, from_logits=True),
         keras.losses.categorical_crossentropy(targets, logits, from_logits=True)),
        (sparse_categorical_crossentropy(labels, probabilities), keras.losses.sparse_categorical_crossentropy(labels, probabilities)),
        (sparse_categorical_crossentropy(labels, logits, from_logits=True),
         keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)),
    ]
    for ours, theirs in cases:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=ATOL)
    # the mean is the loss Keras trains with
    assert float(categorical_crossentropy(targets, probabilities).mean()) == pytest.approx(
        float(keras.losses.CategoricalCrossentropy()(targets, probabilities)), rel=1e-6)
    # one-hot and sparse labels give the same loss
    np.testing.assert_allclose(categorical_crossentropy(targets, logits, True), sparse_categorical_crossentropy(labels, logits, True), atol=ATOL)
    assert np.isfinite(categorical_crossentropy(targets, probabilities)).all()


def test_crossentropy_is_minus_log_of_the_true_class():
    p = np.array([[0.1, 0.7, 0.2]])
    assert sparse_categorical_crossentropy([1], p)[0] == pytest.approx(-np.log(0.7))
    assert sparse_categorical_crossentropy(np.array([[2]]), p)[0] == pytest.approx(-np.log(0.2))  # (N, 1) labels


@pytest.mark.parametrize("call, message", [
    (lambda: sparse_categorical_crossentropy([7], np.full((1, 7), 1 / 7)), "label 7 is out of range.*0..6"),
    (lambda: sparse_categorical_crossentropy([-1], np.full((1, 7), 1 / 7)), "out of range"),
    (lambda: sparse_categorical_crossentropy([0.5], np.full((1, 7), 1 / 7)), "whole numbers"),
    (lambda: sparse_categorical_crossentropy([0, 1], np.full((1, 7), 1 / 7)), "do not match"),
    (lambda: sparse_categorical_crossentropy([0], [[0.5, np.nan]]), "NaN or infinite"),
    (lambda: categorical_crossentropy([[0, 1]], [[-0.5, 1.5]]), "negative"),
    (lambda: categorical_crossentropy([[0, 1]], [[0.5, 0.5, 0.0]]), "same shape"),
    (lambda: categorical_crossentropy([[1, 1]], [[0.5, 0.5]]), "sum to 1"),
    (lambda: categorical_crossentropy([[0, 1]], [[np.inf, 0.0]], from_logits=True), "NaN or infinite"),
    (lambda: one_hot([3], 3), "out of range"),
    (lambda: one_hot([1], 0), "num_classes"),
])
def test_crossentropy_bad_inputs(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- whole forward pass


def tiny_cnn(seed: int = 0):
    """Every supported kind of layer, with random (not default) biases and batch-norm statistics."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((20, 19, 1)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(6, 3, strides=2, padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.AveragePooling2D(2, padding="same"),
        keras.layers.Dropout(0.5),
        keras.layers.Flatten(),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(7, activation="softmax"),
    ])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32) if "variance" not in v.path
                       else rng.uniform(0.5, 2.0, size=w.shape).astype(np.float32)
                       for w, v in zip(model.get_weights(), model.weights)])
    return model


def test_numpy_forward_pass_equals_keras():
    model = tiny_cnn()
    faces = np.random.default_rng(7).integers(0, 256, size=(5, 20, 19, 1)).astype(np.float32)
    ours = forward(layer_specs(model), faces)
    theirs = model.predict(faces, verbose=0)
    assert ours.shape == (5, 7)
    np.testing.assert_allclose(ours, theirs, atol=ATOL)
    np.testing.assert_allclose(ours.sum(axis=1), 1.0, atol=ATOL)
    trace = forward(layer_specs(model), faces, return_intermediates=True)
    assert [name for name, _ in trace] == [layer.name for layer in model.layers]


def test_numpy_forward_pass_of_a_functional_model_with_global_pooling():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((12, 12, 2))
    x = keras.layers.Conv2D(3, 3, activation="relu")(inputs)
    x = keras.layers.GlobalMaxPooling2D()(x)
    x = keras.layers.Dense(4)(x)
    outputs = keras.layers.Softmax()(x)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(8).normal(size=(3, 12, 12, 2)).astype(np.float32)
    np.testing.assert_allclose(forward(layer_specs(model), x), model.predict(x, verbose=0), atol=ATOL)


def test_forward_pass_errors_are_clear():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3, activation="tanh")])
    with pytest.raises(ValueError, match="activation 'tanh' is not supported"):
        layer_specs(model)
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.UpSampling2D()])
    with pytest.raises(ValueError, match="UpSampling2D.*supported layers"):
        layer_specs(model)
    with pytest.raises(ValueError, match="Keras model"):
        layer_specs(object())
    with pytest.raises(ValueError, match="batch of images"):
        forward(layer_specs(tiny_cnn()), np.zeros((20, 19, 1)))
    any_size = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(2, 5, name="conv")])
    with pytest.raises(ValueError, match=r"layer 'conv' \(Conv2D\).*larger than the input"):
        forward(layer_specs(any_size), np.zeros((1, 4, 4, 1)))


def test_numpy_forward_pass_of_the_course_model():
    """The course's own CNN (batch norm, four blocks, global average pooling) in numpy: Keras's probabilities."""
    from utils.models import Architecture, build_emotion_cnn

    keras.utils.set_random_seed(2)
    model = build_emotion_cnn(Architecture(filters=(8, 16, 16, 32), dense_units=32))
    rng = np.random.default_rng(2)
    # non-trivial batch-norm statistics, so that inference-mode normalisation is really exercised
    model.set_weights([rng.uniform(0.5, 2.0, w.shape).astype(np.float32) if "variance" in v.path
                       else (w + rng.normal(scale=0.1, size=w.shape)).astype(np.float32)
                       for w, v in zip(model.get_weights(), model.weights)])
    faces = rng.uniform(0, 1, size=(3, 48, 48, 1)).astype(np.float32)
    ours = forward(layer_specs(model), faces)
    np.testing.assert_allclose(ours, model.predict(faces, verbose=0), atol=ATOL)
