"""The offline default data set: deterministic, every class, and a real learning problem."""

import time

import numpy as np
import pytest

from utils.data import EMOTIONS
from utils.synthetic import class_labels, make_faces


def test_same_seed_same_faces_other_seed_other_faces():
    a_images, a_labels = make_faces(50, seed=3)
    b_images, b_labels = make_faces(50, seed=3)
    c_images, _ = make_faces(50, seed=4)
    np.testing.assert_array_equal(a_images, b_images)
    np.testing.assert_array_equal(a_labels, b_labels)
    assert not np.array_equal(a_images, c_images)


def test_shape_dtype_and_every_class_present():
    images, labels = make_faces(200, seed=0)
    assert images.shape == (200, 48, 48, 1) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    assert set(labels.tolist()) == set(range(len(EMOTIONS)))
    assert images.std() > 20  # faces, not blank canvases


def test_class_proportions_follow_fer2013_unless_balanced():
    rng = np.random.default_rng(0)
    counts = np.bincount(class_labels(1000, rng), minlength=7)
    assert counts.sum() == 1000 and counts.min() >= 1
    assert counts[EMOTIONS.index("happy")] > 4 * counts[EMOTIONS.index("disgust")]
    balanced = np.bincount(class_labels(700, rng, balanced=True), minlength=7)
    assert balanced.tolist() == [100] * 7
    with pytest.raises(ValueError, match="at least 7"):
        class_labels(3, rng)


@pytest.mark.slow
def test_small_cnn_beats_logistic_regression(record_timing):
    """The offline set must reward what a CNN does: a linear model on pixels clearly loses."""
    import keras

    train_x, train_y = make_faces(3500, seed=11, balanced=True)
    val_x, val_y = make_faces(700, seed=12, balanced=True)
    train_x, val_x = train_x.astype("float32") / 255, val_x.astype("float32") / 255

    def fit(model: keras.Model, epochs: int) -> float:
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(train_x, train_y, epochs=epochs, batch_size=32, verbose=0)
        return float(model.evaluate(val_x, val_y, verbose=0)[1])

    keras.utils.set_random_seed(0)
    start = time.perf_counter()
    linear = fit(keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Flatten(), keras.layers.Dense(7, activation="softmax")]), 7)
    cnn = fit(keras.Sequential([
        keras.Input((48, 48, 1)),
        keras.layers.Conv2D(16, 3, activation="relu", padding="same"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu", padding="same"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu", padding="same"), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(7, activation="softmax"),
    ]), 7)
    record_timing("synthetic: logistic regression vs small CNN, 7 epochs each", time.perf_counter() - start)
    print(f"\nsynthetic validation accuracy: logistic regression {linear:.3f}, small CNN {cnn:.3f} (chance 0.143)")
    assert cnn > linear + 0.2
    assert linear < 0.8  # the set is not linearly easy
