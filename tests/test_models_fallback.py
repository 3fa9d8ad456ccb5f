"""utils.models helpers for lesson 04: the shipped model or a fallback, batch-norm momentum for short runs."""

import numpy as np
import pytest

from utils.i18n import set_language
from utils.lesson import load_shipped_or
from utils.models import Architecture, ModelError, build_emotion_cnn, save_model, set_batch_norm_momentum

TINY = Architecture(filters=(4, 8), block_dropout=(0.1, 0.2), dense_units=8)


@pytest.fixture(scope="module")
def tiny_model():
    return build_emotion_cnn(TINY, name="tiny")


def test_missing_shipped_model_falls_back_and_says_so(tmp_path, tiny_model):
    model, sentence = load_shipped_or(tiny_model, tmp_path / "emotion_cnn.keras")
    assert model is tiny_model
    assert "NOT available" in sentence and "No model at" in sentence and f"{tiny_model.count_params():,}" in sentence
    set_language("ro")
    try:
        _, romanian = load_shipped_or(tiny_model, tmp_path / "emotion_cnn.keras")
        assert "NU este disponibil" in romanian
    finally:
        set_language("en")


def test_a_broken_shipped_model_also_falls_back(tmp_path, tiny_model):
    broken = tmp_path / "emotion_cnn.keras"
    broken.write_bytes(b"not a zip archive")
    model, sentence = load_shipped_or(tiny_model, broken)
    assert model is tiny_model and "not a Keras 3 model file" in sentence
    assert broken.read_bytes() == b"not a zip archive", "nothing the user had is overwritten"


def test_without_fallback_the_error_is_raised(tmp_path):
    with pytest.raises(ModelError, match="No model at"):
        load_shipped_or(None, tmp_path / "emotion_cnn.keras")


def test_a_present_model_is_loaded_and_described(tmp_path, tiny_model):
    path = save_model(tiny_model, tmp_path / "emotion_cnn.keras")
    model, sentence = load_shipped_or(build_emotion_cnn(TINY, name="fallback"), path)
    assert model.name == "tiny" and "Using the shipped model" in sentence and "MODEL_CARD" not in sentence
    (tmp_path / "MODEL_CARD.md").write_text("# card\n")
    _, sentence = load_shipped_or(None, path)
    assert "MODEL_CARD.md" in sentence
    faces = np.random.default_rng(0).random((3, 48, 48, 1)).astype("float32")
    assert np.allclose(model(faces, training=False), tiny_model(faces, training=False), atol=1e-6)


def test_set_batch_norm_momentum():
    model = build_emotion_cnn(TINY)
    assert set_batch_norm_momentum(model, 0.9) == 4
    assert all(layer.momentum == 0.9 for layer in model.layers if type(layer).__name__ == "BatchNormalization")
    assert set_batch_norm_momentum(build_emotion_cnn(Architecture(filters=(4,), block_dropout=(0,), batch_norm=False)), 0.9) == 0
    with pytest.raises(ValueError, match="momentum"):
        set_batch_norm_momentum(model, 1.0)


def test_lower_momentum_makes_short_runs_predict_like_training_mode():
    """After a few steps, momentum 0.9 brings the moving statistics to the batch statistics; 0.99 does not."""
    import keras

    x = np.random.default_rng(1).normal(5.0, 3.0, size=(64, 48, 48, 1)).astype("float32")
    gaps = {}
    no_dropout = Architecture(filters=(4, 8), block_dropout=(0, 0), dense_units=8, dense_dropout=0)
    for momentum in (0.99, 0.9):
        keras.utils.set_random_seed(0)
        model = build_emotion_cnn(no_dropout)
        set_batch_norm_momentum(model, momentum)
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss="categorical_crossentropy")   # lr 0: only the statistics move
        model.fit(x, np.eye(7)[np.zeros(64, int)], batch_size=64, epochs=40, verbose=0)
        gaps[momentum] = float(np.abs(model(x, training=False) - model(x, training=True)).max())
    assert gaps[0.9] < 0.02 < gaps[0.99], gaps
