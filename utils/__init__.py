"""The small library that the course's lessons import.

Modules, one concern each (lessons -> utils, never the other way; README.md, "For maintainers",
has the rules and tests/test_architecture.py enforces them):

- ``utils.constants``  the leaf module: project root, 48x48 input, the seven emotions (EN / RO)
- ``utils.errors``     ``CourseError``, the root of every course error
- ``utils.data``       FER2013 in every common format, the offline default set, caching
- ``utils.synthetic``  the generator of synthetic 48x48 faces (the offline default set)
- ``utils.images``     reading photos, colour orders, grayscale, faces -> 48x48 model input
- ``utils.layers``     CNN layers from scratch in numpy (convolution, pooling, dropout, dense, ...)
- ``utils.models``     the course's CNN: builder, parameter formulas, loading/saving, prediction
- ``utils.training``   augmentation, class weights, schedules, run folders, callbacks, whole runs
- ``utils.metrics``    accuracy, confusion matrix, precision / recall / F1; evaluating a model
- ``utils.pipeline``   photo -> faces -> emotions, one set of limits (web demo and lesson 04)
- ``utils.train`` / ``utils.evaluate``  command lines only (argument parsing and main())
- ``utils.explain``    what a trained model looks at: feature maps, Grad-CAM
- ``utils.viz``        plots (matplotlib), training curves included
- ``utils.widgets``    interactive explorers (the only module that imports ipywidgets)
- ``utils.i18n``       the course language (English / Romanian) for plot titles and labels
- ``utils.lesson``     lesson-only conveniences that speak to the student

Importing ``utils`` first silences TensorFlow's start-up log lines, which would
otherwise land in notebooks and test output; it imports nothing heavy itself.
"""

import os

# TensorFlow reads these once, when it is first imported: set them before that.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
