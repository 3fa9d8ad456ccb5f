"""utils.layers.convolution equals Keras's Conv2D, tf.nn.conv2d and cv2.filter2D; bad inputs get clear errors."""

import itertools

import cv2
import numpy as np
import pytest

import utils  # noqa: F401  (quiet TensorFlow before it is imported)
from utils.errors import CourseError
from utils.layers.convolution import (
    KERNELS,
    ConvolutionError,
    conv2d,
    conv2d_loops,
    conv_output_size,
    conv_params,
    conv_step,
    convolve2d,
    correlate2d,
    correlate_patch,
    pad_amounts,
    pad_input,
)

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

TOLERANCE = dict(rtol=1e-5, atol=1e-5)

# every combination the lesson promises: stride 1/2, padding valid/same, 1 and 3 input
# channels, one and several filters, two kernel sizes; odd x even input sizes so that
# stride-2 'same' padding is asymmetric along one axis and symmetric along the other
COMBINATIONS = list(itertools.product([1, 2], ["valid", "same"], [1, 3], [1, 4], [3, 5]))
IDS = [f"s{s}-{p}-cin{ci}-cout{co}-k{k}" for s, p, ci, co, k in COMBINATIONS]


def _random_case(seed, c_in, c_out, k, batch=2, height=11, width=12):
    rng = np.random.default_rng(seed)
    inputs = rng.random((batch, height, width, c_in), dtype=np.float32)
    kernels = rng.standard_normal((k, k, c_in, c_out)).astype(np.float32)
    bias = rng.standard_normal(c_out).astype(np.float32)
    return inputs, kernels, bias


def _keras_conv(inputs, kernels, bias, stride, padding):
    layer = keras.layers.Conv2D(kernels.shape[3], kernels.shape[:2], strides=stride, padding=padding)
    layer.build(inputs.shape)
    layer.set_weights([kernels, bias])
    return np.asarray(layer(inputs))


@pytest.mark.parametrize("stride,padding,c_in,c_out,k", COMBINATIONS, ids=IDS)
def test_conv2d_equals_keras_conv2d(stride, padding, c_in, c_out, k):
    inputs, kernels, bias = _random_case(stride * 100 + c_in * 10 + c_out + k, c_in, c_out, k)
    expected = _keras_conv(inputs, kernels, bias, stride, padding)
    result = conv2d(inputs, kernels, bias, stride=stride, padding=padding)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, **TOLERANCE)


@pytest.mark.parametrize("stride,padding,c_in,c_out,k", COMBINATIONS, ids=IDS)
def test_conv2d_loops_equals_keras_conv2d(stride, padding, c_in, c_out, k):
    inputs, kernels, bias = _random_case(stride + c_in + c_out + k, c_in, c_out, k, batch=1, height=9, width=8)
    expected = _keras_conv(inputs, kernels, bias, stride, padding)
    result = conv2d_loops(inputs, kernels, bias, stride=stride, padding=padding)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, **TOLERANCE)


@pytest.mark.parametrize("stride,padding,c_in,c_out,k", COMBINATIONS, ids=IDS)
def test_conv2d_equals_tf_nn_conv2d_without_bias(stride, padding, c_in, c_out, k):
    inputs, kernels, _ = _random_case(7 + k * c_out, c_in, c_out, k, batch=3, height=16, width=13)
    expected = tf.nn.conv2d(inputs, kernels, strides=stride, padding=padding.upper()).numpy()
    np.testing.assert_allclose(conv2d(inputs, kernels, stride=stride, padding=padding), expected, **TOLERANCE)


@pytest.mark.parametrize("pad,stride", [(1, 1), (2, 1), (1, 2), (3, 2)])
def test_explicit_int_padding_equals_tf_explicit_padding(pad, stride):
    inputs, kernels, _ = _random_case(pad * 10 + stride, 3, 4, 3)
    expected = tf.nn.conv2d(inputs, kernels, strides=stride, padding=[[0, 0], [pad, pad], [pad, pad], [0, 0]]).numpy()
    np.testing.assert_allclose(conv2d(inputs, kernels, stride=stride, padding=pad), expected, **TOLERANCE)
    np.testing.assert_allclose(conv2d_loops(inputs[:1], kernels, stride=stride, padding=pad), expected[:1], **TOLERANCE)


@pytest.mark.parametrize("c_in,c_out", [(2, 3), (3, 4)])  # both strategies: shifted sums (C_in*C_out <= 8) and im2col
def test_rectangular_strides_and_kernels_equal_tf(c_in, c_out):
    inputs, _, _ = _random_case(3, c_in, c_out, 3, height=15, width=14)
    kernels = np.random.default_rng(4).standard_normal((3, 5, c_in, c_out)).astype(np.float32)
    expected = tf.nn.conv2d(inputs, kernels, strides=(1, 2), padding="SAME").numpy()
    np.testing.assert_allclose(conv2d(inputs, kernels, stride=(1, 2), padding="same"), expected, **TOLERANCE)


@pytest.mark.parametrize("c_in,c_out", [(1, 1), (1, 8), (1, 16), (8, 1), (8, 16), (32, 32)])
def test_both_strategies_equal_tf_for_wider_layers(c_in, c_out):
    inputs, kernels, bias = _random_case(c_in * c_out, c_in, c_out, 3, batch=4, height=20, width=20)
    expected = tf.nn.conv2d(inputs, kernels, strides=2, padding="SAME").numpy() + bias
    np.testing.assert_allclose(conv2d(inputs, kernels, bias, stride=2, padding="same"), expected, rtol=1e-5, atol=5e-5)


def test_a_single_image_gives_a_single_feature_stack():
    inputs, kernels, bias = _random_case(1, 3, 4, 3, batch=1)
    single = conv2d(inputs[0], kernels, bias, padding="same")
    assert single.shape == (11, 12, 4)
    np.testing.assert_allclose(single, conv2d(inputs, kernels, bias, padding="same")[0])
    assert conv2d_loops(inputs[0], kernels, bias).shape == (9, 10, 4)


def test_result_dtype_follows_keras_float32_unless_given_float64():
    image = np.random.default_rng(0).integers(0, 256, (10, 10, 1), dtype=np.uint8)
    assert conv2d(image, KERNELS["sobel_x"][:, :, None, None]).dtype == np.float32
    assert conv2d(image.astype(np.float64), KERNELS["sobel_x"][:, :, None, None]).dtype == np.float64
    assert conv2d_loops(image, KERNELS["sobel_x"][:, :, None, None]).dtype == np.float32


def test_same_padding_is_split_like_tensorflow():
    assert pad_amounts(48, 3, 1, "same") == (1, 1)
    assert pad_amounts(48, 3, 2, "same") == (0, 1)  # the extra zero goes at the bottom / right
    assert pad_amounts(47, 3, 2, "same") == (1, 1)
    assert pad_amounts(10, 5, 2, "same") == (1, 2)
    assert pad_amounts(10, 5, 1, "valid") == (0, 0)
    assert pad_amounts(10, 5, 1, 2) == (2, 2)
    padded = pad_input(np.ones((48, 48, 1)), 3, stride=2, padding="same")
    assert padded.shape == (49, 49, 1) and padded[0, 0, 0] == 1 and padded[-1, -1, 0] == 0


# --------------------------------------------------------------------------- cv2 and true convolution


@pytest.mark.parametrize("name", [n for n in KERNELS])
def test_correlate2d_equals_cv2_filter2d_with_zero_border(name):
    image = np.random.default_rng(len(name)).integers(0, 256, (37, 41)).astype(np.float32)
    kernel = KERNELS[name]
    expected = cv2.filter2D(image, cv2.CV_32F, kernel, borderType=cv2.BORDER_CONSTANT)
    np.testing.assert_allclose(correlate2d(image, kernel, padding="same"), expected, rtol=1e-5, atol=1e-3)


def test_convolve2d_flips_the_kernel_and_equals_cv2_with_a_flipped_kernel():
    rng = np.random.default_rng(5)
    image = rng.random((20, 23)).astype(np.float32)
    kernel = rng.standard_normal((3, 3)).astype(np.float32)
    expected = cv2.filter2D(image, cv2.CV_32F, cv2.flip(kernel, -1), borderType=cv2.BORDER_CONSTANT)
    np.testing.assert_allclose(convolve2d(image, kernel, padding="same"), expected, **TOLERANCE)
    assert not np.allclose(convolve2d(image, kernel, padding="same"), correlate2d(image, kernel, padding="same"))


def test_an_impulse_shows_the_difference_between_correlation_and_convolution():
    impulse = np.zeros((5, 5), dtype=np.float32)
    impulse[2, 2] = 1
    kernel = np.arange(1, 10, dtype=np.float32).reshape(3, 3)
    # convolution copies the kernel onto the impulse; correlation copies it rotated by 180 degrees
    np.testing.assert_array_equal(convolve2d(impulse, kernel, padding="same")[1:4, 1:4], kernel)
    np.testing.assert_array_equal(correlate2d(impulse, kernel, padding="same")[1:4, 1:4], kernel[::-1, ::-1])
    # symmetric kernels give the same result both ways
    np.testing.assert_array_equal(convolve2d(impulse, KERNELS["gaussian"]), correlate2d(impulse, KERNELS["gaussian"]))


# --------------------------------------------------------------------------- one cell, sizes, parameters


def test_every_output_cell_is_the_sum_of_its_patch_times_the_kernel():
    rng = np.random.default_rng(9)
    image = rng.integers(0, 10, (7, 8)).astype(np.float32)
    kernel = rng.integers(-2, 3, (3, 3)).astype(np.float32)
    for stride, padding in itertools.product([1, 2], ["valid", "same"]):
        fmap = correlate2d(image, kernel, stride, padding)
        for row, col in np.ndindex(fmap.shape):
            step = conv_step(image, kernel, row, col, stride, padding, bias=0.5)
            assert step.patch.shape == kernel.shape
            np.testing.assert_array_equal(step.products, step.patch * kernel)
            assert step.value == pytest.approx(fmap[row, col] + 0.5)
            assert correlate_patch(step.patch, kernel, 0.5) == pytest.approx(step.value)
    assert correlate_patch(np.ones((3, 3)), np.full((3, 3), 2.0), bias=1) == 19.0


@pytest.mark.parametrize("size,kernel,stride,padding", [
    (48, 3, 1, "valid"), (48, 3, 1, "same"), (48, 5, 2, "valid"), (48, 3, 2, "same"),
    (47, 3, 2, "same"), (47, 5, 2, "valid"), (24, 3, 1, 1), (23, 5, 2, 2), (12, 7, 3, "same"),
])
def test_output_size_formula_matches_keras(size, kernel, stride, padding):
    inputs = keras.Input((size, size + 1, 1))
    x = keras.layers.ZeroPadding2D(padding)(inputs) if isinstance(padding, int) else inputs
    x = keras.layers.Conv2D(2, kernel, strides=stride, padding="valid" if isinstance(padding, int) else padding)(x)
    assert x.shape[1] == conv_output_size(size, kernel, stride, padding)
    assert x.shape[2] == conv_output_size(size + 1, kernel, stride, padding)


def test_output_size_formula_by_hand():
    assert conv_output_size(48, 3) == 46
    assert conv_output_size(48, 3, padding="same") == 48
    assert conv_output_size(48, 3, 2, 1) == 24          # (48 - 3 + 2) // 2 + 1
    assert conv_output_size(5, 5) == 1


@pytest.mark.parametrize("kernel,c_in,c_out,bias", [(3, 1, 32, True), (3, 32, 64, True), (5, 3, 8, False), (1, 64, 16, True)])
def test_parameter_count_matches_keras(kernel, c_in, c_out, bias):
    layer = keras.layers.Conv2D(c_out, kernel, use_bias=bias)
    layer.build((None, 20, 20, c_in))
    assert conv_params(kernel, c_in, c_out, bias) == layer.count_params()
    assert conv_params(3, 1, 32) == (3 * 3 * 1 + 1) * 32 == 320


def test_a_small_model_summary_matches_the_formulas():
    model = keras.Sequential([
        keras.Input((48, 48, 1)),
        keras.layers.Conv2D(32, 3, padding="same"),
        keras.layers.Conv2D(64, 3, strides=2),
        keras.layers.Conv2D(16, 5, strides=2, padding="same"),
    ])
    size, c_in = 48, 1
    for layer in model.layers:
        config = layer.get_config()
        k, s, c_out = config["kernel_size"][0], config["strides"][0], config["filters"]
        size = conv_output_size(size, k, s, config["padding"])
        assert layer.output.shape[1:] == (size, size, c_out)
        assert layer.count_params() == conv_params(k, c_in, c_out)
        c_in = c_out


# --------------------------------------------------------------------------- kernels


def test_classic_kernels_have_their_defining_properties():
    image = np.random.default_rng(2).integers(0, 256, (30, 30)).astype(np.float32)
    np.testing.assert_array_equal(correlate2d(image, KERNELS["identity"]), image[1:-1, 1:-1])
    for name in ("box_blur", "gaussian", "box_blur_5x5", "gaussian_5x5", "sharpen"):
        assert KERNELS[name].sum() == pytest.approx(1.0), name      # keep the brightness
    for name in ("sobel_x", "sobel_y", "laplacian"):
        assert KERNELS[name].sum() == 0, name                        # no response on flat areas
    np.testing.assert_array_equal(KERNELS["sobel_y"], KERNELS["sobel_x"].T)
    assert all(k.dtype == np.float32 and k.shape[0] == k.shape[1] for k in KERNELS.values())


def test_sobel_y_responds_to_horizontal_edges_and_sobel_x_to_vertical_ones():
    horizontal = np.zeros((10, 10), np.float32)
    horizontal[5:] = 1  # dark above, bright below
    assert correlate2d(horizontal, KERNELS["sobel_y"]).max() == 4
    assert np.abs(correlate2d(horizontal, KERNELS["sobel_x"])).max() == 0
    np.testing.assert_array_equal(correlate2d(horizontal.T, KERNELS["sobel_x"]), correlate2d(horizontal, KERNELS["sobel_y"]).T)


# --------------------------------------------------------------------------- bad inputs


def _error(call) -> str:
    with pytest.raises(ConvolutionError) as info:
        call()
    return str(info.value)


def test_kernel_larger_than_the_image_is_a_clear_error():
    message = _error(lambda: conv2d(np.zeros((4, 4, 1)), np.zeros((5, 5, 1, 1))))
    assert "larger than the input" in message and "padding='same'" in message
    assert "larger than the input" in _error(lambda: conv2d_loops(np.zeros((4, 8, 1)), np.zeros((5, 5, 1, 1))))
    assert "does not fit" in _error(lambda: conv_output_size(4, 5))
    assert "larger than the input" in _error(lambda: correlate2d(np.zeros((2, 2)), np.zeros((3, 3))))


def test_even_kernel_with_same_padding_is_a_clear_error():
    message = _error(lambda: conv2d(np.zeros((8, 8, 1)), np.zeros((4, 4, 1, 1)), padding="same"))
    assert "odd kernel" in message and "4" in message
    assert conv2d(np.zeros((8, 8, 1)), np.zeros((4, 4, 1, 1)), padding="valid").shape == (5, 5, 1)


@pytest.mark.parametrize("shape,hint", [((8, 8), "channel axis"), ((8,), "(H, W, C_in)"), ((1, 1, 8, 8, 1), "(N, H, W, C_in)")])
def test_inputs_with_the_wrong_number_of_dimensions_are_a_clear_error(shape, hint):
    assert hint in _error(lambda: conv2d(np.zeros(shape), np.zeros((3, 3, 1, 1))))
    assert hint in _error(lambda: conv2d_loops(np.zeros(shape), np.zeros((3, 3, 1, 1))))


def test_other_bad_arguments_are_clear_errors():
    image = np.zeros((8, 8, 3))
    assert "(K, K, C_in, C_out)" in _error(lambda: conv2d(image, np.zeros((3, 3))))
    assert "input channels" in _error(lambda: conv2d(image, np.zeros((3, 3, 1, 4))))
    assert "one value per filter" in _error(lambda: conv2d(image, np.zeros((3, 3, 3, 4)), bias=np.zeros(3)))
    assert "padding must be" in _error(lambda: conv2d(image, np.zeros((3, 3, 3, 4)), padding="full"))
    assert "padding must be" in _error(lambda: conv2d(image, np.zeros((3, 3, 3, 4)), padding=-1))
    assert "stride must be" in _error(lambda: conv2d(image, np.zeros((3, 3, 3, 4)), stride=0))
    assert "numeric" in _error(lambda: conv2d(np.full((8, 8, 1), "a"), np.zeros((3, 3, 1, 1))))
    assert "same shape" in _error(lambda: correlate_patch(np.zeros((3, 3)), np.zeros((2, 2))))
    assert "2D grayscale" in _error(lambda: correlate2d(np.zeros((8, 8, 3)), np.zeros((3, 3))))
    assert "outside" in _error(lambda: conv_step(np.zeros((5, 5)), np.zeros((3, 3)), 3, 0))
    assert "kernel must be" in _error(lambda: conv_params(0, 1, 1))
    assert issubclass(ConvolutionError, ValueError), "callers may catch ValueError"
    assert issubclass(ConvolutionError, CourseError), "the command lines catch CourseError"


def test_inputs_are_not_modified():
    inputs, kernels, bias = _random_case(0, 3, 2, 3)
    copies = [a.copy() for a in (inputs, kernels, bias)]
    conv2d(inputs, kernels, bias, stride=2, padding="same")
    conv2d_loops(inputs[:1], kernels, bias, padding="same")
    for original, copy in zip((inputs, kernels, bias), copies):
        np.testing.assert_array_equal(original, copy)
