"""utils.viz: the training curves (lessons 03 and 04), and a smoke test for every plot."""

import matplotlib

matplotlib.use("Agg")

import inspect

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from utils import viz
from utils.calibration import apply_temperature, reliability_bins
from utils.constants import EMOTIONS
from utils.i18n import set_language
from utils.viz import compare_training_curves, plot_history

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


def test_plot_history_draws_both_panels():
    rows = [{"epoch": 1, "loss": 1.5, "val_loss": 1.6, "accuracy": 0.4, "val_accuracy": 0.38},
            {"epoch": 2, "loss": 1.3, "val_loss": 1.4, "accuracy": 0.5, "val_accuracy": 0.47}]
    figure = plot_history(rows)
    assert len(figure.axes) == 2 and all(len(ax.lines) == 2 for ax in figure.axes)


def test_live_plot_callback_keeps_every_epoch_during_fit():
    import keras

    from utils.models import Architecture, build_emotion_cnn

    model = build_emotion_cnn(Architecture(filters=(4,), block_dropout=(0.0,), dense_units=4))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = np.zeros((8, 48, 48, 1), "float32"), keras.utils.to_categorical(np.arange(8) % 7, 7)
    earlier = [{"epoch": 1, "loss": 2.0, "accuracy": 0.2}]  # a resumed run starts with its history
    plot = viz.LivePlot(earlier)
    model.fit(x, y, validation_data=(x, y), epochs=3, initial_epoch=1, callbacks=[plot], verbose=0)
    assert [row["epoch"] for row in plot.rows] == [1, 2, 3]
    assert "val_accuracy" in plot.rows[-1]


# --------------------------------------------------------------------------- smoke tests: every plot returns a figure

FACES = np.random.default_rng(0).integers(0, 256, (14, 48, 48, 1), dtype=np.uint8)
LABELS = np.arange(14) % 7
PROBABILITIES = np.full((14, 7), 1 / 7)
PROBABILITIES[np.arange(14), (LABELS + 1) % 7] = 0.5
SOFTMAX = PROBABILITIES / PROBABILITIES.sum(axis=1, keepdims=True)
MATRIX = np.arange(49).reshape(7, 7)
ROWS = [{"epoch": 1, "loss": 1.5, "val_loss": 1.6, "accuracy": 0.4, "val_accuracy": 0.38},
        {"epoch": 2, "loss": 1.3, "val_loss": 1.4, "accuracy": 0.5, "val_accuracy": 0.47}]

PLOTS = {
    "show_images": lambda: viz.show_images(list(FACES[:3]), ["a", "b", "c"], suptitle="faces"),
    "class_examples": lambda: viz.class_examples(FACES, LABELS, per_class=2),
    "class_distribution": lambda: viz.class_distribution({name: i + 1 for i, name in enumerate(EMOTIONS)}, title="counts"),
    "show_matrix": lambda: viz.show_matrix(np.eye(3), "identity"),
    "show_matrices": lambda: viz.show_matrices([np.eye(2), np.ones((2, 2))], ["a", "b"]),
    "show_feature_maps": lambda: viz.show_feature_maps([np.eye(4), -np.eye(4)], ["a", "b"]),
    "show_kernels_and_maps": lambda: viz.show_kernels_and_maps({"identity": np.eye(3)}, [np.eye(5)]),
    "show_row_profiles": lambda: viz.show_row_profiles([FACES[0]], [np.arange(46.0)], ["face"]),
    "compare_training_curves": lambda: viz.compare_training_curves({"a": HISTORY}),
    "plot_history": lambda: viz.plot_history(ROWS, title="run"),
    "confusion_heatmap": lambda: viz.confusion_heatmap(MATRIX),
    "probability_bars": lambda: viz.probability_bars(PROBABILITIES[:2], ["1", "2"], true_labels=[0, 1]),
    "mistakes_gallery": lambda: viz.mistakes_gallery(FACES, LABELS, PROBABILITIES, [0, 1, 2]),
    "show_filters": lambda: viz.show_filters(np.random.default_rng(1).normal(size=(3, 3, 1, 8)), title="filters"),
    "plot_ablations": lambda: viz.plot_ablations({"budget": {"epochs": 2, "limit": 100}, "variants": {
        name: {"accuracy": a, "accuracy_flip_tta": a + 0.01, "history": ROWS} for name, a in (("base", 0.5), ("other", 0.4))}}),
    "reliability_diagram": lambda: viz.reliability_diagram(  # rows normalised: the fixture above is for bars only
        {"model": reliability_bins(SOFTMAX, LABELS, 5), "T = 2": reliability_bins(apply_temperature(SOFTMAX, 2.0), LABELS, 5)}),
}


def test_every_public_plot_has_a_smoke_test():
    public = {name for name, value in vars(viz).items()
              if inspect.isfunction(value) and not name.startswith("_") and value.__module__ == viz.__name__
              and inspect.signature(value).return_annotation in ("Figure", Figure)}
    assert public <= set(PLOTS), f"add a smoke test for {sorted(public - set(PLOTS))}"


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_plot_returns_a_figure(name):
    figure = PLOTS[name]()
    assert isinstance(figure, Figure) and figure.axes
    plt.close(figure)


def test_set_language_changes_a_title():
    english = viz.confusion_heatmap(MATRIX)
    set_language("ro")
    try:
        romanian = viz.confusion_heatmap(MATRIX)
    finally:
        set_language("en")
    assert english.axes[0].get_title().startswith("Confusion matrix")
    assert romanian.axes[0].get_title().startswith("Matricea de confuzie")
    assert romanian.axes[0].get_xlabel() == "emoția prezisă"
    plt.close(english)
    plt.close(romanian)


def test_kernels_and_maps_wrap_into_rows_with_readable_numbers():
    from utils.layers import KERNELS

    names = ["identity", "box_blur", "sobel_x", "sobel_y", "laplacian", "sharpen"]
    kernels = {name: KERNELS[name] for name in names if name in KERNELS}
    maps = [np.random.default_rng(0).normal(size=(12, 12)) for _ in kernels]
    fig = viz.show_kernels_and_maps(kernels, maps, ncols=4)
    rows = -(-len(kernels) // 4)
    assert fig.axes[0].get_gridspec().get_geometry() == (2 * rows, min(4, len(kernels)))
    sizes = [text.get_fontsize() for ax in fig.axes for text in ax.texts]
    assert sizes and min(sizes) >= 10
    with pytest.raises(ValueError, match="ncols"):
        viz.show_kernels_and_maps(kernels, maps, ncols=0)
