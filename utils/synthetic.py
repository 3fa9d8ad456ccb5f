"""Synthetic 48x48 faces for the seven FER2013 emotions: the course's offline default data set.

Each face is drawn from a handful of parts (face oval, eyes, brows, nose, mouth) whose
shape carries the expression, the way the Facial Action Coding System describes
expressions: raised inner brows for sadness and fear, lowered brows for anger, an open
mouth for surprise, a wrinkled nose and raised upper lip for disgust, and so on.

What makes the set a real learning problem rather than a toy:

- each expression has a random *strength*, so weak expressions of different classes overlap;
- the face moves, scales and tilts; lighting, contrast, blur and noise vary;
- classes come in FER2013's proportions (disgust is rare) unless ``balanced=True``.

A linear model on raw pixels cannot undo the shifts and tilts; a small CNN can (the tests
measure both). Everything is deterministic for a given ``seed``.

Used by every lesson when FER2013 is absent; lesson 01 (section 5) says which set it is using.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from utils.constants import EMOTIONS, IMAGE_SIZE

#: FER2013's training-set class counts, in label order (angry ... neutral).
FER2013_TRAIN_COUNTS = (3995, 436, 4097, 7215, 4830, 3171, 4965)

_SHIFT = 4  # cv2 drawing with 4 fractional bits: sub-pixel positions on a 48x48 canvas
_SCALE = 1 << _SHIFT

# Per emotion, the extreme of each expression parameter; neutral is all zeros.
#   eye_open: eyelid opening added to the neutral eye (px), brow_raise: whole brow up (px),
#   brow_inner: inner brow end up (+) or down (-) (px), mouth_curve: smile (+) / frown (-) (px),
#   mouth_open: opening height (px), mouth_width: relative change, asym: one corner up (px),
#   wrinkle: nose wrinkle lines (0/1)
_EXPRESSIONS: dict[str, dict[str, float]] = {
    "angry":    dict(eye_open=-0.9, brow_raise=-2.0, brow_inner=-3.0, mouth_curve=-1.2, mouth_open=0.0, mouth_width=-0.2, asym=0.0, wrinkle=0.0),
    "disgust":  dict(eye_open=-0.7, brow_raise=-1.2, brow_inner=-1.5, mouth_curve=-0.8, mouth_open=1.2, mouth_width=0.0, asym=2.5, wrinkle=1.0),
    "fear":     dict(eye_open=1.6, brow_raise=2.0, brow_inner=2.5, mouth_curve=-0.6, mouth_open=2.5, mouth_width=0.35, asym=0.0, wrinkle=0.0),
    "happy":    dict(eye_open=-0.8, brow_raise=0.5, brow_inner=0.0, mouth_curve=3.5, mouth_open=1.5, mouth_width=0.3, asym=0.0, wrinkle=0.0),
    "sad":      dict(eye_open=-0.5, brow_raise=0.3, brow_inner=2.5, mouth_curve=-3.0, mouth_open=0.0, mouth_width=-0.1, asym=0.0, wrinkle=0.0),
    "surprise": dict(eye_open=2.0, brow_raise=3.5, brow_inner=0.5, mouth_curve=0.0, mouth_open=5.5, mouth_width=-0.3, asym=0.0, wrinkle=0.0),
    "neutral":  dict(eye_open=0.0, brow_raise=0.0, brow_inner=0.0, mouth_curve=0.0, mouth_open=0.0, mouth_width=0.0, asym=0.0, wrinkle=0.0),
}


def _pts(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points) * _SCALE).astype(np.int32).reshape(-1, 1, 2)


def _curve(x0: float, x1: float, y: float, bend: float, tilt: float = 0.0, n: int = 9) -> np.ndarray:
    """Points of a parabola from x0 to x1 at height y; bend > 0 lifts the ends (a smile)."""
    xs = np.linspace(x0, x1, n)
    t = np.linspace(-1.0, 1.0, n)
    ys = y - bend * t**2 + bend / 2 - tilt * t
    return np.stack([xs, ys], axis=1)


def draw_face(label: int, rng: np.random.Generator, strength: float | None = None) -> np.ndarray:
    """Draw one 48x48 uint8 face showing ``EMOTIONS[label]`` with random look and pose."""
    size = IMAGE_SIZE
    expression = _EXPRESSIONS[EMOTIONS[label]]
    k = rng.uniform(0.45, 1.0) if strength is None else strength
    e = {name: value * k for name, value in expression.items()}

    # Background and skin, with enough contrast that the face is visible but varied.
    background = rng.uniform(20, 230)
    skin = np.clip(background + rng.choice([-1, 1]) * rng.uniform(35, 110), 60, 235)
    feature = skin * rng.uniform(0.15, 0.5)  # eyes, brows, mouth lines are darker than skin
    canvas = np.full((size, size), background, dtype=np.float32)

    cx, cy = 24 + rng.uniform(-2.5, 2.5), 25 + rng.uniform(-2.0, 2.5)
    face_a, face_b = rng.uniform(15.5, 19.5), rng.uniform(19.5, 23.5)
    cv2.ellipse(canvas, (int(cx * _SCALE), int(cy * _SCALE)), (int(face_a * _SCALE), int(face_b * _SCALE)),
                0, 0, 360, float(skin), -1, cv2.LINE_AA, _SHIFT)
    if rng.random() < 0.6:  # hair: a darker cap over the forehead
        hair = skin * rng.uniform(0.2, 0.6)
        cv2.ellipse(canvas, (int(cx * _SCALE), int((cy - face_b * 0.55) * _SCALE)),
                    (int(face_a * 1.05 * _SCALE), int(face_b * 0.5 * _SCALE)),
                    0, 180, 360, float(hair), -1, cv2.LINE_AA, _SHIFT)

    # Eyes: an ellipse whose height is the eyelid opening, and a pupil.
    eye_y = cy - face_b * rng.uniform(0.12, 0.22)
    eye_dx = face_a * rng.uniform(0.36, 0.45)
    eye_w = rng.uniform(2.6, 3.6)
    eye_h = max(0.5, rng.uniform(1.3, 1.9) + e["eye_open"])
    white = min(255.0, skin + rng.uniform(10, 50))
    for side in (-1, 1):
        ex = cx + side * eye_dx
        cv2.ellipse(canvas, _pts([ex, eye_y])[0, 0], (int(eye_w * _SCALE), int(eye_h * _SCALE)),
                    0, 0, 360, float(white), -1, cv2.LINE_AA, _SHIFT)
        pupil = min(eye_h, rng.uniform(1.0, 1.5))
        cv2.circle(canvas, _pts([ex + rng.uniform(-0.6, 0.6), eye_y])[0, 0], int(pupil * _SCALE),
                   float(feature), -1, cv2.LINE_AA, _SHIFT)

    # Brows: a line above each eye; its inner end moves with the expression.
    brow_y = eye_y - rng.uniform(3.5, 5.0) - e["brow_raise"]
    brow_len = rng.uniform(4.5, 6.5)
    thickness = int(rng.integers(1, 3))
    for side in (-1, 1):
        inner = np.array([cx + side * (eye_dx - brow_len / 2), brow_y - e["brow_inner"]])
        outer = np.array([cx + side * (eye_dx + brow_len / 2), brow_y + 0.3 * e["brow_inner"]])
        arch = np.array([(inner[0] + outer[0]) / 2, min(inner[1], outer[1]) - 0.8 - 0.3 * max(e["brow_raise"], 0)])
        cv2.polylines(canvas, [_pts([inner, arch, outer])], False, float(feature), thickness, cv2.LINE_AA, _SHIFT)

    # Nose: a short shadow line, and wrinkles for disgust.
    nose_y = cy + face_b * rng.uniform(0.12, 0.2)
    cv2.line(canvas, tuple(_pts([cx - 1.5, nose_y])[0, 0]), tuple(_pts([cx + 1.5, nose_y])[0, 0]),
             float(skin * 0.7), 1, cv2.LINE_AA, _SHIFT)
    if e["wrinkle"] > 0.5:
        for dy in (-4.0, -2.5):
            cv2.polylines(canvas, [_pts(_curve(cx - 2.5, cx + 2.5, nose_y + dy, 0.8))], False,
                          float(skin * 0.75), 1, cv2.LINE_AA, _SHIFT)

    # Mouth: width, curvature, asymmetry and opening carry most of the expression.
    mouth_y = cy + face_b * rng.uniform(0.42, 0.52)
    half_w = face_a * rng.uniform(0.28, 0.36) * (1 + e["mouth_width"])
    bend = e["mouth_curve"] + rng.normal(0, 0.3)
    upper = _curve(cx - half_w, cx + half_w, mouth_y, bend, tilt=e["asym"])
    if e["mouth_open"] > 0.6:
        lower = _curve(cx - half_w, cx + half_w, mouth_y + e["mouth_open"], bend * 0.6 - e["mouth_open"] * 0.5, tilt=e["asym"] * 0.5)
        outline = np.concatenate([upper, lower[::-1]])
        cv2.fillPoly(canvas, [_pts(outline)], float(feature * 0.6), cv2.LINE_AA, _SHIFT)
        if label == EMOTIONS.index("happy") and rng.random() < 0.7:  # teeth
            cv2.polylines(canvas, [_pts(_curve(cx - half_w * 0.7, cx + half_w * 0.7, mouth_y + 0.8, bend * 0.7))],
                          False, float(white), 1, cv2.LINE_AA, _SHIFT)
    else:
        cv2.polylines(canvas, [_pts(upper)], False, float(feature), int(rng.integers(1, 3)), cv2.LINE_AA, _SHIFT)

    # Pose, then camera: a small rotation and zoom, lighting gradient, blur, noise.
    angle, zoom = rng.uniform(-12, 12), rng.uniform(0.9, 1.12)
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, zoom)
    canvas = cv2.warpAffine(canvas, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(direction) * (np.arange(size)[None, :] - 24) + np.sin(direction) * (np.arange(size)[:, None] - 24)) / 24
    canvas = canvas * rng.uniform(0.7, 1.15) + ramp * rng.uniform(0, 35)
    canvas = cv2.GaussianBlur(canvas, (0, 0), rng.uniform(0.4, 1.0))
    canvas += rng.normal(0, rng.uniform(2, 9), canvas.shape)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def class_labels(n: int, rng: np.random.Generator, balanced: bool = False) -> np.ndarray:
    """``n`` labels, shuffled: equal classes, or FER2013's proportions with every class present."""
    if n < len(EMOTIONS):
        raise ValueError(f"need at least {len(EMOTIONS)} faces to show every class, got {n}")
    weights = np.ones(len(EMOTIONS)) if balanced else np.asarray(FER2013_TRAIN_COUNTS, dtype=float)
    counts = np.maximum(1, np.floor(n * weights / weights.sum())).astype(int)
    counts[np.argmax(counts)] += n - counts.sum()
    labels = np.repeat(np.arange(len(EMOTIONS)), counts)
    rng.shuffle(labels)
    return labels.astype(np.int64)


def make_faces(n: int, seed: int = 0, balanced: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``n`` synthetic faces: uint8 images ``(n, 48, 48, 1)`` and int64 labels, the same for the same seed."""
    rng = np.random.default_rng(seed)
    labels = class_labels(n, rng, balanced)
    images = np.stack([draw_face(int(label), rng) for label in labels])
    return images[..., np.newaxis], labels


def write_image_folders(root: str | Path, train_size: int = 3500, test_size: int = 700, seed: int = 2013) -> Path:
    """Write synthetic faces in FER2013's image-folder layout (``train/<class>/Training_<i>.png``, ...)."""
    root = Path(root)
    for split, prefix, n, split_seed in (("train", "Training", train_size, seed), ("test", "PublicTest", test_size, seed + 1)):
        images, labels = make_faces(n, seed=split_seed)
        for name in EMOTIONS:
            (root / split / name).mkdir(parents=True, exist_ok=True)
        for i, (image, label) in enumerate(zip(images, labels)):
            cv2.imwrite(str(root / split / EMOTIONS[label] / f"{prefix}_{i:06d}.png"), image[..., 0])
    return root
