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
- ``utils.pipeline``   photo -> faces -> emotions, one set of limits (web demo and lesson 05)
- ``utils.train`` / ``utils.evaluate``  command lines only (argument parsing and main())
- ``utils.explain``    what a trained model looks at: feature maps, Grad-CAM
- ``utils.viz``        plots (matplotlib), training curves included
- ``utils.widgets``    interactive explorers (the only module that imports ipywidgets)
- ``utils.i18n``       the course language (English / Romanian) for plot titles and labels
- ``utils.lesson``     lesson-only conveniences that speak to the student

Importing ``utils`` first keeps TensorFlow's start-up log lines out of notebooks and test
output, and turns TensorFlow's oneDNN kernels on (measured on the course's 2-core CPU: a
training step takes half the time, batched prediction is 2.2x faster; see
benchmarks/README.md). It imports nothing heavy itself.
"""

import importlib.abc
import importlib.machinery
import os
import sys
import tempfile

# TensorFlow reads these once, when it is first imported: set them before that.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Silences what TensorFlow's C++ code writes to the error stream while it is first imported.

    With oneDNN on, TensorFlow announces it (and the CPU features it was built for) before
    its logging reads TF_CPP_MIN_LOG_LEVEL, so the lines would land in every notebook. The
    error stream is redirected to a file while the module runs; if the import fails, what
    was written is replayed, so no real error is hidden.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    """Runs another loader's ``exec_module`` with file descriptor 2 sent to a temporary file."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        captured = tempfile.TemporaryFile()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            self.loader.exec_module(module)
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.close()
        module.__loader__ = self.loader


if os.environ.get("UTILS_SHOW_TENSORFLOW_LOGS") != "1" and "tensorflow" not in sys.modules:
    sys.meta_path.insert(0, _QuietTensorFlowImport())
