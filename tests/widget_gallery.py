"""A notebook with every explorer of utils.widgets, one per cell, for the real-browser layout tests.

Each widget cell is tagged ``gallery:<name>``; the inputs are those the lessons use (the
sample portrait, a face from the offline synthetic set, the shipped model), so what the
browser shows is what a student sees. ``GALLERY`` lists the names in order; a new
builder in utils.widgets without a gallery cell fails tests/test_widgets_browser.py.
"""

from __future__ import annotations

import nbformat

SETUP = '''\
import utils  # first: silences TensorFlow's start-up log
from utils.i18n import set_language
set_language({language!r})
import cv2
import numpy as np
from matplotlib.cbook import get_sample_data
from utils import images
from utils.layers.activations import relu
from utils.layers.convolution import KERNELS, correlate2d
from utils.lesson import load_shipped_or
from utils.models import Architecture, build_emotion_cnn
from utils.synthetic import make_faces
from utils.widgets.convolution import filter_bank, kernel_explorer, sliding_window_stepper
from utils.widgets.descent import descent_explorer
from utils.widgets.images import channel_explorer, preprocess_explorer
from utils.widgets.model import feature_map_browser, photo_predictor, receptive_field_explorer
from utils.widgets.pooling import dropout_explorer, pooling_explorer, softmax_explorer

photo = images.load_sample_photo()
photo_gray = images.to_gray(photo)
photo_face = images.crop(photo_gray, images.detect_faces(photo_gray)[0], margin=0.1)
drawn, drawn_labels = make_faces(7, seed=2, balanced=True)
synthetic_face = drawn[0, ..., 0]
face48 = images.preprocess_face(photo_face)
faces = {{"photo": photo_face, "synthetic": synthetic_face}}
edges = relu(correlate2d(face48[..., 0], KERNELS["sobel_x"], 1, "same"))
tiny = np.array([[0, 0, 0, 9, 9, 9], [0, 0, 0, 9, 9, 9], [0, 0, 0, 9, 9, 9],
                 [0, 0, 0, 9, 9, 9], [0, 0, 0, 9, 9, 9], [0, 0, 0, 9, 9, 9]], dtype=np.float32)
model, _ = load_shipped_or(build_emotion_cnn(Architecture(), name="untrained"))
two_faces = np.hstack([photo, photo[:, ::-1]])
'''

#: name -> the code of its cell (the widget is the cell's last expression).
CELLS = {
    "channel_explorer": "channel_explorer(photo)",
    "preprocess_explorer": "preprocess_explorer(np.vstack([two_faces, two_faces]))",
    "sliding_window_stepper": 'sliding_window_stepper(tiny, KERNELS["sobel_x"])',
    "kernel_explorer": 'kernel_explorer(faces, preset="sobel_x")',
    "filter_bank": "filter_bank(faces)",
    "pooling_explorer": "pooling_explorer(edges)",
    "dropout_explorer": "dropout_explorer(face48[..., 0])",
    "softmax_explorer": "softmax_explorer([1.0, -1.0, 0.5, 2.5, 0.0, 0.8, 7.9])",
    "descent_explorer": 'descent_explorer("valley", learning_rate=0.05)',
    "feature_map_browser": "feature_map_browser(model, face48)",
    "receptive_field_explorer": "receptive_field_explorer(model, face48)",
    "photo_predictor": ("predictor = photo_predictor(model)\n"
                        "predictor.upload_bytes(cv2.imencode('.jpg', two_faces)[1].tobytes(), 'two_faces.jpg')\n"
                        "predictor"),
}
GALLERY = list(CELLS)


def gallery_notebook(language: str = "en") -> nbformat.NotebookNode:
    """The gallery as a notebook: a set-up cell, then one tagged cell per widget."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(SETUP.format(language=language))]
    notebook.cells += [nbformat.v4.new_code_cell(code, metadata={"tags": [f"gallery:{name}"]}) for name, code in CELLS.items()]
    return notebook
