"""Lesson 01's graded exercises: the checks its test cells run.

Each ``check_*`` function calls a student's function on several cases and raises
``AssertionError`` with a message that says what is expected, in the course language
(``utils.i18n.tr``). The checks test behaviour, so
every correct form passes (``np.stack`` or a copy of the reversed view, ``round`` or
``int(np.round(...))``, resizing before or after scaling to [0, 1], Python lists or arrays
where the statement allows both), and the classic wrong answers fail (a view instead of a
copy, truncation instead of rounding, the wrong interpolation, the majority taken from the
labels being scored). ``hidden=True`` adds the cases a hidden test block keeps for autograding.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from utils import images
from utils.by_hand import guarded
from utils.i18n import fmt, tr

#: How far ``normalise_face`` may be from :func:`utils.images.preprocess_face` on any pixel
#: (one gray level): resizing the ``uint8`` crop and then scaling, or scaling to float first
#: and then resizing, differ by at most half a level.
FACE_TOLERANCE = 1.0 / 255.0


def _sample_gray() -> tuple[np.ndarray, np.ndarray]:
    photo = images.load_sample_photo()
    return photo, images.to_gray(photo)


# --------------------------------------------------------------------------- exercise 1


def check_bgr_to_rgb_copy(student: Callable, hidden: bool = False) -> None:
    """``student(image)``: a new ``uint8`` RGB array, not a view; the input never changes."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (images.bgr_to_rgb,), "bgr_to_rgb")
    photo, _ = _sample_gray()
    rgb = np.asarray(student(photo))
    assert rgb.shape == photo.shape and rgb.dtype == np.uint8, tr(
        f"same shape and dtype as the input: expected {photo.shape} uint8, got {rgb.shape} {rgb.dtype}",
        f"aceeași formă și același dtype ca intrarea: se aștepta {photo.shape} uint8, s-a obținut {rgb.shape} {rgb.dtype}")
    assert np.array_equal(rgb, cv2.cvtColor(photo, cv2.COLOR_BGR2RGB)), tr(
        "the same pixels as cv2.cvtColor(..., COLOR_BGR2RGB)", "aceiași pixeli ca cv2.cvtColor(..., COLOR_BGR2RGB)")
    assert not np.shares_memory(rgb, photo), tr(
        "return a new array, not a view of the input (image[..., ::-1] is a view)",
        "întoarceți un tablou nou, nu o vedere a intrării (image[..., ::-1] este o vedere)")
    if not hidden:
        return
    pixel = np.array([[[10, 20, 30]]], dtype=np.uint8)
    assert np.asarray(student(pixel)).tolist() == [[[30, 20, 10]]], tr(
        "one pixel (B, G, R) = (10, 20, 30) becomes (30, 20, 10)", "un pixel (B, G, R) = (10, 20, 30) devine (30, 20, 10)")
    before = photo.copy()
    result = student(photo)
    result[...] = 0
    assert np.array_equal(photo, before), tr(
        "writing into the result must not change the input", "scrierea în rezultat nu trebuie să schimbe intrarea")
    noise = np.random.default_rng(1).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    assert np.array_equal(student(noise), noise[..., ::-1]), tr("a small non-square image", "o imagine mică, nepătrată")


# --------------------------------------------------------------------------- exercise 2


def gray_reference(image) -> np.ndarray:
    """Reference: the BT.601 luma of a BGR ``uint8`` image, rounded to the nearest integer."""
    as_float = np.asarray(image, dtype=np.float64)
    return np.round(as_float @ np.array([0.114, 0.587, 0.299])).astype(np.uint8)


def check_gray_by_formula(student: Callable, hidden: bool = False) -> None:
    """``student(image)``: ``uint8`` ``(H, W)``, rounded (not truncated), with the weights on the right channels."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (images.to_gray,), "gray_by_formula")
    photo, opencv = _sample_gray()
    mine = np.asarray(student(photo))
    assert mine.shape == photo.shape[:2] and mine.dtype == np.uint8, tr(
        f"shape (H, W) = {photo.shape[:2]}, dtype uint8; got {mine.shape} {mine.dtype}",
        f"forma (H, W) = {photo.shape[:2]}, dtype uint8; s-a obținut {mine.shape} {mine.dtype}")
    assert np.abs(mine.astype(int) - opencv.astype(int)).max() <= 1, tr(
        "at most 1 away from OpenCV on every pixel", "cel mult 1 diferență față de OpenCV la fiecare pixel")
    if not hidden:
        return
    primaries = np.array([[[0, 0, 255], [0, 255, 0], [255, 0, 0], [255, 255, 255], [0, 0, 0]]], dtype=np.uint8)
    got = np.asarray(student(primaries)).tolist()
    assert got == [[76, 150, 29, 255, 0]], tr(
        f"pure red, green, blue, white, black (BGR) should give [76, 150, 29, 255, 0], got {got}: "
        "round to the nearest integer (0.587 * 255 = 149.7 -> 150) and weight R, G, B, not B, G, R",
        f"roșu, verde, albastru pur, alb și negru (BGR) trebuie să dea [76, 150, 29, 255, 0], s-a obținut {got}: "
        "rotunjiți la cel mai apropiat întreg (0,587 * 255 = 149,7 -> 150) "
        "și puneți ponderile pe R, G, B, nu pe B, G, R")
    assert (mine == gray_reference(photo)).mean() > 0.999, tr(
        "the rounded formula on (almost) every pixel", "formula rotunjită pe (aproape) fiecare pixel")
    odd = np.random.default_rng(2).integers(0, 256, (3, 11, 3), dtype=np.uint8)
    assert np.abs(np.asarray(student(odd)).astype(int) - gray_reference(odd).astype(int)).max() <= 1


# --------------------------------------------------------------------------- exercise 3


def crop_reference(image, box, margin: float) -> np.ndarray:
    """Reference: ``box`` grown by ``round(margin * w)`` / ``round(margin * h)``, clamped to the image."""
    x, y, w, h = (int(v) for v in box)
    height, width = image.shape[:2]
    dx, dy = round(w * margin), round(h * margin)
    return image[max(0, y - dy):min(height, y + h + dy), max(0, x - dx):min(width, x + w + dx)]


def check_crop_box_safely(student: Callable, hidden: bool = False) -> None:
    """``student(image, box, margin)``: the grown box, clamped at every border; ``round`` for the margin."""
    grid = np.arange(100, dtype=np.uint8).reshape(10, 10)
    cases = [((2, 3, 4, 5), 0.0), ((2, 2, 4, 4), 0.25), ((0, 0, 4, 4), 0.5)]
    if hidden:
        cases += [((7, 6, 3, 4), 1.0),          # bottom-right: numpy clips end indices by itself
                  ((0, 0, 10, 10), 0.5),         # larger than the image: the whole image
                  ((1, 1, 5, 5), 0.3),           # 0.3 * 5 = 1.5 -> round gives 2, int() gives 1
                  ((3, 2, 5, 6), 0.18),          # 0.9 and 1.08: round gives 1 and 1, int() gives 0 and 1
                  ((4, 1, 2, 7), 0.4),           # w != h: 0.8 -> 1 sideways, 2.8 -> 3 vertically
                  ([1, 8, 3, 3], 0.7)]           # a list box, clamped at the top-left and the bottom
    for box, margin in cases:
        expected = crop_reference(grid, box, margin)
        got = np.asarray(student(grid, box, margin))
        assert got.shape == expected.shape and np.array_equal(got, expected), tr(
            f"box {box}, margin {margin}: expected rows/columns {expected.shape} starting with {expected.flat[0]}, "
            f"got shape {got.shape}: grow by round(margin * w) sideways and round(margin * h) vertically, "
            "then clamp the start at 0 and the end at the image size",
            f"dreptunghiul {box}, marginea {fmt(margin, 'g', 'ro')}: se așteptau rânduri/coloane {expected.shape} "
            f"începând cu {expected.flat[0]}, s-a obținut forma {got.shape}: măriți cu round(margin * w) în lateral "
            "și cu round(margin * h) pe verticală, apoi limitați începutul la 0 și sfârșitul la dimensiunea imaginii")
    if not hidden:
        return
    colour = np.zeros((20, 30, 3), np.uint8)
    assert np.asarray(student(colour, (25, 15, 10, 10), 0.2)).shape == (7, 7, 3), tr(
        "colour images keep their channels", "imaginile color își păstrează canalele")
    _, gray = _sample_gray()
    box = images.detect_faces(gray)[0]
    got = np.asarray(student(gray, (box.x, box.y, box.w, box.h), 0.1))
    assert np.array_equal(got, images.crop(gray, box, 0.1)), tr(
        "the same crop as images.crop on the photo", "același decupaj ca images.crop pe fotografie")


# --------------------------------------------------------------------------- exercise 4


def check_normalise_face(student: Callable, hidden: bool = False) -> None:
    """``student(face)``: ``float32`` ``(48, 48, 1)`` in [0, 1], within one gray level of ``images.preprocess_face``.

    Large crops must be shrunk with ``INTER_AREA`` and crops under 48 pixels on a side
    enlarged with ``INTER_LINEAR``, as the library does; scaling before or after resizing both pass.
    """
    _, gray = _sample_gray()
    face_crop = images.crop(gray, images.detect_faces(gray)[0], 0.1)
    rng = np.random.default_rng(4)
    crops = [(tr("the photo's face crop", "decupajul feței din fotografie"), face_crop),
             (tr("a white 100x100 crop", "un decupaj alb de 100x100"), np.full((100, 100), 255, np.uint8))]
    if hidden:
        crops += [(tr("a gray 60x90 crop (51/255 = 0.2)", "un decupaj gri de 60x90 (51/255 = 0,2)"),
                   np.full((60, 90), 51, np.uint8)),
                  (tr("a black 48x48 crop", "un decupaj negru de 48x48"), np.zeros((48, 48), np.uint8)),
                  (tr("a textured 60x90 crop (shrink: INTER_AREA)", "un decupaj texturat de 60x90 (micșorare: INTER_AREA)"),
                   rng.integers(0, 256, (60, 90), dtype=np.uint8)),
                  (tr("a textured 20x20 crop (enlarge: INTER_LINEAR)", "un decupaj texturat de 20x20 (mărire: INTER_LINEAR)"),
                   rng.integers(0, 256, (20, 20), dtype=np.uint8)),
                  (tr("a textured 30x100 crop (one side under 48: INTER_LINEAR)",
                      "un decupaj texturat de 30x100 (o latură sub 48: INTER_LINEAR)"),
                   rng.integers(0, 256, (30, 100), dtype=np.uint8)),
                  (tr("the face shrunk to 30x40 (enlarge: INTER_LINEAR)", "fața micșorată la 30x40 (mărire: INTER_LINEAR)"),
                   cv2.resize(face_crop, (30, 40), interpolation=cv2.INTER_AREA))]
    for what, crop in crops:
        before = crop.copy()
        ready = np.asarray(student(crop))
        assert ready.shape == (48, 48, 1), tr(f"{what}: shape (48, 48, 1), got {ready.shape}",
                                              f"{what}: forma (48, 48, 1), s-a obținut {ready.shape}")
        assert ready.dtype == np.float32, tr(f"{what}: dtype float32, got {ready.dtype}",
                                             f"{what}: dtype float32, s-a obținut {ready.dtype}")
        assert 0.0 <= ready.min() and ready.max() <= 1.0, tr(
            f"{what}: values in [0, 1], got [{ready.min()}, {ready.max()}]",
            f"{what}: valori în [0, 1], s-au obținut valori de la {fmt(float(ready.min()), 'g', 'ro')} "
            f"la {fmt(float(ready.max()), 'g', 'ro')}")
        expected = images.preprocess_face(crop)
        worst = float(np.abs(ready.astype(np.float64) - expected).max())
        assert worst <= FACE_TOLERANCE + 1e-7, tr(
            f"{what}: {worst * 255:.1f} gray levels away from images.preprocess_face (at most 1 allowed): "
            "INTER_AREA when both sides are at least 48 pixels, INTER_LINEAR otherwise",
            f"{what}: la {fmt(worst * 255, '.1f', 'ro')} niveluri de gri distanță de images.preprocess_face "
            "(se admite cel mult 1): INTER_AREA când ambele laturi au cel puțin 48 de pixeli, altfel INTER_LINEAR")
        assert np.array_equal(crop, before), tr(f"{what}: the input must not change", f"{what}: intrarea nu trebuie să se schimbe")


# --------------------------------------------------------------------------- exercise 5


def majority_reference(train_labels, test_labels) -> float:
    """Reference: the most frequent *training* label, scored on the *test* labels."""
    majority = np.bincount(np.asarray(train_labels)).argmax()
    return float(np.mean(np.asarray(test_labels) == majority))


def check_majority_baseline(student: Callable, hidden: bool = False) -> None:
    """``student(train_labels, test_labels)``: the share of test labels equal to the training majority."""
    cases = [([3, 3, 3, 1], [3, 1, 1, 1]),                  # majority 3 from training: 1 of 4 test faces
             ([0, 0, 1], [1, 1, 0])]                        # the test set's own majority (1) would give 2/3
    if hidden:
        fer_train = np.repeat(np.arange(7), [3995, 436, 4097, 7215, 4830, 3171, 4965])
        fer_public_test = np.repeat(np.arange(7), [467, 56, 496, 895, 653, 415, 607])
        cases += [(np.array([5]), np.array([5, 5])),
                  (np.array([6, 6, 2]), np.array([0, 1, 2])),    # the majority class is absent from the test set
                  ((4, 4, 0), (0, 0, 4, 0)),                     # tuples
                  (np.array([1, 2, 2, 2]), np.array([2])),
                  (fer_train, fer_public_test)]
    for train_labels, test_labels in cases:
        for form in (lambda v: np.asarray(v), lambda v: list(np.asarray(v).tolist())):
            got = student(form(train_labels), form(test_labels))
            expected = majority_reference(train_labels, test_labels)
            assert np.ndim(got) == 0, tr(f"return one number, got {got!r}", f"întoarceți un singur număr, s-a obținut {got!r}")
            got = float(got)
            assert abs(got - expected) < 1e-9, tr(
                f"train {np.asarray(train_labels)[:8].tolist()}..., test {np.asarray(test_labels)[:8].tolist()}...: "
                f"expected {expected:.4f}, got {got:.4f}: take the most frequent class of the TRAINING labels "
                "and count how often it is right on the TEST labels",
                f"antrenare {np.asarray(train_labels)[:8].tolist()}..., test {np.asarray(test_labels)[:8].tolist()}...: "
                f"se aștepta {fmt(expected, '.4f', 'ro')}, s-a obținut {fmt(got, '.4f', 'ro')}: luați clasa cea mai "
                "frecventă dintre etichetele de ANTRENARE și calculați cât de des nimerește pe etichetele de TEST")
