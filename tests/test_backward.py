"""utils.layers.backward equals the numerical gradient (float64, < 1e-6) and tf.GradientTape (< 1e-5),
and the gradient checker catches deliberately broken backward passes."""

import itertools

import numpy as np
import pytest

import utils  # noqa: F401  (quiet TensorFlow before it is imported)
from utils.layers import average_pool2d, conv2d, dense, dropout, flatten, max_pool2d, relu
from utils.layers.backward import (
    average_pool2d_backward,
    conv2d_backward,
    conv2d_input_gradient,
    conv2d_weight_gradient,
    dense_backward,
    dilate,
    dropout_backward,
    flatten_backward,
    max_pool2d_backward,
    relu_backward,
    softmax_cross_entropy,
    softmax_cross_entropy_backward,
)
from utils.layers.convolution import ConvolutionError
from utils.layers.gradcheck import check_gradient, numerical_gradient, relative_error

tf = pytest.importorskip("tensorflow")

NUMERIC = 1e-6   # analytic vs central differences, float64
TAPE = 1e-5      # analytic vs tf.GradientTape


def _tape(fn, *arrays):
    """Gradients of ``fn(*tensors)`` (a scalar) with respect to every array, by TensorFlow's autodiff."""
    tensors = [tf.Variable(a, dtype=tf.float64) for a in arrays]
    with tf.GradientTape() as tape:
        value = fn(*tensors)
    return [g.numpy() for g in tape.gradient(value, tensors)]


# --------------------------------------------------------------------------- convolution

CONV_CASES = list(itertools.product([1, 2], ["valid", "same"], [1, 3], [1, 4], [3, 5], [(7, 8), (9, 6)]))
CONV_IDS = [f"s{s}-{p}-cin{ci}-cout{co}-k{k}-{h}x{w}" for s, p, ci, co, k, (h, w) in CONV_CASES]


@pytest.mark.parametrize("stride,padding,c_in,c_out,k,hw", CONV_CASES, ids=CONV_IDS)
def test_conv2d_backward_equals_numerical_gradient_and_tape(stride, padding, c_in, c_out, k, hw):
    rng = np.random.default_rng(stride * 1000 + c_in * 100 + c_out * 10 + k + hw[0])
    x = rng.normal(size=(2, *hw, c_in))
    w = rng.normal(size=(k, k, c_in, c_out))
    b = rng.normal(size=c_out)
    upstream = rng.normal(size=conv2d(x, w, b, stride=stride, padding=padding).shape)
    dx, dw, db = conv2d_backward(upstream, x, w, stride, padding)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape and dx.dtype == np.float64

    def loss(xx=x, ww=w, bb=b):
        return float((conv2d(xx, ww, bb, stride=stride, padding=padding) * upstream).sum())

    assert check_gradient(lambda v: loss(xx=v), dx, x) < NUMERIC
    assert check_gradient(lambda v: loss(ww=v), dw, w) < NUMERIC
    assert check_gradient(lambda v: loss(bb=v), db, b) < NUMERIC
    tape = _tape(lambda xx, ww, bb: tf.reduce_sum(
        (tf.nn.conv2d(xx, ww, stride, padding.upper()) + bb) * upstream), x, w, b)
    for ours, theirs in zip((dx, dw, db), tape):
        assert relative_error(ours, theirs) < TAPE


def test_conv2d_backward_single_image_rectangular_stride_and_int_padding():
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=(9, 10, 2)), rng.normal(size=(3, 5, 2, 3))
    for stride, padding in (((1, 2), "same"), ((2, 1), "valid"), (2, 1)):
        upstream = rng.normal(size=conv2d(x, w, stride=stride, padding=padding).shape)
        dx, dw, _ = conv2d_backward(upstream, x, w, stride, padding)
        assert dx.shape == x.shape
        assert check_gradient(lambda v, s=stride, p=padding, u=upstream: (conv2d(v, w, stride=s, padding=p) * u).sum(), dx, x) < NUMERIC
        assert check_gradient(lambda v, s=stride, p=padding, u=upstream: (conv2d(x, v, stride=s, padding=p) * u).sum(), dw, w) < NUMERIC


def test_conv_gradients_are_lesson_02_correlation_and_convolution():
    """One channel, one filter, stride 1, 'valid': dW = correlate2d(x, g), dx = convolve2d(g padded by K-1, W)."""
    from utils.layers import convolve2d, correlate2d

    rng = np.random.default_rng(6)
    x, w = rng.normal(size=(8, 7)), rng.normal(size=(3, 3))
    g = rng.normal(size=(6, 5))
    dw = conv2d_weight_gradient(g[None, ..., None], x[None, ..., None], 3)[:, :, 0, 0]
    dx = conv2d_input_gradient(g[None, ..., None], w[:, :, None, None], (1, 8, 7, 1))[0, ..., 0]
    np.testing.assert_allclose(dw, correlate2d(x, g), atol=1e-12)                 # lesson 02: no flip
    np.testing.assert_allclose(dx, convolve2d(np.pad(g, 2), w), atol=1e-12)        # lesson 02: flipped, "full"
    assert relative_error(dx, correlate2d(np.pad(g, 2), w)) > 0.1                  # without the flip: wrong


def test_dilate_inserts_zeros_between_rows_and_columns():
    g = np.arange(1, 5, dtype=float).reshape(1, 2, 2, 1)
    np.testing.assert_array_equal(dilate(g, 2)[0, ..., 0], [[1, 0, 2], [0, 0, 0], [3, 0, 4]])
    assert dilate(g, (1, 3)).shape == (1, 2, 4, 1)


def test_conv2d_backward_float32_in_float32_out_and_skip_input_gradient():
    rng = np.random.default_rng(7)
    x, w = rng.random((2, 6, 6, 1), dtype=np.float32), rng.random((3, 3, 1, 4), dtype=np.float32)
    g = np.ones((2, 6, 6, 4), dtype=np.float32)
    dx, dw, db = conv2d_backward(g, x, w, padding="same", input_gradient=False)
    assert dx is None and dw.dtype == np.float32 and db.dtype == np.float32
    np.testing.assert_allclose(db, [72.0] * 4)  # the bias touches every one of the 2*6*6 cells


# --------------------------------------------------------------------------- pooling

POOL_CASES = [(2, None, "valid"), (3, None, "valid"), (2, 1, "valid"), (3, 2, "valid"), ((2, 3), (1, 2), "valid"),
              (2, None, "same"), (3, 2, "same"), (2, 1, "same"), ((3, 2), (2, 3), "same")]


@pytest.mark.parametrize("pool_size,strides,padding", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "average"])
def test_pooling_backward_equals_numerical_gradient_and_tape(kind, pool_size, strides, padding):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 7, 6, 3))  # distinct values: no ties
    forward, backward = ((max_pool2d, max_pool2d_backward) if kind == "max"
                         else (average_pool2d, average_pool2d_backward))
    upstream = rng.normal(size=forward(x, pool_size, strides, padding).shape)
    grad = backward(upstream, x, pool_size, strides, padding)
    assert grad.shape == x.shape
    assert check_gradient(lambda v: (forward(v, pool_size, strides, padding) * upstream).sum(), grad, x) < NUMERIC
    tf_pool = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    window = pool_size if isinstance(pool_size, tuple) else (pool_size, pool_size)
    step = window if strides is None else strides
    (expected,) = _tape(lambda t: tf.reduce_sum(tf_pool(t, window, step, padding.upper()) * upstream), x)
    assert relative_error(grad, expected) < TAPE


def test_max_pool_backward_routes_to_the_argmax_and_the_first_of_ties():
    x = np.array([[1, 3, 2, 0], [4, 2, 1, 1], [0, 0, 5, 6], [1, 2, 7, 8]], dtype=float)
    grad = max_pool2d_backward(np.array([[10, 20], [30, 40]]), x)
    np.testing.assert_array_equal(grad, [[0, 0, 20, 0], [10, 0, 0, 0], [0, 0, 0, 0], [0, 30, 0, 40]])
    ties = max_pool2d_backward(np.ones((1, 1)), np.ones((2, 2)))  # all four equal: the first one in reading order
    np.testing.assert_array_equal(ties, [[1, 0], [0, 0]])
    # overlapping windows that share a maximum add their gradients
    np.testing.assert_array_equal(max_pool2d_backward(np.ones((1, 2)), np.array([[0.0, 9.0, 0.0]]), (1, 2), 1),
                                  [[0, 2, 0]])


def test_average_pool_backward_shares_equally():
    grad = average_pool2d_backward(np.array([[4.0]]), np.zeros((2, 2)))
    np.testing.assert_array_equal(grad, np.ones((2, 2)))
    # 'same' on 3x3 with 2x2 windows: the bottom-right window holds one real value, which gets all of it
    grad = average_pool2d_backward(np.array([[0.0, 0.0], [0.0, 1.0]]), np.zeros((3, 3)), 2, None, "same")
    assert grad[2, 2] == 1.0 and grad.sum() == 1.0


# --------------------------------------------------------------------------- dense, ReLU, flatten, dropout, softmax-CE


def test_dense_backward_equals_numerical_gradient_and_tape():
    rng = np.random.default_rng(12)
    x, w, b = rng.normal(size=(5, 6)), rng.normal(size=(6, 3)), rng.normal(size=3)
    upstream = rng.normal(size=(5, 3))
    dx, dw, db = dense_backward(upstream, x, w)
    assert check_gradient(lambda v: (dense(v, w, b) * upstream).sum(), dx, x) < NUMERIC
    assert check_gradient(lambda v: (dense(x, v, b) * upstream).sum(), dw, w) < NUMERIC
    assert check_gradient(lambda v: (dense(x, w, v) * upstream).sum(), db, b) < NUMERIC
    tape = _tape(lambda xx, ww, bb: tf.reduce_sum((xx @ ww + bb) * upstream), x, w, b)
    assert max(relative_error(o, t) for o, t in zip((dx, dw, db), tape)) < TAPE
    dx1, dw1, db1 = dense_backward(upstream[0], x[0], w)  # one vector
    np.testing.assert_allclose(dw1, np.outer(x[0], upstream[0]))
    assert dx1.shape == (6,) and db1.shape == (3,)


def test_relu_backward_equals_numerical_gradient_and_tape_and_is_zero_at_zero():
    rng = np.random.default_rng(13)
    x = rng.normal(size=(3, 4, 5, 2))
    upstream = rng.normal(size=x.shape)
    grad = relu_backward(upstream, x)
    assert check_gradient(lambda v: (relu(v) * upstream).sum(), grad, x) < NUMERIC
    (expected,) = _tape(lambda t: tf.reduce_sum(tf.nn.relu(t) * upstream), x)
    assert relative_error(grad, expected) < TAPE
    np.testing.assert_array_equal(relu_backward([1.0, 1.0, 1.0], [-1.0, 0.0, 2.0]), [0, 0, 1])


def test_flatten_backward_restores_the_shape():
    rng = np.random.default_rng(14)
    x = rng.normal(size=(2, 3, 4, 5))
    upstream = rng.normal(size=(2, 60))
    grad = flatten_backward(upstream, x.shape)
    assert check_gradient(lambda v: (flatten(v) * upstream).sum(), grad, x) < NUMERIC
    with pytest.raises(ValueError, match="cannot come from flattening"):
        flatten_backward(np.ones((2, 59)), x.shape)


def test_dropout_backward_reuses_the_forward_mask():
    rng = np.random.default_rng(15)
    x = rng.normal(size=(4, 6, 6, 3))
    out, mask = dropout(x, 0.4, rng=3, return_mask=True)
    np.testing.assert_array_equal(out, dropout(x, 0.4, rng=3))       # same seed, same mask as before
    np.testing.assert_array_equal(dropout(x, 0.4, mask=mask), out)   # a given mask is reused
    upstream = rng.normal(size=x.shape)
    grad = dropout_backward(upstream, mask, 0.4)
    assert check_gradient(lambda v: (dropout(v, 0.4, mask=mask) * upstream).sum(), grad, x) < NUMERIC
    (expected,) = _tape(lambda t: tf.reduce_sum(t * mask / 0.6 * upstream), x)
    assert relative_error(grad, expected) < TAPE
    assert (grad[~mask] == 0).all()
    assert dropout(x, 0.4, training=False, return_mask=True)[1].all()
    with pytest.raises(ValueError, match="boolean"):
        dropout(x, 0.4, mask=mask.astype(int))


@pytest.mark.parametrize("one_hot_labels", [False, True])
def test_softmax_cross_entropy_backward_is_p_minus_y_over_n(one_hot_labels):
    rng = np.random.default_rng(16)
    logits = rng.normal(size=(6, 7)) * 3
    labels = rng.integers(0, 7, size=6)
    y = np.eye(7)[labels] if one_hot_labels else labels
    grad = softmax_cross_entropy_backward(logits, y)
    assert check_gradient(lambda v: softmax_cross_entropy(v, y), grad, logits) < NUMERIC
    (expected,) = _tape(lambda t: tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=t)), logits)
    assert relative_error(grad, expected) < TAPE
    import keras
    assert softmax_cross_entropy(logits, y) == pytest.approx(
        float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)), rel=1e-6)
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-12)  # sum_k (p_k - y_k) = 1 - 1


def test_backward_errors_are_clear():
    with pytest.raises(ValueError, match="shape of the layer's output"):
        relu_backward(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="shape of the layer's output"):
        max_pool2d_backward(np.ones((3, 3)), np.ones((4, 4)))
    with pytest.raises(ConvolutionError, match="upstream gradient"):
        conv2d_backward(np.ones((1, 5, 5, 2)), np.ones((1, 6, 6, 1)), np.ones((3, 3, 1, 2)))
    with pytest.raises(ValueError, match="out of range"):
        softmax_cross_entropy_backward(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError, match="integer classes"):
        softmax_cross_entropy_backward(np.zeros((2, 3)), [0, 1, 2])


# --------------------------------------------------------------------------- the checker itself


def test_numerical_gradient_of_known_functions():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(numerical_gradient(lambda v: (v ** 2).sum(), x), 2 * x, rtol=1e-8)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sin(v).sum(), [0.0, 1.0]), np.cos([0.0, 1.0]), rtol=1e-8)
    before = x.copy()
    numerical_gradient(lambda v: v.sum(), x)
    np.testing.assert_array_equal(x, before)  # the caller's array is not changed
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0 and relative_error([0.0], [0.0]) == 0.0
    assert relative_error([1.0], [-1.0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(lambda v: v.sum(), x, eps=0)


def test_the_checker_catches_broken_backward_passes():
    rng = np.random.default_rng(17)
    # a conv input gradient whose kernel is not flipped
    x, w = rng.normal(size=(1, 6, 6, 2)), rng.normal(size=(3, 3, 2, 2))
    g = rng.normal(size=(1, 4, 4, 2))
    unflipped = conv2d(np.pad(g, ((0, 0), (2, 2), (2, 2), (0, 0))), w.transpose(0, 1, 3, 2))
    error = check_gradient(lambda v: (conv2d(v, w) * g).sum(), unflipped, x)
    assert error > 0.1
    # a max-pool backward that sends the gradient to every element of the window
    x = rng.normal(size=(1, 4, 4, 1))
    g = rng.normal(size=(1, 2, 2, 1))
    everywhere = np.repeat(np.repeat(g, 2, axis=1), 2, axis=2)
    assert check_gradient(lambda v: (max_pool2d(v) * g).sum(), everywhere, x) > 0.1
    # a softmax-CE gradient without the 1/N of the mean
    logits, labels = rng.normal(size=(8, 7)), rng.integers(0, 7, 8)
    no_mean = softmax_cross_entropy_backward(logits, labels) * len(labels)
    assert check_gradient(lambda v: softmax_cross_entropy(v, labels), no_mean, logits) > 0.5


def test_the_learning_modules_import_only_numpy():
    """Layering: utils.layers (backward, optimizers, the numpy CNN) and its exercise checks import no Keras, widgets or plots."""
    import subprocess
    import sys

    code = ("import sys, utils.layers, utils.layers.numpy_cnn, utils.backward_exercises, utils.layers.descent; "
            "print([m for m in ('keras', 'tensorflow', 'ipywidgets', 'matplotlib') if m in sys.modules])")
    from conftest import PROJECT_ROOT

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert out.stdout.strip() == "[]"
