"""The small library that the course's lessons import.

Modules, one concern each (lessons -> utils, never the other way):

- ``utils.data``       FER2013 in every common format, the offline default set, caching
- ``utils.synthetic``  the generator of synthetic 48x48 faces (the offline default set)
- ``utils.i18n``       the course language (English / Romanian) for plot titles and labels

Importing ``utils`` first silences TensorFlow's start-up log lines, which would
otherwise land in notebooks and test output; it imports nothing heavy itself.
"""

import os

# TensorFlow reads these once, when it is first imported: set them before that.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
