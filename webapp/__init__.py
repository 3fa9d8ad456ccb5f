"""The course's web demo: facial emotions from an uploaded photo or the webcam, with a JSON API.

Start it from the repository root with ``.venv/bin/python -m webapp`` and open
http://127.0.0.1:5000/. It uses the shipped model (``models/emotion_cnn.keras``) unless
``--model PATH`` or the ``EMOTION_MODEL`` environment variable names another one, and the
same pipeline as the lessons: :func:`utils.images.faces_from_photo` to find and prepare
the faces, :func:`utils.models.predict_proba` for the probabilities.

The folder is called ``webapp`` (not ``flask``) so that ``import flask`` from the
repository root still finds the Flask package.
"""

from webapp.app import create_app

__all__ = ["create_app"]
