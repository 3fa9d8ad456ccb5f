"""Shared plots for the lessons: image grids, examples per class, class distribution.

Every function draws one matplotlib figure and returns it (end the notebook line with
``;`` so the figure is shown once). Colour images are taken as RGB, matplotlib's order:
convert OpenCV's BGR first (``utils.images.bgr_to_rgb``). Titles go through
``utils.i18n.tr`` in the calling code or here, so they follow the course language.

Used by every lesson; the training curves are explained in lessons 03 (over-fitting) and 04 (training).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from utils.constants import EMOTIONS, EMOTIONS_RO  # noqa: F401  (EMOTIONS_RO re-exported)
from utils.i18n import tr


def emotion_name(label: int | str) -> str:
    """The emotion's name in the course language (``emotion_name(3)`` -> 'happy' / 'bucurie')."""
    index = EMOTIONS.index(label) if isinstance(label, str) else int(label)
    return tr(EMOTIONS[index], EMOTIONS_RO[index])


def _as_displayable(image: np.ndarray) -> tuple[np.ndarray, dict]:
    """Drop a trailing channel axis of 1; grayscale gets a fixed gray colour map."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        high = 1.0 if image.dtype.kind == "f" and image.max() <= 1.0 else 255
        return image, {"cmap": "gray", "vmin": 0, "vmax": high}
    return image, {}


def show_images(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    *,
    ncols: int | None = None,
    size: float = 2.4,
    suptitle: str | None = None,
) -> Figure:
    """Show images side by side (RGB colour or grayscale; grayscale is not stretched: 0 black, 255 or 1.0 white)."""
    if len(images) == 0:
        raise ValueError("show_images needs at least one image")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles")
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(images):
            image, style = _as_displayable(images[index])
            ax.imshow(image, **style)
            if titles is not None:
                ax.set_title(titles[index], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def class_examples(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    per_class: int = 8,
    seed: int = 0,
    size: float = 1.1,
) -> Figure:
    """A grid with one row per emotion and ``per_class`` random example faces in each row."""
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels")
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(len(EMOTIONS), per_class, figsize=(size * per_class + 1.4, size * len(EMOTIONS)), squeeze=False)
    for label, row in enumerate(axes):
        members = np.flatnonzero(labels == label)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False) if len(members) else []
        for column, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if column < len(chosen):
                image, style = _as_displayable(images[chosen[column]])
                ax.imshow(image, **style)
        row[0].set_ylabel(emotion_name(label), rotation=0, ha="right", va="center", fontsize=10)
    fig.subplots_adjust(left=0.12, right=0.99, top=0.99, bottom=0.01, wspace=0.05, hspace=0.05)
    return fig


def class_distribution(counts: Mapping[str, int], *, title: str | None = None) -> Figure:
    """A bar chart of images per emotion, each bar labelled with its count and share of the total."""
    names = list(counts)
    values = np.array([counts[name] for name in names], dtype=float)
    total = values.sum()
    if total <= 0:
        raise ValueError("class_distribution needs at least one image")
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    bars = ax.bar([emotion_name(n) if n in EMOTIONS else n for n in names], values, color="#4C72B0")
    bars[int(values.argmin())].set_color("#C44E52")  # the rarest class stands out
    for bar, value in zip(bars, values):
        ax.annotate(f"{int(value):,}\n{100 * value / total:.1f}%", (bar.get_x() + bar.get_width() / 2, value),
                    ha="center", va="bottom", fontsize=8)
    ax.set_ylabel(tr("images", "imagini"))
    ax.set_ylim(0, values.max() * 1.25)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title or tr("Images per emotion", "Imagini pe emoție"))
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- convolution (lesson 02)

#: Display names of the kernels in ``utils.layers.convolution.KERNELS``: (English, Romanian).
KERNEL_NAMES: dict[str, tuple[str, str]] = {
    "identity": ("identity", "identitate"),
    "box_blur": ("box blur", "estompare uniformă"),
    "gaussian": ("Gaussian blur", "estompare gaussiană"),
    "sharpen": ("sharpen", "accentuare"),
    "sobel_x": ("Sobel x (vertical edges)", "Sobel x (muchii verticale)"),
    "sobel_y": ("Sobel y (horizontal edges)", "Sobel y (muchii orizontale)"),
    "laplacian": ("Laplacian", "laplacian"),
    "emboss": ("emboss", "relief"),
    "box_blur_5x5": ("box blur 5x5", "estompare uniformă 5x5"),
    "gaussian_5x5": ("Gaussian blur 5x5", "estompare gaussiană 5x5"),
}


def kernel_title(name: str) -> str:
    """A kernel's display name in the course language (unknown names are shown as given)."""
    return tr(*KERNEL_NAMES[name]) if name in KERNEL_NAMES else name


def signed_range(values: np.ndarray, percentile: float = 100.0) -> tuple[float, float]:
    """The value range to map to black..white for a feature map.

    Maps of both signs that are about 0 almost everywhere (edge detectors: the median is
    near 0) get a range symmetric around 0, so mid-gray means "no response", white a strong
    positive and black a strong negative one. Image-like maps (blur, sharpen, emboss) are
    stretched from their minimum to their maximum. ``percentile < 100`` ignores the few most extreme values (99.5: a handful of
    very strong edges would otherwise turn everything else gray).
    """
    values = np.asarray(values)
    # a display range needs no exact quantiles: on large maps, estimate them from ~4k values
    sample = values.ravel()[::max(1, values.size // 4096)].astype(np.float64)
    if percentile < 100:
        low, high = (float(v) for v in np.percentile(sample, [100 - percentile, percentile]))
    else:
        low, high = float(values.min()), float(values.max())
    if low < 0 < high and abs(float(np.median(sample))) < 0.1 * max(-low, high):
        bound = max(-low, high)
        return -bound, bound
    return (low, high) if high > low else (low - 1.0, high + 1.0)


#: Feature maps are shown with this percentile of their values as white (see :func:`signed_range`).
DISPLAY_PERCENTILE = 99.5


def _matrix_on(ax, values: np.ndarray, title: str | None, highlight: tuple[int, int, int, int] | None, fmt: str,
               fontsize: float = 9) -> None:
    values = np.asarray(values, dtype=np.float64)
    signed = values.min() < 0
    bound = float(np.abs(values).max()) or 1.0
    low, high = (-bound, bound) if signed else signed_range(values)
    # signed values (kernels): blue < 0 < red; unsigned ones (pixels): black = low, white = high, as in images
    ax.imshow(values, cmap="coolwarm" if signed else "gray", vmin=low, vmax=high)
    if values.size <= 144:  # numbers stay readable up to 12x12
        for (i, j), value in np.ndenumerate(values):
            # white text where the cell is dark: both ends of coolwarm, the low end of gray
            light = abs(value) > 0.6 * high if signed else value - low < 0.45 * (high - low)
            ax.text(j, i, format(value, fmt), ha="center", va="center", fontsize=fontsize, color="white" if light else "black")
    if highlight is not None:
        top, left, height, width = highlight
        ax.add_patch(plt.Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor="#2CA02C", linewidth=3))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)


def show_matrix(values: np.ndarray, title: str | None = None, *, highlight: tuple[int, int, int, int] | None = None,
                fmt: str = "g", size: float = 0.45) -> Figure:
    """A small 2D array drawn as a grid with its numbers in the cells (kernels, patches, tiny images).

    ``highlight=(top, left, height, width)`` frames a window, e.g. the patch under the kernel.
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"show_matrix draws 2D arrays, got shape {values.shape}")
    fig, ax = plt.subplots(figsize=(max(1.6, size * values.shape[1]), max(1.6, size * values.shape[0]) + 0.3))
    _matrix_on(ax, values, title, highlight, fmt)
    fig.tight_layout()
    return fig


def show_matrices(arrays: Sequence[np.ndarray], titles: Sequence[str], *, fmt: str = "g", size: float = 0.45) -> Figure:
    """Several small 2D arrays side by side, numbers in the cells (e.g. patch, kernel, products)."""
    if len(arrays) != len(titles) or not arrays:
        raise ValueError(f"got {len(arrays)} arrays and {len(titles)} titles: give one title per array")
    width = sum(max(1.6, size * np.shape(a)[1]) for a in arrays)
    height = max(max(1.6, size * np.shape(a)[0]) for a in arrays) + 0.4
    fig, axes = plt.subplots(1, len(arrays), figsize=(width, height), squeeze=False,
                             gridspec_kw={"width_ratios": [np.shape(a)[1] for a in arrays]})
    for ax, values, title in zip(axes[0], arrays, titles):
        _matrix_on(ax, values, title, None, fmt)
    fig.tight_layout()
    return fig


def show_feature_maps(maps: Sequence[np.ndarray], titles: Sequence[str] | None = None, *, ncols: int | None = None,
                      size: float = 2.4, suptitle: str | None = None) -> Figure:
    """Feature maps side by side, each scaled by :func:`signed_range` (mid-gray = 0 for signed maps).

    Each title gets the map's true value range, because the gray levels alone hide it
    (the display saturates the most extreme 0.5% of values, :data:`DISPLAY_PERCENTILE`).
    """
    maps = [np.asarray(m, dtype=np.float64).squeeze() for m in maps]
    if not maps or any(m.ndim != 2 for m in maps):
        raise ValueError("show_feature_maps needs one or more 2D maps (H, W)")
    if titles is not None and len(titles) != len(maps):
        raise ValueError(f"got {len(maps)} maps but {len(titles)} titles")
    ncols = ncols or len(maps)
    nrows = -(-len(maps) // ncols)
    # two-line titles (name, range) need room above every row
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.45) * nrows + (0.4 if suptitle else 0)), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(maps):
            low, high = signed_range(maps[index], DISPLAY_PERCENTILE)
            ax.imshow(maps[index], cmap="gray", vmin=low, vmax=high)
            name = titles[index] if titles is not None else ""
            ax.set_title(f"{name}\n[{maps[index].min():.3g}, {maps[index].max():.3g}]", fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_kernels_and_maps(kernels: Mapping[str, np.ndarray], maps: Sequence[np.ndarray], *, size: float = 2.6,
                          ncols: int = 4) -> Figure:
    """Each filter's kernel (its numbers, large enough to read) above its feature map, ``ncols`` filters per row."""
    if len(kernels) != len(maps) or not maps:
        raise ValueError(f"got {len(kernels)} kernels and {len(maps)} maps: give one map per kernel")
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    ncols = min(ncols, len(maps))
    nrows = -(-len(maps) // ncols)
    fig, axes = plt.subplots(2 * nrows, ncols, figsize=(size * ncols, nrows * (2 * size + 0.4)), squeeze=False,
                             gridspec_kw={"height_ratios": [0.8, 1] * nrows})
    for ax in axes.flat:
        ax.axis("off")
    for index, ((name, kernel), fmap) in enumerate(zip(kernels.items(), maps)):
        row, column = 2 * (index // ncols), index % ncols
        kernel = np.asarray(kernel)
        # the numbers shrink with the kernel's side so that a 5x5 kernel still fits its cells
        _matrix_on(axes[row, column], kernel, kernel_title(name), None, ".2g", fontsize=13 if kernel.shape[1] <= 3 else 10)
        axes[row, column].axis("on")
        axes[row, column].spines[:].set_visible(False)
        fmap = np.asarray(fmap, dtype=np.float64).squeeze()
        low, high = signed_range(fmap, DISPLAY_PERCENTILE)
        axes[row + 1, column].imshow(fmap, cmap="gray", vmin=low, vmax=high)
        axes[row + 1, column].set_title(f"[{fmap.min():.3g}, {fmap.max():.3g}]", fontsize=10)
    fig.tight_layout()
    return fig


def show_row_profiles(images: Sequence[np.ndarray], profiles: Sequence[np.ndarray], titles: Sequence[str], *,
                      xlabel: str | None = None, size: float = 2.6) -> Figure:
    """Each image with a curve beside it, one value per image row (e.g. the mean edge strength of each row).

    A profile may be shorter than the image (a *valid* convolution loses rows at the top and
    bottom); it is centred vertically so each value stays beside its row.
    """
    if not (len(images) == len(profiles) == len(titles)) or not images:
        raise ValueError("give one profile and one title per image")
    fig, axes = plt.subplots(1, 2 * len(images), figsize=(2 * size * len(images), size + 0.5), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 0.8] * len(images)})
    for index, (image, profile, title) in enumerate(zip(images, profiles, titles)):
        image, style = _as_displayable(image)
        profile = np.asarray(profile, dtype=np.float64)
        if profile.ndim != 1 or len(profile) > image.shape[0]:
            raise ValueError(f"profile {index}: expected at most one value per image row ({image.shape[0]}), got shape {profile.shape}")
        picture, curve = axes[0, 2 * index], axes[0, 2 * index + 1]
        picture.imshow(image, **style)
        picture.set_title(title, fontsize=10)
        picture.axis("off")
        offset = (image.shape[0] - len(profile)) / 2
        curve.plot(profile, offset + np.arange(len(profile)), color="#C44E52")
        curve.set_ylim(image.shape[0] - 0.5, -0.5)  # row 0 at the top, as in the image
        curve.set_yticks([])
        curve.spines[["top", "right"]].set_visible(False)
        if xlabel:
            curve.set_xlabel(xlabel, fontsize=9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- training curves (lessons 03 and 04)


def compare_training_curves(histories: Mapping[str, Mapping[str, Sequence[float]]],
                            metrics: Sequence[str] = ("loss", "accuracy"), *, size: float = 4.2,
                            title: str | None = None, mark_best: bool = True, require_validation: bool = True) -> Figure:
    """Training (solid) and validation (dashed) curves of several runs, one panel per metric.

    ``histories`` maps a run's name to a Keras ``History.history`` dict (``"loss"``,
    ``"val_loss"``, ...; an ``"epoch"`` list, as in a run's history.csv, gives the epoch
    numbers). The epoch of the lowest validation loss of each run is marked
    (``mark_best``): after it, the model only gets better at its training images
    (over-fitting). A run named ``""`` gets no name in the legend (see :func:`plot_history`).
    """
    if not histories:
        raise ValueError("compare_training_curves needs at least one run")
    for name, history in histories.items():
        wanted = [key for metric in metrics for key in (metric, f"val_{metric}")] if require_validation else list(metrics)
        missing = [key for key in wanted if key not in history]
        if missing:
            raise ValueError(f"run {name!r} has no {missing} in its history: fit with validation_data and these metrics")
    fig, axes = plt.subplots(1, len(metrics), figsize=(size * len(metrics), 3.2 + (0.3 if title else 0)), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, metric in zip(axes[0], metrics):
        for colour, (name, history) in zip(colours, histories.items()):
            prefix = f"{name}: " if name else ""
            epochs = np.asarray(history.get("epoch", np.arange(1, len(history[metric]) + 1)))
            ax.plot(epochs, history[metric], color=colour, label=prefix + tr("training", "antrenare"))
            if f"val_{metric}" in history:
                ax.plot(epochs, history[f"val_{metric}"], color=colour, linestyle="--", label=prefix + tr("validation", "validare"))
                if metric == "loss" and mark_best:
                    best = int(np.nanargmin(history["val_loss"]))
                    ax.plot(epochs[best], history["val_loss"][best], "o", color=colour)
        ax.set_xlabel(tr("epoch", "epocă"))
        ax.set_title({"loss": tr("loss (cross-entropy)", "pierdere (entropie încrucișată)"),
                      "accuracy": tr("accuracy", "acuratețe")}.get(metric, metric))
        ax.spines[["top", "right"]].set_visible(False)
    axes[0][0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history: Sequence[Mapping[str, float]] | Mapping[str, Sequence[float]], *,
                 title: str | None = None, metrics: Sequence[str] = ("loss", "accuracy")) -> Figure:
    """One run's loss and accuracy per epoch, training vs validation; returns the figure.

    ``history`` is a Keras ``History.history`` dict or the rows of a run's history.csv
    (:meth:`utils.training.RunFolder.history`, one dict per epoch); a metric the rows lack
    (no validation yet) is left out of its panel.
    """
    if isinstance(history, Mapping):
        columns = {key: list(values) for key, values in history.items()}
    else:
        rows = list(history)
        keys = [key for key in ("epoch", *metrics, *(f"val_{m}" for m in metrics)) if any(key in r for r in rows)]
        columns = {key: [r.get(key, math.nan) for r in rows] for key in keys}
    present = [m for m in metrics if m in columns]
    if not present:
        raise ValueError(f"the history has none of the metrics {list(metrics)}: nothing to plot")
    return compare_training_curves({"": columns}, present, size=5.0, title=title, mark_best=False, require_validation=False)


def _live_plot_class():
    """:class:`LivePlot`, built on first use: a Keras callback class needs Keras, which this module does not import."""
    import keras

    class LivePlot(keras.callbacks.Callback):
        """Redraws the loss and accuracy curves (training and validation) after every epoch.

        In a notebook the figure is replaced in place; ``history`` may hold the epochs of a
        run being resumed (rows as in history.csv), so the curves start at its beginning.
        """

        def __init__(self, history: list[dict[str, float]] | None = None, *, title: str | None = None):
            super().__init__()
            self.rows = list(history or [])
            self.title = title
            self._handle = None

        def on_epoch_end(self, epoch, logs=None):
            self.rows.append({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})
            figure = plot_history(self.rows, title=self.title)
            try:
                from IPython.display import display

                if self._handle is None:
                    self._handle = display(figure, display_id=True)
                else:
                    self._handle.update(figure)
            except ImportError:  # no IPython: nothing to draw on
                pass
            plt.close(figure)

    return LivePlot


_LAZY: dict[str, type] = {}


def __getattr__(name: str):
    # ``from utils.viz import LivePlot`` works without importing Keras with every plot.
    if name == "LivePlot":
        if name not in _LAZY:
            _LAZY[name] = _live_plot_class()
        return _LAZY[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- the full model (lesson 04)


def confusion_heatmap(matrix: np.ndarray, *, normalize: bool = True, title: str | None = None, size: float = 5.2) -> Figure:
    """The confusion matrix as a heatmap: rows = true emotion, columns = predicted emotion.

    ``normalize=True`` colours each cell by its share of the row (the row's recall on the
    diagonal), so rare classes are as readable as common ones; every cell shows that
    percentage and the raw count below it.
    """
    matrix = np.asarray(matrix)
    k = len(EMOTIONS)
    if matrix.shape != (k, k):
        raise ValueError(f"expected a {k}x{k} confusion matrix (one row and column per emotion), got shape {matrix.shape}")
    rows = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    values = shares if normalize else matrix.astype(float)
    fig, ax = plt.subplots(figsize=(size + 0.8, size))
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if normalize else max(1.0, values.max()))
    for (i, j), count in np.ndenumerate(matrix):
        text = f"{100 * shares[i, j]:.0f}%\n{count}" if normalize else f"{count}"
        dark = values[i, j] > 0.55 * (1 if normalize else max(1.0, values.max()))
        ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color="white" if dark else "black")
    names = [emotion_name(i) for i in range(k)]
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel(tr("predicted emotion", "emoția prezisă"))
    ax.set_ylabel(tr("true emotion", "emoția adevărată"))
    ax.set_title(title or (tr("Confusion matrix (share of each true emotion)", "Matricea de confuzie (proporții pe fiecare emoție adevărată)")
                           if normalize else tr("Confusion matrix (counts)", "Matricea de confuzie (număr de imagini)")), fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def probability_bars(probabilities: np.ndarray, titles: Sequence[str] | None = None, *, true_labels: Sequence[int] | None = None,
                     size: float = 2.9) -> Figure:
    """One horizontal bar chart of the 7 emotion probabilities per face (``(7,)`` or ``(N, 7)``).

    The most probable emotion is drawn in a strong colour; ``true_labels`` (optional) marks
    each face's true emotion with a frame.
    """
    probabilities = np.atleast_2d(np.asarray(probabilities, dtype=np.float64))
    if probabilities.ndim != 2 or probabilities.shape[1] != len(EMOTIONS) or len(probabilities) == 0:
        raise ValueError(f"expected probabilities of shape (7,) or (N, 7), got {np.shape(probabilities)}")
    if titles is not None and len(titles) != len(probabilities):
        raise ValueError(f"got {len(probabilities)} faces but {len(titles)} titles")
    count = len(probabilities)
    fig, axes = plt.subplots(1, count, figsize=(size * count, 2.5), squeeze=False)
    names = [emotion_name(i) for i in range(len(EMOTIONS))]
    for index, (ax, row) in enumerate(zip(axes[0], probabilities)):
        colours = ["#C44E52" if i == row.argmax() else "#9DB4D6" for i in range(len(row))]
        bars = ax.barh(range(len(row)), row, color=colours)
        if true_labels is not None:
            bars[int(true_labels[index])].set_edgecolor("black")
            bars[int(true_labels[index])].set_linewidth(1.5)
        for position, value in enumerate(row):
            ax.text(min(value + 0.02, 0.8), position, f"{100 * value:.0f}%", va="center", fontsize=7.5)
        ax.set_yticks(range(len(row)), names if index == 0 else [""] * len(row), fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.5, 1])
        ax.tick_params(axis="x", labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
        if titles is not None:
            ax.set_title(titles[index], fontsize=9)
    fig.tight_layout()
    return fig


def mistakes_gallery(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, indices: Sequence[int], *,
                     ncols: int = 6, size: float = 1.7) -> Figure:
    """The faces at ``indices``, each titled with its true emotion and the model's (wrong) answer and confidence."""
    indices = list(indices)
    if not indices:
        raise ValueError("no faces to show: the list of mistakes is empty")
    titles = []
    for i in indices:
        predicted = int(np.argmax(probabilities[i]))
        titles.append(f"{tr('true', 'adevărat')}: {emotion_name(int(labels[i]))}\n"
                      f"{tr('model', 'model')}: {emotion_name(predicted)} {100 * probabilities[i][predicted]:.0f}%")
    ncols = min(ncols, len(indices))
    fig = show_images([images[i] for i in indices], titles, ncols=ncols, size=size)
    for ax in fig.axes:
        ax.title.set_fontsize(8)
    return fig


def show_filters(kernels: np.ndarray, *, ncols: int = 8, size: float = 0.95, title: str | None = None) -> Figure:
    """First-layer filters as small images: ``(K, K, C)`` or Keras's ``(K, K, 1, C)``.

    Each filter has its own symmetric colour scale: red = positive weight, blue = negative,
    white = 0, so a filter that subtracts the left from the right shows blue | red.
    """
    kernels = np.asarray(kernels, dtype=np.float64)
    if kernels.ndim == 4 and kernels.shape[2] == 1:
        kernels = kernels[:, :, 0, :]
    if kernels.ndim != 3:
        raise ValueError(f"expected kernels of shape (K, K, C) or (K, K, 1, C), got {kernels.shape}")
    count = kernels.shape[-1]
    ncols = min(ncols, count)
    nrows = -(-count // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0.1)), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < count:
            kernel = kernels[..., index]
            bound = float(np.abs(kernel).max()) or 1.0
            ax.imshow(kernel, cmap="coolwarm", vmin=-bound, vmax=bound)
            ax.set_title(str(index), fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_ablations(results: Mapping, *, baseline: str = "base", title: str | None = None) -> Figure:
    """What each ingredient bought: validation accuracy of every variant of a search (utils.experiments).

    Left: one bar per variant (the baseline's accuracy as a dashed line, flip-TTA accuracy as a dot);
    right: the validation-accuracy curve of every variant over the epochs of the budget.
    """
    variants = results["variants"]
    names = list(variants)
    accuracy = np.array([variants[n]["accuracy"] for n in names])
    flipped = np.array([variants[n]["accuracy_flip_tta"] for n in names])
    reference = variants[baseline]["accuracy"] if baseline in variants else None
    figure, (bars, curves) = plt.subplots(1, 2, figsize=(12, 0.42 * len(names) + 1.8),
                                          gridspec_kw={"width_ratios": [1.25, 1]})
    positions = np.arange(len(names))
    colours = ["#4c72b0" if reference is None or a >= reference else "#c44e52" for a in accuracy]
    bars.barh(positions, accuracy * 100, color=colours)
    bars.plot(flipped * 100, positions, "k.", label=tr("with flip TTA", "cu TTA prin oglindire"))
    if reference is not None:
        bars.axvline(reference * 100, color="gray", linestyle="--", label=tr("base recipe", "rețeta de bază"))
    bars.set_yticks(positions, names)
    bars.invert_yaxis()
    low = min(accuracy.min(), flipped.min()) * 100
    bars.set_xlim(max(0, low - 5), max(accuracy.max(), flipped.max()) * 100 + 2)
    bars.set_xlabel(tr("validation accuracy (%)", "acuratețe pe validare (%)"))
    bars.legend(loc="upper left", bbox_to_anchor=(0, -0.1), ncol=2, fontsize=8, frameon=False)  # below: never over a bar
    others = [name for name in names if name != baseline]
    for name in names:
        history = variants[name].get("history", [])
        # ten colours, then the same ten dashed: no two curves look alike; the base is the thick black one
        style = ({"color": "black", "linewidth": 2.4} if name == baseline else
                 {"color": plt.cm.tab10(others.index(name) % 10), "linewidth": 1.1,
                  "linestyle": "-" if others.index(name) < 10 else "--"})
        curves.plot([r["epoch"] for r in history], [100 * r.get("val_accuracy", np.nan) for r in history],
                    label=name, **style)
    curves.set_xlabel(tr("epoch", "epocă"))
    curves.set_ylabel(tr("validation accuracy (%)", "acuratețe pe validare (%)"))
    curves.grid(alpha=0.3)
    curves.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(0, -0.1), frameon=False)  # below the curves
    budget = results.get("budget", {})
    figure.suptitle(title or tr(
        f"What each ingredient bought ({budget.get('epochs', '?')} epochs, "
        f"{budget.get('limit') or tr('all', 'toate')} training images)",
        f"Ce a adus fiecare ingredient ({budget.get('epochs', '?')} epoci, "
        f"{budget.get('limit') or 'toate'} imagini de antrenare)"))
    figure.tight_layout()
    return figure


def reliability_diagram(curves: Mapping[str, object], *, title: str | None = None, size: float = 4.2) -> Figure:
    """Calibration at a glance: for each named :class:`utils.calibration.ReliabilityBins`, accuracy vs confidence.

    Left: per bin, the share of right answers (markers) against the mean confidence; the
    diagonal is perfect calibration, points below it are over-confident. Right: how many
    predictions fall in each bin (so an empty or tiny bin is not over-read).
    """
    if not curves:
        raise ValueError("reliability_diagram needs at least one set of bins")
    fig, (ax, counts) = plt.subplots(1, 2, figsize=(2 * size, size * 0.85), gridspec_kw={"width_ratios": [1.2, 1]})
    ax.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=1, label=tr("perfect calibration", "calibrare perfectă"))
    width = None
    for offset, (name, bins) in enumerate(curves.items()):
        filled = bins.counts > 0
        ax.plot(bins.confidence[filled], bins.accuracy[filled], "o-", markersize=4, label=name)
        edges = np.asarray(bins.edges)
        width = (edges[1] - edges[0]) / (len(curves) + 0.5)
        counts.bar(edges[:-1] + offset * width, bins.counts, width=width, align="edge", label=name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(tr("confidence (top probability)", "încredere (probabilitatea maximă)"))
    ax.set_ylabel(tr("share of right answers", "proporția răspunsurilor corecte"))
    ax.legend(fontsize=8, loc="upper left")
    counts.set_xlabel(tr("confidence (top probability)", "încredere (probabilitatea maximă)"))
    counts.set_ylabel(tr("predictions in the bin", "predicții în interval"))
    for axis in (ax, counts):
        axis.spines[["top", "right"]].set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
