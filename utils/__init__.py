"""The small library that the course's lessons import.

Modules, one concern each (lessons -> utils, never the other way):

- ``utils.data``       FER2013 in every common format, the offline default set, caching
- ``utils.synthetic``  the generator of synthetic 48x48 faces (the offline default set)
- ``utils.images``     reading photos, colour orders, grayscale, faces -> 48x48 model input
- ``utils.layers``     CNN layers from scratch in numpy (convolution, pooling, dropout, dense, ...)
- ``utils.models``     the course's CNN: builder, loading/saving, prediction
- ``utils.training``   augmentation, class weights, schedules, run folders, callbacks
- ``utils.train`` / ``utils.evaluate``  command lines for training and evaluating a model
- ``utils.explain``    what a trained model looks at: feature maps, Grad-CAM
- ``utils.viz``        plots (matplotlib)
- ``utils.widgets``    interactive explorers (the only module that imports ipywidgets)
- ``utils.i18n``       the course language (English / Romanian) for plot titles and labels

Importing ``utils`` first silences TensorFlow's start-up log lines, which would
otherwise land in notebooks and test output; it imports nothing heavy itself.
"""

import os

# TensorFlow reads these once, when it is first imported: set them before that.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
