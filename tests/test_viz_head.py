"""Lesson 03's plotting helper in utils.viz: training curves of several runs."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from utils.i18n import set_language
from utils.viz import compare_training_curves

HISTORY = {"loss": [2.0, 1.5, 1.0], "val_loss": [2.1, 1.8, 1.9], "accuracy": [0.2, 0.5, 0.7], "val_accuracy": [0.2, 0.3, 0.3]}


def test_compare_training_curves_draws_every_run_and_marks_the_best_epoch():
    fig = compare_training_curves({"a": HISTORY, "b": {k: [v * 0.9 for v in vs] for k, vs in HISTORY.items()}})
    loss_ax, accuracy_ax = fig.axes
    assert len(accuracy_ax.lines) == 4                      # training + validation per run
    assert len(loss_ax.lines) == 6                          # ... plus one best-epoch dot per run
    dot = loss_ax.lines[2]
    assert list(dot.get_xdata()) == [2] and list(dot.get_ydata()) == [1.8]   # epoch 2 has the lowest val_loss
    assert loss_ax.get_xlabel() == "epoch"
    plt.close(fig)


def test_compare_training_curves_follows_the_language_and_rejects_incomplete_histories():
    set_language("ro")
    try:
        fig = compare_training_curves({"a": HISTORY}, metrics=("loss",))
        assert fig.axes[0].get_xlabel() == "epocă"
        plt.close(fig)
    finally:
        set_language("en")
    with pytest.raises(ValueError, match="val_accuracy"):
        compare_training_curves({"a": {"loss": [1.0], "val_loss": [1.0], "accuracy": [0.5]}})
    with pytest.raises(ValueError, match="at least one run"):
        compare_training_curves({})
