"""Lesson 02's graded exercises: references and the checks its test cells run.

Each ``check_*`` function calls a student's function on several cases and raises
``AssertionError`` with a message that says what is expected, in the course language
(``utils.i18n.tr``). The checks test behaviour:
every correct form passes (loops or vectorised code, ``int`` or numpy integers, a tuple, a
list or an array for a shape, any message in an exception), and the classic wrong answers
fail (a flipped kernel, ``/`` instead of ``//``, rounding instead of flooring, parameters that
ignore the input channels or depend on the image size or the padding).
``hidden=True`` adds the cases a hidden test block keeps for autograding.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from utils.by_hand import guarded
from utils.i18n import count_phrase, fmt, tr
from utils.layers.convolution import conv2d, conv_output_size, correlate2d, correlate_patch


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- exercise 1


def check_output_cell(student: Callable, hidden: bool = False) -> None:
    """``student(patch, kernel, bias=0.0)``: ``sum(patch * kernel) + bias`` as a float; ``ValueError`` on a shape mismatch."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (correlate_patch, correlate2d, conv2d), "output_cell")
    tiny = np.ones((6, 6), dtype=np.float32)
    tiny[:3, 3:] = 9
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
    assert student(tiny[0:3, 1:4], sobel_x) == 32.0, tr("the example of section 3 gives 32", "exemplul din secțiunea 3 dă 32")
    assert student(np.ones((3, 3)), sobel_x, bias=0.5) == 0.5, tr(
        "a flat patch under Sobel x gives only the bias", "o fereastră uniformă sub Sobel x dă doar biasul")
    assert isinstance(student(np.ones((2, 2)), np.ones((2, 2))), float), tr(
        "return a float (float(...) of the sum)", "întoarceți un float (float(...) aplicat sumei)")
    if not hidden:
        return
    rng = np.random.default_rng(11)
    for shape in [(3, 3), (5, 5), (3, 3, 3), (1, 1), (2, 4)]:
        p, k = rng.standard_normal(shape), rng.standard_normal(shape)
        got = student(p, k, 1.25)
        assert abs(got - correlate_patch(p, k, 1.25)) < 1e-9, tr(
            f"shape {shape}: the sum of patch * kernel plus the bias, without flipping the kernel",
            f"forma {shape}: suma patch * kernel plus biasul, fără a întoarce (oglindi) nucleul")
    raised = False
    try:
        student(np.ones((3, 3)), np.ones((2, 2)))
    except ValueError:
        raised = True
    assert raised, tr("a (3, 3) patch with a (2, 2) kernel must raise ValueError",
                      "o fereastră (3, 3) cu un nucleu (2, 2) trebuie să genereze ValueError")


# --------------------------------------------------------------------------- exercise 2


def check_conv2d_valid(student: Callable, hidden: bool = False) -> None:
    """``student(image, kernel, stride=1)``: a 'valid' cross-correlation (no flip) with the given stride."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (conv2d, correlate2d), "conv2d_valid")
    rng = np.random.default_rng(12)
    cases = [((6, 6), (3, 3), 1), ((5, 5), (3, 3), 2)]
    if hidden:
        cases += [((9, 11), (3, 3), 1), ((10, 13), (3, 3), 2), ((12, 12), (5, 5), 2),
                  ((8, 9), (3, 5), 1), ((7, 7), (7, 7), 1), ((15, 14), (3, 3), 3), ((16, 10), (2, 3), 2)]
    for (h, w), (kh, kw), s in cases:
        img, ker = rng.standard_normal((h, w)), rng.standard_normal((kh, kw))
        expected = conv2d(img[..., None], ker[:, :, None, None], stride=s)[..., 0]
        before = img.copy()
        got = np.asarray(student(img, ker, stride=s), dtype=np.float64)
        assert got.shape == expected.shape, tr(
            f"image {(h, w)}, kernel {(kh, kw)}, stride {s}: output shape {expected.shape}, got {got.shape}",
            f"imaginea {(h, w)}, nucleul {(kh, kw)}, pasul {s}: forma ieșirii {expected.shape}, s-a obținut {got.shape}")
        assert np.allclose(got, expected, atol=1e-9), tr(
            f"image {(h, w)}, kernel {(kh, kw)}, stride {s}: wrong values (cross-correlation: do not flip the kernel; "
            "the patch of cell (i, j) starts at row i*S, column j*S)",
            f"imaginea {(h, w)}, nucleul {(kh, kw)}, pasul {s}: valori greșite (corelație încrucișată: nu întoarceți "
            "(nu oglindiți) nucleul; fereastra celulei (i, j) începe la rândul i*S, coloana j*S)")
        assert np.array_equal(img, before), tr("the input must not change", "intrarea nu trebuie să se schimbe")


# --------------------------------------------------------------------------- exercise 3


def output_size_reference(size: int, kernel: int, stride: int = 1, padding: int | str = 0) -> int:
    """Reference: the output length of a convolution along one axis; ``padding`` an int, 'valid' or 'same'."""
    if padding == "same":
        return math.ceil(size / stride)
    if padding == "valid":
        padding = 0
    return (size - kernel + 2 * padding) // stride + 1


def check_output_size(student: Callable, hidden: bool = False) -> None:
    """``student(size, kernel, stride=1, padding=0)``: an integer, floored; 'same' gives ceil(size / stride)."""
    if hidden:  # written by hand: the course's own version is switched off
        student = guarded(student, (conv_output_size,), "output_size")
    cases = [(48, 3, 1, 0), (48, 3, 1, 1), (48, 3, 2, 1), (6, 3, 1, 0), (48, 3, 1, "valid"), (48, 3, 1, "same")]
    if hidden:
        cases += [(size, kernel, stride, pad) for size in (5, 7, 11, 24, 47, 48, 100) for kernel in (1, 3, 5)
                  for stride in (1, 2, 3) for pad in (0, 1, 2, "valid", "same") if size + 2 * (pad if isinstance(pad, int) else 0) >= kernel]
    for size, kernel, stride, pad in cases:
        got = student(size, kernel, stride=stride, padding=pad)
        expected = output_size_reference(size, kernel, stride, pad)
        call = f"output_size({size}, {kernel}, stride={stride}, padding={pad!r})"
        assert _is_integer(got), tr(f"{call} must be an int, got {got!r}", f"{call} trebuie să fie un int, s-a obținut {got!r}")
        assert got == expected, tr(
            f"{call} should be {expected}, got {got} (round down; 'same' keeps ceil(size / stride))",
            f"{call} trebuie să fie {fmt(expected, ',', 'ro')}, s-a obținut {fmt(got, ',', 'ro')} "
            "(rotunjiți în jos; 'same' păstrează ceil(size / stride))")


# --------------------------------------------------------------------------- exercise 4


def _pair(kernel_size) -> tuple[int, int]:
    return (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else tuple(int(k) for k in kernel_size)


def conv_layer_reference(input_shape, filters: int, kernel_size, stride: int = 1, padding: int | str = "valid",
                         use_bias: bool = True) -> tuple[tuple[int, int, int], int]:
    """Reference: ``((H_out, W_out, filters), parameters)`` of ``Conv2D(filters, kernel_size, stride, padding)``."""
    height, width, channels = (int(v) for v in input_shape)
    k_h, k_w = _pair(kernel_size)
    shape = (output_size_reference(height, k_h, stride, padding), output_size_reference(width, k_w, stride, padding),
             int(filters))
    return shape, (k_h * k_w * channels + (1 if use_bias else 0)) * int(filters)


def check_conv_layer_summary(student: Callable, hidden: bool = False) -> None:
    """``student(input_shape, filters, kernel_size, stride=1, padding='valid', use_bias=True)`` -> ``(shape, parameters)``."""
    cases = [((48, 48, 1), 32, 3, 1, "same", True), ((24, 24, 32), 64, 3, 2, 1, True), ((48, 48, 3), 8, 5, 1, "valid", False)]
    if hidden:
        cases += [((128, 96, 3), 16, 3, 1, "same", True),            # colour photo, 'same': the size stays
                  ((128, 96, 3), 16, 3, 1, "valid", True),           # same layer, 'valid': parameters do not change
                  ((12, 12, 64), 128, 3, 2, "same", True),
                  ((7, 9, 5), 4, (3, 5), 1, 2, True),                # non-square kernel, 2 zeros on each side
                  ((47, 47, 16), 16, 1, 3, 0, True),                 # a 1x1 convolution: K*K*C_in = C_in weights
                  ((96, 96, 1), 32, 3, 1, "same", True),             # bigger image, same parameters as (48, 48, 1)
                  ((10, 10, 2), 1, 3, 1, "valid", False)]
    for input_shape, filters, kernel_size, stride, padding, use_bias in cases:
        call = (f"conv_layer_summary({input_shape}, {filters}, {kernel_size}, stride={stride}, padding={padding!r}, "
                f"use_bias={use_bias})")
        result = student(input_shape, filters, kernel_size, stride=stride, padding=padding, use_bias=use_bias)
        assert isinstance(result, (tuple, list)) and len(result) == 2, tr(
            f"{call}: return (output_shape, parameters), got {result!r}",
            f"{call}: întoarceți (output_shape, parameters), s-a obținut {result!r}")
        shape, parameters = result
        expected_shape, expected_parameters = conv_layer_reference(input_shape, filters, kernel_size, stride, padding, use_bias)
        shape = tuple(int(v) for v in np.asarray(shape).ravel())
        assert shape == expected_shape, tr(
            f"{call}: output shape {expected_shape}, got {shape} (one channel per filter; padding and stride set the size)",
            f"{call}: forma ieșirii {expected_shape}, s-a obținut {shape} (un canal pentru fiecare filtru; bordarea și pasul "
            "dau dimensiunea)")
        assert _is_integer(parameters), tr(f"{call}: the number of parameters must be an int, got {parameters!r}",
                                           f"{call}: numărul de parametri trebuie să fie un int, s-a obținut {parameters!r}")
        assert parameters == expected_parameters, tr(
            f"{call}: {expected_parameters} parameters, got {parameters} (every filter spans all input channels; "
            "one bias per filter; neither the image size nor the padding changes the count)",
            f"{call}: {count_phrase(expected_parameters, 'parametri', 'ro')}, s-a obținut {fmt(parameters, ',', 'ro')} "
            "(fiecare filtru acoperă toate canalele de intrare; un bias pentru fiecare filtru; nici dimensiunea imaginii, "
            "nici bordarea nu schimbă numărul)")


# --------------------------------------------------------------------------- exercise 5


def check_horizontal_edge_kernel(student: Callable, hidden: bool = False) -> None:
    """``student()``: any 3x3 kernel that behaves as a horizontal-edge detector (positive on dark above, bright below)."""
    kernel = np.asarray(student(), dtype=np.float64)
    assert kernel.shape == (3, 3), tr(f"a 3x3 kernel, got shape {kernel.shape}", f"un nucleu de 3x3, s-a obținut forma {kernel.shape}")
    dark_above = np.full((12, 12), 40.0)
    dark_above[6:] = 200.0
    response = correlate2d(dark_above, kernel)
    assert response.max() > 0 and abs(response.max()) >= abs(response.min()), tr(
        "positive on a dark-to-bright edge", "răspuns pozitiv pe o muchie de la întunecat la luminos")
    assert np.allclose(correlate2d(np.full((12, 12), 123.0), kernel), 0, atol=1e-6), tr(
        "0 on a flat area", "0 pe o zonă uniformă")
    assert np.abs(correlate2d(dark_above.T, kernel)).max() <= 0.1 * response.max(), tr(
        "almost blind to vertical edges", "aproape insensibil la muchiile verticale")
    if not hidden:
        return
    strongest_rows = np.flatnonzero(np.abs(response).max(axis=1) >= 0.5 * response.max())
    assert set(strongest_rows) <= {3, 4, 5}, tr(
        "the response sits on the edge, not elsewhere", "răspunsul stă pe muchie, nu în altă parte")
    assert correlate2d(dark_above[::-1], kernel).min() < -0.5 * response.max(), tr(
        "negative on a bright-to-dark edge", "răspuns negativ pe o muchie de la luminos la întunecat")
    assert np.allclose(correlate2d(np.full((9, 9), 7.0), kernel), 0, atol=1e-6), tr(
        "0 on another flat area", "0 pe o altă zonă uniformă")
    bar = np.full((20, 30), 220.0)
    bar[8:12, 5:25] = 30.0                                    # a dark horizontal bar: an eyebrow or a closed mouth
    bar_map = correlate2d(bar, kernel)
    assert bar_map[5:8].min() < -0.5 * response.max() * (190 / 160), tr(
        "the top edge of the bar is bright-to-dark: negative",
        "marginea de sus a barei trece de la luminos la întunecat: răspuns negativ")
    assert bar_map[9:12].max() > 0.5 * response.max() * (190 / 160), tr(
        "the bottom edge of the bar is dark-to-bright: positive",
        "marginea de jos a barei trece de la întunecat la luminos: răspuns pozitiv")
    assert np.abs(bar_map[8]).max() <= 0.15 * np.abs(bar_map).max(), tr(
        "the vertical ends of the bar give little", "capetele verticale ale barei dau un răspuns mic")
    assert np.abs(correlate2d(dark_above.T[::-1], kernel)).max() <= 0.1 * response.max()
