"""Lessons 01 and 02's exercise checks: every correct form passes (lists, tuples, loops, other orders of the
steps), and the classic wrong answers fail, with a message in the course language."""

import ast
import inspect
import math
import re

import cv2
import numpy as np
import pytest
from lesson_files import LESSONS_DIR, read

from utils import convolution_exercises as conv_ex
from utils import images_exercises as img_ex
from utils.i18n import get_language, set_language


def passes(check, student):
    check(student, hidden=False)
    check(student, hidden=True)


def fails(check, student):
    with pytest.raises((AssertionError, AttributeError, TypeError, ValueError, IndexError)):
        check(student, hidden=True)


# =========================================================================== lesson 01

# --- exercise 1: BGR to RGB, a copy

def rgb_stack(image):
    return np.stack([image[..., 2], image[..., 1], image[..., 0]], axis=-1)


def rgb_copy_of_view(image):
    return image[..., ::-1].copy()


def rgb_fancy_index(image):
    return image[:, :, [2, 1, 0]]


def rgb_contiguous(image):
    return np.ascontiguousarray(np.flip(image, axis=-1))


def rgb_view(image):                       # wrong: a view, shares memory
    return image[..., ::-1]


def rgb_unchanged(image):                  # wrong: no swap
    return image.copy()


def rgb_wrong_order(image):                # wrong: G and B swapped
    return image[:, :, [2, 0, 1]]


@pytest.mark.parametrize("student", [rgb_stack, rgb_copy_of_view, rgb_fancy_index, rgb_contiguous])
def test_bgr_to_rgb_correct_forms_pass(student):
    passes(img_ex.check_bgr_to_rgb_copy, student)


@pytest.mark.parametrize("student", [rgb_view, rgb_unchanged, rgb_wrong_order])
def test_bgr_to_rgb_wrong_forms_fail(student):
    fails(img_ex.check_bgr_to_rgb_copy, student)


# --- exercise 2: grayscale by the formula

def gray_float64(image):
    f = image.astype(np.float64)
    return np.round(0.114 * f[..., 0] + 0.587 * f[..., 1] + 0.299 * f[..., 2]).astype(np.uint8)


def gray_dot_float32(image):
    return np.rint(image.astype(np.float32) @ np.array([0.114, 0.587, 0.299], np.float32)).astype(np.uint8)


def gray_reversed_weights(image):
    return np.round((image[..., ::-1] * np.array([0.299, 0.587, 0.114])).sum(axis=-1)).astype(np.uint8)


def gray_truncated(image):                 # wrong: int truncation
    f = image.astype(np.float64)
    return (0.114 * f[..., 0] + 0.587 * f[..., 1] + 0.299 * f[..., 2]).astype(np.uint8)


def gray_rgb_weights_on_bgr(image):        # wrong: R weight on the blue channel
    f = image.astype(np.float64)
    return np.round(0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]).astype(np.uint8)


def gray_mean(image):                      # wrong: plain mean
    return image.mean(axis=2).round().astype(np.uint8)


@pytest.mark.parametrize("student", [gray_float64, gray_dot_float32, gray_reversed_weights])
def test_gray_correct_forms_pass(student):
    passes(img_ex.check_gray_by_formula, student)


@pytest.mark.parametrize("student", [gray_truncated, gray_rgb_weights_on_bgr, gray_mean])
def test_gray_wrong_forms_fail(student):
    fails(img_ex.check_gray_by_formula, student)


# --- exercise 3: crop a box safely

def crop_round(image, box, margin):
    x, y, w, h = box
    height, width = image.shape[:2]
    dx, dy = round(w * margin), round(h * margin)
    return image[max(0, y - dy):min(height, y + h + dy), max(0, x - dx):min(width, x + w + dx)]


def crop_np_round_clip(image, box, margin):
    x, y, w, h = (int(v) for v in box)
    dx, dy = int(np.round(w * margin)), int(np.round(h * margin))
    top, bottom = np.clip([y - dy, y + h + dy], 0, image.shape[0])
    left, right = np.clip([x - dx, x + w + dx], 0, image.shape[1])
    return image[top:bottom, left:right]


def crop_half_up(image, box, margin):      # floor(x + 0.5): the same as round away from exact ties
    x, y, w, h = box
    dx, dy = math.floor(w * margin + 0.5), math.floor(h * margin + 0.5)
    return image[max(0, y - dy):y + h + dy, max(0, x - dx):x + w + dx]   # numpy clips the ends itself


def crop_int_truncation(image, box, margin):   # wrong: int() instead of round
    x, y, w, h = box
    dx, dy = int(w * margin), int(h * margin)
    return image[max(0, y - dy):y + h + dy, max(0, x - dx):x + w + dx]


def crop_no_clamp(image, box, margin):     # wrong: negative starts wrap around
    x, y, w, h = box
    dx, dy = round(w * margin), round(h * margin)
    return image[y - dy:y + h + dy, x - dx:x + w + dx]


def crop_w_for_both(image, box, margin):   # wrong: the vertical margin from w
    x, y, w, h = box
    d = round(w * margin)
    return image[max(0, y - d):y + h + d, max(0, x - d):x + w + d]


@pytest.mark.parametrize("student", [crop_round, crop_np_round_clip, crop_half_up])
def test_crop_correct_forms_pass(student):
    passes(img_ex.check_crop_box_safely, student)


@pytest.mark.parametrize("student", [crop_int_truncation, crop_no_clamp, crop_w_for_both])
def test_crop_wrong_forms_fail(student):
    fails(img_ex.check_crop_box_safely, student)


# --- exercise 4: a face as the network's input

def face_resize_then_scale(face):
    interpolation = cv2.INTER_AREA if min(face.shape) >= 48 else cv2.INTER_LINEAR
    return (cv2.resize(face, (48, 48), interpolation=interpolation).astype(np.float32) / 255)[..., np.newaxis]


def face_scale_then_resize(face):          # float first, then resize: within half a gray level
    interpolation = cv2.INTER_AREA if face.shape[0] >= 48 and face.shape[1] >= 48 else cv2.INTER_LINEAR
    scaled = face.astype(np.float32) / 255.0
    return cv2.resize(scaled, (48, 48), interpolation=interpolation).reshape(48, 48, 1)


def face_float64_then_cast(face):
    shrinking = face.shape[0] >= 48 and face.shape[1] >= 48
    out = cv2.resize(face / 255.0, (48, 48), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return np.expand_dims(out, -1).astype(np.float32)


def face_always_area(face):                # wrong: INTER_AREA also when enlarging
    return (cv2.resize(face, (48, 48), interpolation=cv2.INTER_AREA).astype(np.float32) / 255)[..., None]


def face_always_linear(face):              # wrong: INTER_LINEAR also when shrinking (aliasing)
    return (cv2.resize(face, (48, 48), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255)[..., None]


def face_no_scaling(face):                 # wrong: values 0..255
    return face_resize_then_scale(face) * 255


def face_float64(face):                    # wrong: dtype float64
    return face_resize_then_scale(face).astype(np.float64)


def face_no_channel_axis(face):            # wrong: shape (48, 48)
    return face_resize_then_scale(face)[..., 0]


@pytest.mark.parametrize("student", [face_resize_then_scale, face_scale_then_resize, face_float64_then_cast])
def test_face_correct_forms_pass(student):
    passes(img_ex.check_normalise_face, student)


@pytest.mark.parametrize("student", [face_always_area, face_always_linear, face_no_scaling, face_float64,
                                     face_no_channel_axis])
def test_face_wrong_forms_fail(student):
    fails(img_ex.check_normalise_face, student)


def test_face_tolerance_is_one_gray_level_and_the_reference_passes():
    from utils import images
    assert img_ex.FACE_TOLERANCE == pytest.approx(1 / 255)
    passes(img_ex.check_normalise_face, images.preprocess_face)


# --- exercise 5: the majority baseline, train -> test

def majority_bincount(train_labels, test_labels):
    majority = np.bincount(np.asarray(train_labels)).argmax()
    return float((np.asarray(test_labels) == majority).mean())


def majority_pure_python(train_labels, test_labels):
    from collections import Counter
    majority = Counter(list(train_labels)).most_common(1)[0][0]
    test = list(test_labels)
    return sum(1 for label in test if label == majority) / len(test)


def majority_numpy_unique(train_labels, test_labels):
    values, counts = np.unique(train_labels, return_counts=True)
    return np.mean(np.asarray(test_labels) == values[counts.argmax()])   # a numpy float64


def majority_of_test(train_labels, test_labels):       # wrong: the majority of the labels being scored
    return majority_bincount(test_labels, test_labels)


def majority_on_train(train_labels, test_labels):      # wrong: scored on the training labels
    return majority_bincount(train_labels, train_labels)


def majority_of_everything(train_labels, test_labels):  # wrong: majority of train + test
    both = np.concatenate([np.asarray(train_labels), np.asarray(test_labels)])
    return majority_bincount(both, test_labels)


def majority_needs_arrays(train_labels, test_labels):  # wrong for the statement: lists are allowed
    counts = np.bincount(train_labels)
    return float((test_labels == counts.argmax()).sum() / test_labels.size)


@pytest.mark.parametrize("student", [majority_bincount, majority_pure_python, majority_numpy_unique])
def test_majority_correct_forms_pass(student):
    passes(img_ex.check_majority_baseline, student)


@pytest.mark.parametrize("student", [majority_of_test, majority_on_train, majority_of_everything,
                                     majority_needs_arrays])
def test_majority_wrong_forms_fail(student):
    fails(img_ex.check_majority_baseline, student)


# =========================================================================== lesson 02

# --- exercise 1: one output cell

def cell_sum(patch, kernel, bias=0.0):
    patch, kernel = np.asarray(patch, dtype=float), np.asarray(kernel, dtype=float)
    if patch.shape != kernel.shape:
        raise ValueError(f"shapes differ: {patch.shape} vs {kernel.shape}")
    return float((patch * kernel).sum() + bias)


def cell_dot(patch, kernel, bias=0.0):
    if np.shape(patch) != np.shape(kernel):
        raise ValueError("patch is {}x{}, kernel another size".format(*np.shape(patch)[:2]))
    return float(np.dot(np.ravel(patch), np.ravel(kernel))) + bias


def cell_loops(patch, kernel, bias=0.0):
    p, k = np.asarray(patch), np.asarray(kernel)
    if p.shape != k.shape:
        raise ValueError("different shapes")
    total = float(bias)
    for index in np.ndindex(p.shape):
        total += float(p[index]) * float(k[index])
    return total


def cell_flipped(patch, kernel, bias=0.0):            # wrong: true convolution
    return cell_sum(patch, np.flip(kernel), bias)


def cell_no_bias(patch, kernel, bias=0.0):            # wrong: forgets the bias
    return cell_sum(patch, kernel)


def cell_no_check(patch, kernel, bias=0.0):           # wrong: broadcasting hides the mismatch
    return float((np.asarray(patch, float)[:np.shape(kernel)[0], :np.shape(kernel)[1]] * kernel).sum() + bias)


def cell_array(patch, kernel, bias=0.0):              # wrong: returns an array, not a float
    return np.array([cell_sum(patch, kernel, bias)])


@pytest.mark.parametrize("student", [cell_sum, cell_dot, cell_loops])
def test_output_cell_correct_forms_pass(student):
    passes(conv_ex.check_output_cell, student)


@pytest.mark.parametrize("student", [cell_flipped, cell_no_bias, cell_no_check, cell_array])
def test_output_cell_wrong_forms_fail(student):
    fails(conv_ex.check_output_cell, student)


# --- exercise 2: the full 2D convolution

def conv_loops(image, kernel, stride=1):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    oh, ow = (image.shape[0] - kh) // stride + 1, (image.shape[1] - kw) // stride + 1
    return np.array([[(image[i * stride:i * stride + kh, j * stride:j * stride + kw] * kernel).sum()
                      for j in range(ow)] for i in range(oh)])


def conv_windows(image, kernel, stride=1):
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(image, float), np.shape(kernel))
    return np.einsum("ijuv,uv->ij", windows[::stride, ::stride], kernel)


def conv_flipped(image, kernel, stride=1):            # wrong: flips the kernel
    return conv_loops(image, np.flip(kernel), stride)


def conv_stride_after(image, kernel, stride=1):       # wrong: output size ignores the stride's floor
    full = conv_loops(image, kernel)
    return full[::stride, ::stride][: full.shape[0] // stride, : full.shape[1] // stride]


def conv_in_place(image, kernel, stride=1):           # wrong: modifies the input
    out = conv_loops(image, kernel, stride)
    image[...] = 0
    return out


@pytest.mark.parametrize("student", [conv_loops, conv_windows])
def test_conv2d_valid_correct_forms_pass(student):
    passes(conv_ex.check_conv2d_valid, student)


@pytest.mark.parametrize("student", [conv_flipped, conv_stride_after, conv_in_place])
def test_conv2d_valid_wrong_forms_fail(student):
    fails(conv_ex.check_conv2d_valid, student)


# --- exercise 3: the output size

def size_if(size, kernel, stride=1, padding=0):
    if padding == "same":
        return -(-size // stride)
    if padding == "valid":
        padding = 0
    return (size - kernel + 2 * padding) // stride + 1


def size_math(size, kernel, stride=1, padding=0):
    if isinstance(padding, str):
        return math.ceil(size / stride) if padding == "same" else math.floor((size - kernel) / stride) + 1
    return int(np.floor((size - kernel + 2 * padding) / stride)) + 1


def size_true_division(size, kernel, stride=1, padding=0):    # wrong: a float
    padding = {"valid": 0, "same": (kernel - 1) // 2}.get(padding, padding)
    return (size - kernel + 2 * padding) / stride + 1


def size_rounded(size, kernel, stride=1, padding=0):          # wrong: round instead of floor
    if padding == "same":
        return math.ceil(size / stride)
    padding = 0 if padding == "valid" else padding
    return round((size - kernel + 2 * padding) / stride) + 1


def size_same_is_size(size, kernel, stride=1, padding=0):     # wrong: 'same' ignores the stride
    if padding == "same":
        return size
    return size_if(size, kernel, stride, padding)


def size_one_side(size, kernel, stride=1, padding=0):         # wrong: padding on one side only
    if isinstance(padding, str):
        return size_if(size, kernel, stride, padding)
    return (size - kernel + padding) // stride + 1


@pytest.mark.parametrize("student", [size_if, size_math])
def test_output_size_correct_forms_pass(student):
    passes(conv_ex.check_output_size, student)


@pytest.mark.parametrize("student", [size_true_division, size_rounded, size_same_is_size, size_one_side])
def test_output_size_wrong_forms_fail(student):
    fails(conv_ex.check_output_size, student)


def test_output_size_reference_matches_the_library():
    from utils.layers.convolution import conv_output_size
    for size in (5, 7, 24, 47, 48):
        for kernel in (1, 3, 5):
            for stride in (1, 2, 3):
                for pad in (0, 1, 2, "valid", "same"):
                    assert conv_ex.output_size_reference(size, kernel, stride, pad) == conv_output_size(size, kernel, stride, pad)


# --- exercise 4: a conv layer's output shape and parameters

def summary_direct(input_shape, filters, kernel_size, stride=1, padding="valid", use_bias=True):
    h, w, c = input_shape
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    def out(n, k):
        if padding == "same":
            return math.ceil(n / stride)
        p = 0 if padding == "valid" else padding
        return (n - k + 2 * p) // stride + 1
    return (out(h, kh), out(w, kw), filters), (kh * kw * c + int(use_bias)) * filters


def summary_lists(input_shape, filters, kernel_size, stride=1, padding="valid", use_bias=True):
    from utils.layers.convolution import conv_output_size
    kh, kw = np.broadcast_to(kernel_size, 2).tolist()
    shape = [conv_output_size(input_shape[0], kh, stride, padding), conv_output_size(input_shape[1], kw, stride, padding),
             filters]
    weights = kh * kw * input_shape[2] * filters
    return [shape, weights + (filters if use_bias else 0)]


def summary_numpy(input_shape, filters, kernel_size, stride=1, padding="valid", use_bias=True):
    shape, params = summary_direct(input_shape, filters, kernel_size, stride, padding, use_bias)
    return np.array(shape), np.int64(params)


def summary_ignores_channels(input_shape, filters, kernel_size, stride=1, padding="valid", use_bias=True):
    shape, _ = summary_direct(input_shape, filters, kernel_size, stride, padding, use_bias)
    kh, kw = np.broadcast_to(kernel_size, 2).tolist()
    return shape, (kh * kw + int(use_bias)) * filters


def summary_one_bias(input_shape, filters, kernel_size, stride=1, padding="valid", use_bias=True):
    shape, _ = summary_direct(input_shape, filters, kernel_size, stride, padding, use_bias)
    kh, kw = np.broadcast_to(kernel_size, 2).tolist()
    return shape, kh * kw * input_shape[2] * filters + int(use_bias)


def summary_channels_kept(input_shape, filters, kernel_size, stride=1, padding="valid", use_bias=True):
    (h, w, _), params = summary_direct(input_shape, filters, kernel_size, stride, padding, use_bias)
    return (h, w, input_shape[2]), params


def summary_counts_positions(input_shape, filters, kernel_size, stride=1, padding="valid", use_bias=True):
    (h, w, f), params = summary_direct(input_shape, filters, kernel_size, stride, padding, use_bias)
    return (h, w, f), params * h * w                  # like a locally connected layer: no weight sharing


def summary_padding_counts(input_shape, filters, kernel_size, stride=1, padding="valid", use_bias=True):
    shape, _ = summary_direct(input_shape, filters, kernel_size, stride, padding, use_bias)
    kh, kw = np.broadcast_to(kernel_size, 2).tolist()
    p = 1 if padding == "same" else (0 if padding == "valid" else padding)
    return shape, ((kh + 2 * p) * (kw + 2 * p) * input_shape[2] + int(use_bias)) * filters


def summary_square_only(input_shape, filters, kernel_size, stride=1, padding="valid", use_bias=True):
    k = np.ravel(kernel_size)[0]
    return summary_direct(input_shape, filters, int(k), stride, padding, use_bias)


@pytest.mark.parametrize("student", [summary_direct, summary_lists, summary_numpy])
def test_conv_layer_summary_correct_forms_pass(student):
    passes(conv_ex.check_conv_layer_summary, student)


@pytest.mark.parametrize("student", [summary_ignores_channels, summary_one_bias, summary_channels_kept,
                                     summary_counts_positions, summary_padding_counts, summary_square_only])
def test_conv_layer_summary_wrong_forms_fail(student):
    fails(conv_ex.check_conv_layer_summary, student)


def test_conv_layer_reference_matches_keras():
    import keras
    for input_shape, filters, kernel_size, stride, padding, use_bias in [
            ((48, 48, 1), 32, 3, 1, "same", True), ((24, 24, 32), 64, 3, 2, "valid", True),
            ((48, 48, 3), 8, 5, 1, "valid", False), ((7, 9, 5), 4, (3, 5), 1, "same", True), ((12, 12, 64), 128, 3, 2, "same", True)]:
        layer = keras.layers.Conv2D(filters, kernel_size, strides=stride, padding=padding, use_bias=use_bias)
        output = layer(keras.Input(shape=input_shape))
        shape, parameters = conv_ex.conv_layer_reference(input_shape, filters, kernel_size, stride, padding, use_bias)
        assert shape == tuple(output.shape[1:]) and parameters == layer.count_params()


# --- exercise 5: a horizontal-edge detector

@pytest.mark.parametrize("kernel", [
    [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],            # Sobel y
    [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],            # Prewitt
    [[0, 0, 0], [0, -1, 0], [0, 1, 0]],              # two taps
    [[-3, -10, -3], [0, 0, 0], [3, 10, 3]],          # Scharr
])
def test_edge_kernel_correct_designs_pass(kernel):
    passes(conv_ex.check_horizontal_edge_kernel, lambda: kernel)


@pytest.mark.parametrize("kernel", [
    [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],            # the wrong sign
    [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],            # vertical edges
    [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]],            # diagonal
    [[-1, -2, -1], [1, 1, 1], [1, 2, 1]],            # does not sum to 0
])
def test_edge_kernel_wrong_designs_fail(kernel):
    fails(conv_ex.check_horizontal_edge_kernel, lambda: kernel)


# =========================================================================== the messages' language

@pytest.fixture
def language():
    """Switch the course language inside a test; English again afterwards, even when the test fails."""
    before = get_language()
    try:
        yield set_language
    finally:
        set_language(before)


def failure_message(check, student) -> str:
    with pytest.raises(AssertionError) as failure:
        check(student, hidden=False)
    return str(failure.value)


@pytest.mark.parametrize("check, student, english, romanian", [
    (img_ex.check_bgr_to_rgb_copy, rgb_view, "return a new array, not a view of the input",
     "întoarceți un tablou nou, nu o vedere a intrării"),
    (img_ex.check_majority_baseline, majority_of_test, "expected 0.2500, got 0.7500: take the most frequent class",
     "se aștepta 0,2500, s-a obținut 0,7500: luați clasa cea mai frecventă"),
    (conv_ex.check_output_cell, cell_flipped, "the example of section 3 gives 32", "exemplul din secțiunea 3 dă 32"),
    (conv_ex.check_output_size, size_true_division, "must be an int, got 46.0", "trebuie să fie un int, s-a obținut 46.0"),
    (conv_ex.check_conv_layer_summary, summary_ignores_channels, "18496 parameters, got 640",
     "18.496 de parametri, s-a obținut 640"),
], ids=["bgr_view", "majority_of_test", "cell_flipped", "size_float", "summary_no_channels"])
def test_a_wrong_answer_is_told_in_the_course_language(language, check, student, english, romanian):
    language("ro")
    message = failure_message(check, student)
    assert romanian in message and english not in message, message
    language("en")
    message = failure_message(check, student)
    assert english in message and romanian not in message, message


def _untranslated_messages(source: str, where: str) -> list[str]:
    """Asserts and ``raise AssertionError(...)`` whose message is a plain string instead of ``tr(en, ro)``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assert):
            message = node.msg
        elif (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name)
              and node.exc.func.id == "AssertionError" and node.exc.args):
            message = node.exc.args[0]
        else:
            continue
        if isinstance(message, (ast.Constant, ast.JoinedStr)):
            found.append(f"{where}, line {node.lineno}: {ast.unparse(message)}")
    return found


@pytest.mark.parametrize("module", [img_ex, conv_ex], ids=["images_exercises", "convolution_exercises"])
def test_every_check_message_of_the_modules_goes_through_tr(module):
    assert not _untranslated_messages(inspect.getsource(module), module.__name__)


@pytest.mark.parametrize("name", ["01_images_bgr_rgb.ipynb", "02_convolution.ipynb"])
def test_every_message_of_the_graded_cells_goes_through_tr(name):
    notebook = read(LESSONS_DIR / name)
    language_cell = next(c.source for c in notebook.cells if c.cell_type == "code")
    assert re.search(r"from utils\.i18n import .*\bfmt\b", language_cell) and re.search(r"\btr\b", language_cell)
    problems = [problem for index, cell in enumerate(notebook.cells)
                if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
                for problem in _untranslated_messages(cell.source, f"{name} cell {index}")]
    assert not problems, "\n".join(problems)
