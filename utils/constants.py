"""The course's constants: where the project is, the face size, the seven emotions.

A leaf module: it imports nothing of the project, so every other module (data, images,
models, the web demo) can depend on it without depending on each other. The emotions
and the 48x48 input are introduced in lesson 01 (images) and used up to lesson 04.
"""

from __future__ import annotations

from pathlib import Path

#: The repository root (the folder that holds ``utils/``, ``lessons/``, ``models/``).
PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: The side of the square grayscale face the network reads (FER2013's 48x48).
IMAGE_SIZE = 48

#: The network's input: one 48x48 grayscale channel.
INPUT_SHAPE: tuple[int, int, int] = (IMAGE_SIZE, IMAGE_SIZE, 1)

#: The seven classes in FER2013's label order: label ``i`` is ``EMOTIONS[i]``.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: Romanian names of the seven emotions, in the same order.
EMOTIONS_RO: tuple[str, ...] = ("furie", "dezgust", "frică", "bucurie", "tristețe", "surpriză", "neutru")

#: How many classes the network tells apart.
NUM_CLASSES = len(EMOTIONS)

__all__ = ["EMOTIONS", "EMOTIONS_RO", "IMAGE_SIZE", "INPUT_SHAPE", "NUM_CLASSES", "PROJECT_ROOT"]
