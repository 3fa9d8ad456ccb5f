"""Lesson 03's graded exercises: the checks its test cells run.

Same rules as :mod:`utils.backward_exercises` (lesson 04) and :mod:`utils.inside_exercises`
(lesson 05): each ``check_*`` calls the student's function on several cases and raises
``AssertionError`` with a message that says what is expected. Every answer that meets the
statement passes: the result may be a list, a tuple or an array, of any float dtype, within
the stated tolerance, and error messages are never compared (only the exception's type).
Lesson 03's statements promise numpy arrays as arguments, so the checks pass arrays.
The classic wrong answers fail, each with a message that names it:

- max pooling started from 0 instead of from the window's values (all-negative maps);
- dropout drawn with the global ``np.random`` or a fresh generator instead of the given one
  (the same generator state must give the same mask, different states different masks);
- softmax that subtracts one global maximum instead of each row's (a batch whose rows live
  at very different scales);
- cross-entropy summed instead of averaged, or without the clipping.

``hidden=True`` adds the cases a hidden test block keeps for autograding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from utils.by_hand import guarded
from utils.i18n import fmt, tr
from utils.layers.activations import softmax
from utils.layers.dropout import dropout
from utils.layers.losses import sparse_categorical_crossentropy
from utils.layers.pooling import max_pool2d

#: The worked example of lesson 03, section 3.
WORKED_EXAMPLE = np.array([[1, 3, 2, 0],
                           [4, 2, 1, 1],
                           [0, 0, 5, 6],
                           [1, 2, 7, 8]], dtype=float)
TOLERANCE = 1e-6
CLIP = 1e-7


def _as_array(value, what: str, shape: tuple | None = None) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise AssertionError(tr(
            f"{what} must be numbers (an array or a list), got {type(value).__name__}: {error}",
            f"{what}: rezultatul trebuie să fie numere (un tablou sau o listă), s-a obținut {type(value).__name__}: {error}",
        )) from None
    if shape is not None:
        assert array.shape == tuple(shape), tr(f"{what} should have shape {tuple(shape)}, got {array.shape}",
                                               f"{what}: rezultatul ar trebui să aibă forma {tuple(shape)}, are forma {array.shape}")
    return array


def _close(result: np.ndarray, expected, what: str, tolerance: float = TOLERANCE) -> None:
    assert np.isfinite(result).all(), tr(f"{what}: the result contains NaN or infinite values",
                                         f"{what}: rezultatul conține valori NaN sau infinite")
    assert np.allclose(result, expected, rtol=tolerance, atol=tolerance), tr(
        f"{what}: largest |difference| to the expected values is {np.abs(result - expected).max():.3g} "
        f"(should be below {tolerance:g})",
        f"{what}: cea mai mare |diferență| față de valorile corecte este {fmt(np.abs(result - expected).max(), '.3g')} "
        f"(ar trebui să fie sub {fmt(tolerance, 'g')})")


# --------------------------------------------------------------------------- exercise 1


def check_max_pool(student: Callable, hidden: bool = False, extra_maps: Iterable[np.ndarray] = ()) -> None:
    """``student(feature_map, size)``: 'valid' max pooling of a 2D map, window and stride ``size``."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (max_pool2d,), "max_pool")
    rng = np.random.default_rng(42)
    cases = [(WORKED_EXAMPLE, 2), (np.zeros((5, 7)), 2), (rng.normal(size=(6, 8)), 2)]
    if hidden:
        cases += [(rng.normal(size=(7, 9)), 2), (rng.normal(size=(7, 9)), 3), (rng.normal(size=(6, 6)), 1),
                  (rng.normal(size=(46, 46)), 2), (rng.normal(size=(10, 4)), 4),
                  (-np.abs(rng.normal(size=(6, 8))) - 1, 2)]                  # all negative: the maximum is not 0
        cases += [(np.asarray(m, dtype=np.float64), 2) for m in extra_maps]
    for feature_map, size in cases:
        expected = max_pool2d(feature_map, size)
        before = feature_map.copy()
        result = _as_array(student(feature_map, size),
                           tr(f"my_max_pool of a {feature_map.shape} map, size {size}",
                              f"my_max_pool pe o hartă {feature_map.shape}, fereastra de mărime {size}"),
                           (feature_map.shape[0] // size, feature_map.shape[1] // size))
        assert np.array_equal(feature_map, before), tr("my_max_pool changed its input: pooling only reads the map",
                                                       "my_max_pool și-a modificat intrarea: poolingul doar citește harta")
        if not np.allclose(result, expected) and np.allclose(result, np.maximum(expected, 0)):
            raise AssertionError(tr(
                "windows of negative values gave 0: start each window's maximum from its own values, not from 0",
                "ferestrele cu valori negative au dat 0: porniți maximul fiecărei ferestre de la valorile ei, nu de la 0"))
        if size > 1 and np.allclose(result, feature_map[: result.shape[0] * size, : result.shape[1] * size]
                                    .reshape(result.shape[0], size, result.shape[1], size).mean(axis=(1, 3))) \
                and not np.allclose(result, expected):
            raise AssertionError(tr(
                "this is the mean of each window (average pooling): max pooling keeps the largest value",
                "aceasta este media fiecărei ferestre (average pooling, pooling prin medie): max pooling păstrează cea mai mare valoare"))
        _close(result, expected, tr(f"max pooling of a {feature_map.shape} map with size {size}",
                                    f"max pooling pe o hartă {feature_map.shape}, fereastra de mărime {size}"))


# --------------------------------------------------------------------------- exercise 2


def check_dropout(student: Callable, hidden: bool = False) -> None:
    """``student(x, rate, rng)``: inverted dropout in training mode, random numbers drawn from ``rng``."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (dropout,), "dropout")
    x = np.ones((200, 100))
    out = _as_array(student(x, 0.25, np.random.default_rng(0)), "my_dropout(x, 0.25, rng)", x.shape)
    assert np.array_equal(x, np.ones((200, 100))), tr("my_dropout changed its input x: return a new array",
                                                      "my_dropout și-a modificat intrarea x: întoarceți un tablou nou")
    assert np.all(np.isclose(out, 0) | np.isclose(out, 1 / 0.75)), tr(
        "each value is either dropped (0) or divided by 1 - rate",
        "fiecare valoare este fie anulată (0), fie împărțită la 1 - rate")
    assert abs(np.isclose(out, 0).mean() - 0.25) < 0.02, tr(
        f"about a quarter of the values should be dropped at rate 0.25, got {np.isclose(out, 0).mean():.3f}",
        f"la rata 0,25 ar trebui anulat cam un sfert din valori, s-a obținut {fmt(np.isclose(out, 0).mean(), '.3f')}")
    assert abs(out.mean() - 1.0) < 0.03, tr(
        f"the mean should stay close to the input's (1), got {out.mean():.3f}",
        f"media ar trebui să rămână aproape de cea a intrării (1), s-a obținut {fmt(out.mean(), '.3f')}")
    if not hidden:
        return
    _close(_as_array(student(x, 0.0, np.random.default_rng(1)), tr("rate 0", "rata 0"), x.shape), x,
           tr("rate 0 changes nothing", "rata 0 nu schimbă nimic"))
    big = _as_array(student(np.full((300, 300), 3.0), 0.8, np.random.default_rng(2)), tr("rate 0.8", "rata 0,8"), (300, 300))
    dropped = np.isclose(big, 0)
    assert abs(dropped.mean() - 0.8) < 0.01, tr(
        f"rate 0.8 should drop about 80% of the values, got {dropped.mean():.3f}",
        f"rata 0,8 ar trebui să anuleze cam 80 % din valori, s-a obținut {fmt(dropped.mean(), '.3f')}")
    _close(big[~dropped], np.full((~dropped).sum(), 15.0), tr("the survivors of rate 0.8 are 3 / (1 - 0.8)",
                                                              "valorile păstrate la rata 0,8 sunt 3 / (1 - 0,8)"))
    varied = np.random.default_rng(5).uniform(0.5, 1.5, size=(50, 40))
    mixed = _as_array(student(varied, 0.3, np.random.default_rng(6)),
                      tr("values that are not all equal", "valori care nu sunt toate egale"), varied.shape)
    kept = ~np.isclose(mixed, 0)
    _close(mixed[kept], varied[kept] / 0.7, tr("each survivor is its own input divided by 1 - rate",
                                               "fiecare valoare păstrată este propria ei intrare împărțită la 1 - rate"))
    first = _as_array(student(x, 0.5, np.random.default_rng(3)), tr("rate 0.5", "rata 0,5"), x.shape)
    again = _as_array(student(x, 0.5, np.random.default_rng(3)), tr("rate 0.5", "rata 0,5"), x.shape)
    assert np.array_equal(first, again), tr(
        "two generators with the same seed must give the same output: draw the random numbers with the rng argument "
        "(not with np.random.* or a new generator)",
        "două generatoare cu aceeași sămânță trebuie să dea aceeași ieșire: trageți numerele aleatoare din argumentul rng "
        "(nu din np.random.* și nici dintr-un generator nou)")
    other = _as_array(student(x, 0.5, np.random.default_rng(4)), tr("rate 0.5", "rata 0,5"), x.shape)
    assert not np.array_equal(first, other), tr(
        "generators with different seeds gave the same mask: draw the random numbers with the rng argument",
        "generatoare cu semințe diferite au dat aceeași mască: trageți numerele aleatoare din argumentul rng")
    for bad_rate in (1.0, 1.5, -0.1):
        try:
            student(x, bad_rate, np.random.default_rng(0))
        except ValueError:
            continue
        raise AssertionError(tr(f"rate={bad_rate} must raise a ValueError (the rate lies in [0, 1))",
                                f"rate={bad_rate} trebuie să ridice un ValueError (rata este în [0, 1))"))


# --------------------------------------------------------------------------- exercise 3


def check_softmax(student: Callable, hidden: bool = False) -> None:
    """``student(logits)``: softmax along the last axis of a ``(K,)`` vector or an ``(N, K)`` batch, stable for large logits."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (softmax,), "softmax")
    with np.errstate(over="ignore", invalid="ignore"):
        small = _as_array(student(np.array([1.0, 2.0, 3.0])), "my_softmax([1, 2, 3])", (3,))
        _close(small, [0.09003057, 0.24472847, 0.66524096], tr("softmax of [1, 2, 3]", "softmax pentru [1, 2, 3]"))
        large = _as_array(student(np.array([1000.0, 999.0, 0.0])), "my_softmax([1000, 999, 0])", (3,))
        assert np.isfinite(large).all(), tr(
            "logits like [1000, 999, 0] overflow: subtract the largest logit first",
            "logiți ca [1000, 999, 0] depășesc domeniul (overflow): scădeți mai întâi cel mai mare logit")
        _close(large, softmax(np.array([1000.0, 999.0, 0.0])), tr("softmax of [1000, 999, 0]", "softmax pentru [1000, 999, 0]"))
        if not hidden:
            return
        rng = np.random.default_rng(7)
        batch = rng.normal(scale=4, size=(6, 7))
        result = _as_array(student(batch), tr("a batch (6, 7)", "un lot (6, 7)"), batch.shape)
        if np.isclose(result.sum(), 1.0) and not np.allclose(result.sum(axis=1), 1.0):
            raise AssertionError(tr(
                "a batch: the whole batch sums to 1; each row (image) must sum to 1 on its own",
                "un lot: suma pe tot lotul este 1; fiecare rând (imagine) trebuie să aibă singur suma 1"))
        _close(result, softmax(batch), tr("a batch: the softmax of each row", "un lot: softmax pe fiecare rând"))
        _close(_as_array(student(batch + 500.0), tr("a batch + 500", "un lot + 500"), batch.shape), softmax(batch),
               tr("adding the same constant to all logits changes nothing",
                  "adăugarea aceleiași constante la toți logiții nu schimbă nimic"))
        _close(_as_array(student(np.array([1000.0, 999.0, -1000.0])), "[1000, 999, -1000]", (3,)),
               softmax(np.array([1000.0, 999.0, -1000.0])), tr("very different logits", "logiți foarte diferiți"))
        # rows at very different scales: one maximum for the whole batch underflows the second row to 0 / 0
        scales = np.array([[0.0, 0.0], [-1000.0, -1001.0]])
        rows = _as_array(student(scales), tr("a batch whose rows live at very different scales",
                                             "un lot ale cărui rânduri au scări foarte diferite"), scales.shape)
        assert np.isfinite(rows).all(), tr(
            "a batch [[0, 0], [-1000, -1001]] gave NaN: subtract each row's own maximum, not the batch's",
            "lotul [[0, 0], [-1000, -1001]] a dat NaN: scădeți maximul fiecărui rând, nu pe cel al întregului lot")
        _close(rows, [[0.5, 0.5], [0.73105858, 0.26894142]], tr("each row's own maximum", "maximul propriu al fiecărui rând"))
        _close(_as_array(student(batch.astype(np.float32)), tr("float32 logits", "logiți float32"), batch.shape), softmax(batch),
               tr("float32 logits", "logiți float32"), 1e-5)


# --------------------------------------------------------------------------- exercise 4


def check_cross_entropy(student: Callable, hidden: bool = False) -> None:
    """``student(labels, probabilities)``: the mean cross-entropy, probabilities clipped to [1e-7, 1 - 1e-7], as a float."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (sparse_categorical_crossentropy,), "cross_entropy")
    def value(labels, probabilities, what):
        result = student(np.asarray(labels), np.asarray(probabilities, dtype=np.float64))
        assert isinstance(result, float), tr(
            f"{what}: return one number, a Python float (float(...)), got {type(result).__name__}",
            f"{what}: întoarceți un singur număr, un float Python (float(...)), s-a obținut {type(result).__name__}")
        return float(result)

    one = value([1], [[0.2, 0.5, 0.3]], tr("one image", "o imagine"))
    assert np.isclose(one, -np.log(0.5)), tr(
        f"one image: the loss is -log of the true class's probability (0.693), got {one:.4f}",
        f"o imagine: pierderea este -log din probabilitatea clasei adevărate (0,693), s-a obținut {fmt(one, '.4f')}")
    two = value([0, 2], [[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]], tr("two images", "două imagini"))
    expected = -(np.log(0.5) + np.log(0.8)) / 2
    if np.isclose(two, 2 * expected):
        raise AssertionError(tr("two images: this is the sum of the losses; the loss of a batch is their mean",
                                "două imagini: aceasta este suma pierderilor; pierderea unui lot este media lor"))
    assert np.isclose(two, expected), tr(f"two images: expected the mean {expected:.4f}, got {two:.4f}",
                                         f"două imagini: se aștepta media {fmt(expected, '.4f')}, s-a obținut {fmt(two, '.4f')}")
    value([0], [[1.0, 0.0]], tr("a certain, right prediction", "o predicție sigură și corectă"))
    if not hidden:
        return
    rng = np.random.default_rng(9)
    p = softmax(rng.normal(scale=2, size=(20, 7)))
    y = rng.integers(0, 7, size=20)
    got = value(y, p, tr("20 images", "20 de imagini"))
    assert np.isclose(got, sparse_categorical_crossentropy(y, p).mean(), rtol=TOLERANCE), tr(
        f"20 random images: expected {sparse_categorical_crossentropy(y, p).mean():.6f}, got {got:.6f}",
        f"20 de imagini aleatoare: se aștepta {fmt(sparse_categorical_crossentropy(y, p).mean(), '.6f')}, "
        f"s-a obținut {fmt(got, '.6f')}")
    with np.errstate(divide="ignore"):
        certain_wrong = value([0], [[0.0, 1.0]], tr("probability 0 for the true class",
                                                    "probabilitatea 0 pentru clasa adevărată"))
    assert np.isfinite(certain_wrong), tr(
        "probability 0 for the true class gave an infinite loss: clip first",
        "probabilitatea 0 pentru clasa adevărată a dat o pierdere infinită: limitați mai întâi probabilitățile (np.clip)")
    assert np.isclose(certain_wrong, -np.log(CLIP)), tr(
        f"probability 0 for the true class costs -log(1e-7) = {-np.log(CLIP):.3f} after clipping, got {certain_wrong:.3f}",
        f"probabilitatea 0 pentru clasa adevărată costă -log(1e-7) = {fmt(-np.log(CLIP), '.3f')} după limitare (clip), "
        f"s-a obținut {fmt(certain_wrong, '.3f')}")
    right = value([1], [[0.0, 1.0]], tr("a certain, right prediction", "o predicție sigură și corectă"))
    assert 0 <= right < 1e-6, tr(f"a certain, right prediction costs almost nothing, got {right:.3g}",
                                 f"o predicție sigură și corectă nu costă aproape nimic, s-a obținut {fmt(right, '.3g')}")


# --------------------------------------------------------------------------- exercise 5


def head_parameters_reference(height: int, width: int, channels: int, pool: int, units: int) -> int:
    """Reference: a dense layer with biases after 'valid' pool x pool max pooling and flatten."""
    inputs = ((height - pool) // pool + 1) * ((width - pool) // pool + 1) * channels
    return inputs * units + units


def check_head_parameters(student: Callable, hidden: bool = False) -> None:
    """``student(height, width, channels, pool, units)``: the parameters of that dense layer."""
    cases = [(48, 48, 32, 1, 128), (48, 48, 32, 2, 128)]
    if hidden:
        cases += [(47, 47, 8, 2, 10), (3, 3, 256, 1, 256), (10, 13, 3, 3, 5), (12, 12, 16, 2, 7), (6, 9, 4, 2, 1)]
    for case in cases:
        got, expected = student(*case), head_parameters_reference(*case)
        assert isinstance(got, (int, np.integer)), tr(
            f"head_parameters{case}: return a whole number (int), got {type(got).__name__}",
            f"head_parameters{case}: întoarceți un număr întreg (int), s-a obținut {type(got).__name__}")
        if got == expected - case[-1]:
            raise AssertionError(tr(f"head_parameters{case}: {got} leaves out the biases, one per unit",
                                    f"head_parameters{case}: {fmt(got)} lasă deoparte biasurile, câte unul pentru fiecare neuron"))
        assert got == expected, tr(f"head_parameters{case}: expected {expected:,}, got {got:,}",
                                   f"head_parameters{case}: se aștepta {fmt(expected)}, s-a obținut {fmt(got)}")


__all__ = ["check_cross_entropy", "check_dropout", "check_head_parameters", "check_max_pool", "check_softmax",
           "head_parameters_reference"]
