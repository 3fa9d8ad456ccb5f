"""CNN layers written from scratch in numpy, checked equal to Keras in the tests.

Each layer is a pure function on arrays in Keras's channels-last layout
(``(batch, height, width, channels)`` or a single ``(height, width, channels)`` image).

Lesson 02 explains the convolution; lesson 03 pooling, ReLU, dropout, flatten, dense, softmax and cross-entropy.
"""

# Convolution (lesson 02).
from utils.layers.convolution import (KERNELS, ConvolutionError, conv2d, conv2d_loops, conv_output_size, conv_params,
                                      conv_step, convolve2d, correlate2d, correlate_patch, pad_amounts)
# Pooling, activations, dropout, the dense head, losses and the whole forward pass (lesson 03).
from utils.layers.pooling import average_pool2d, global_average_pool2d, global_max_pool2d, max_pool2d, pooled_size
from utils.layers.activations import log_softmax, relu, softmax
from utils.layers.dropout import dropout, dropout_mask
from utils.layers.dense import dense, dense_parameter_count, flatten
from utils.layers.losses import categorical_crossentropy, one_hot, sparse_categorical_crossentropy
from utils.layers.forward import LayerSpec, forward, layer_specs
# How a CNN learns (lesson 04): backward passes, the gradient check, optimizers, a numpy-trained CNN.
from utils.layers.backward import (average_pool2d_backward, conv2d_backward, conv2d_input_gradient,
                                   conv2d_weight_gradient, dense_backward, dilate, dropout_backward, flatten_backward,
                                   max_pool2d_backward, relu_backward, softmax_cross_entropy,
                                   softmax_cross_entropy_backward)
from utils.layers.gradcheck import check_gradient, numerical_gradient, relative_error
from utils.layers.optim import SGD, Adam, adam_step, cosine_with_warmup, momentum_step, sgd_step, step_decay
from utils.layers.descent import SURFACES, descent_path, path_losses
