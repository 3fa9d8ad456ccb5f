"""Images as arrays: reading photos safely, colour orders, grayscale, faces to 48x48.

OpenCV stores colour pixels as B, G, R; matplotlib, browsers and PIL expect R, G, B.
Every function here says which order it takes and returns.

The face pipeline (used by lesson 01, lesson 05 and the web demo, so that the model
always sees the same kind of input): :func:`detect_faces` (OpenCV's Haar cascade) ->
:func:`crop` with a margin, clamped at the borders -> :func:`preprocess_face`
(grayscale, 48x48, float32 in [0, 1]); :func:`faces_from_photo` does all three.

Lesson 01 explains all of it (sections 1-4: arrays, BGR vs RGB, grayscale, from a photo to the 48x48 face).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from utils.constants import IMAGE_SIZE
from utils.errors import CourseError


class ImageError(CourseError, ValueError):
    """An image that cannot be used, with a message that says what is wrong and what to do."""


def sample_photo_path() -> Path:
    """A real colour portrait that ships with matplotlib (Grace Hopper, public domain)."""
    from matplotlib import cbook

    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read a photo as a uint8 BGR array ``(H, W, 3)``, as ``cv2.imread`` does, with clear errors.

    ``cv2.imread`` returns ``None`` silently for a missing or unreadable file; this raises
    :class:`ImageError` naming the path instead.
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(f"No image at {path}: the file does not exist. Check the path (relative paths start at {Path.cwd()}).")
    if path.is_dir():
        raise ImageError(f"{path} is a folder, not an image file.")
    data = np.fromfile(path, dtype=np.uint8)  # also works for non-ASCII paths, unlike cv2.imread
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ImageError(f"{path} is not a readable image (corrupt, empty, or not an image format OpenCV knows: use JPEG or PNG).")
    return image


def load_sample_photo() -> np.ndarray:
    """The matplotlib sample portrait as a uint8 BGR array (what ``cv2.imread`` gives)."""
    return read_image(sample_photo_path())


def check_image(image: np.ndarray, *, channels: tuple[int, ...] = (1, 3)) -> np.ndarray:
    """Raise :class:`ImageError` unless ``image`` is a uint8 ``(H, W)`` or ``(H, W, C)`` array with C in ``channels``."""
    if not isinstance(image, np.ndarray):
        raise ImageError(f"expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ImageError(f"expected dtype uint8 (values 0-255), got {image.dtype}; convert with (x * 255).astype(np.uint8) or np.clip first")
    if image.ndim == 2 and 1 in channels:
        return image
    if image.ndim == 3 and image.shape[2] in channels:
        return image
    raise ImageError(f"expected shape (H, W) or (H, W, C) with C in {channels}, got {image.shape}")


def bgr_to_rgb(image: np.ndarray) -> np.ndarray:
    """Swap OpenCV's B, G, R channel order to R, G, B (a view: reversing the last axis)."""
    check_image(image, channels=(3,))
    return image[..., ::-1]


def to_gray(image: np.ndarray) -> np.ndarray:
    """A uint8 ``(H, W)`` grayscale image from BGR colour (``Y = 0.299 R + 0.587 G + 0.114 B``) or grayscale."""
    check_image(image)
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[..., 0]
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


# --------------------------------------------------------------------------- faces

#: OpenCV's frontal-face Haar cascade, shipped with opencv-python 4 (not with OpenCV 5).
FACE_CASCADE_FILE = "haarcascade_frontalface_default.xml"

#: ``cv2.CascadeClassifier.detectMultiScale`` merges candidate boxes whose sizes and
#: positions differ by less than this fraction (its built-in GROUP_EPS).
_GROUP_EPS = 0.2


class NoFaceFoundError(ImageError):
    """The face detector found no face in a photo (the message says what to try)."""


@dataclass(frozen=True)
class FaceBox:
    """A face's bounding box in pixels: top-left corner ``(x, y)``, width ``w``, height ``h``."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    def scaled(self, factor: float) -> FaceBox:
        """The same box in an image resized by ``factor`` (e.g. from a thumbnail back to the photo)."""
        return FaceBox(*(int(round(v * factor)) for v in (self.x, self.y, self.w, self.h)))

    def expanded(self, margin: float, image_shape: tuple[int, ...]) -> FaceBox:
        """The box grown by ``margin`` x its size on every side, then clamped to the image.

        ``margin=0.2`` adds 20% of the width left and right and 20% of the height above
        and below; near a border the box simply stops at the border.
        """
        if margin < 0:
            raise ImageError(f"margin must be >= 0 (a fraction of the box size), got {margin}")
        height, width = image_shape[:2]
        dx, dy = int(round(self.w * margin)), int(round(self.h * margin))
        left, top = max(0, self.x - dx), max(0, self.y - dy)
        right, bottom = min(width, self.x + self.w + dx), min(height, self.y + self.h + dy)
        if right <= left or bottom <= top:
            raise ImageError(f"{self} lies outside the image of shape {tuple(image_shape)}")
        return FaceBox(left, top, right - left, bottom - top)


class DetectedFaces(NamedTuple):
    """What :func:`faces_from_photo` found: boxes (in reading order) and the matching model inputs."""

    boxes: list[FaceBox]
    faces: np.ndarray  # float32 (N, 48, 48, 1), values in [0, 1]


@lru_cache(maxsize=1)
def face_detector() -> cv2.CascadeClassifier:
    """OpenCV's frontal-face Haar cascade, loaded once (loading parses a 1 MB XML file)."""
    path = Path(cv2.data.haarcascades) / FACE_CASCADE_FILE
    detector = cv2.CascadeClassifier(str(path))
    if detector.empty():
        raise ImageError(
            f"Could not load OpenCV's face detector from {path}. The course needs opencv-python(-headless) 4.x, "
            "which ships the Haar cascade files (OpenCV 5 does not): reinstall with `pip install -r requirements.txt`.")
    return detector


def face_candidates(gray: np.ndarray, *, scale_factor: float = 1.1, min_size: int = 30) -> np.ndarray:
    """Every window the Haar cascade accepts, before merging: int array ``(K, 4)`` of x, y, w, h.

    The detector slides a 24x24 window over the image and over copies shrunk by
    ``scale_factor`` again and again, so one real face is usually accepted many times at
    nearby positions and sizes. :func:`group_candidates` merges those.
    """
    check_image(gray, channels=(1,))
    gray = gray if gray.ndim == 2 else gray[..., 0]
    if not 1.0 < scale_factor <= 3.0:
        raise ImageError(f"scale_factor must be in (1, 3] (each pyramid level is this much smaller), got {scale_factor}")
    if min_size < 1:
        raise ImageError(f"min_size must be a positive number of pixels, got {min_size}")
    found = face_detector().detectMultiScale(gray, scaleFactor=scale_factor, minNeighbors=0, minSize=(min_size, min_size))
    return np.asarray(found, dtype=np.int32).reshape(-1, 4)


def group_candidates(candidates: np.ndarray, min_neighbors: int = 5) -> list[FaceBox]:
    """Merge overlapping candidate windows; keep groups of more than ``min_neighbors`` windows.

    ``min_neighbors=0`` keeps every raw candidate. The result equals what
    ``detectMultiScale(..., minNeighbors=min_neighbors)`` returns for the same image
    and scale factor, in reading order (:func:`reading_order`).
    """
    if min_neighbors < 0:
        raise ImageError(f"min_neighbors must be >= 0, got {min_neighbors}")
    candidates = np.asarray(candidates, dtype=np.int32).reshape(-1, 4)
    if min_neighbors > 0 and len(candidates):
        grouped, _ = cv2.groupRectangles(candidates.tolist(), min_neighbors, _GROUP_EPS)
        candidates = np.asarray(grouped, dtype=np.int32).reshape(-1, 4)
    return reading_order([FaceBox(*map(int, row)) for row in candidates])


def reading_order(boxes: list[FaceBox]) -> list[FaceBox]:
    """``boxes`` as a reader numbers faces: rows from top to bottom, each row left to right.

    Boxes belong to one row when their centres are closer vertically than 0.6 of the height
    of the row's first box (a group photo's slightly uneven heads stay one row).
    """
    rows: list[list[FaceBox]] = []
    for box in sorted(boxes, key=lambda b: (b.y + b.h / 2, b.x)):
        if rows and abs((box.y + box.h / 2) - (rows[-1][0].y + rows[-1][0].h / 2)) < 0.6 * rows[-1][0].h:
            rows[-1].append(box)
        else:
            rows.append([box])
    return [box for line in rows for box in sorted(line, key=lambda b: (b.x, b.y))]


def detect_faces(image: np.ndarray, *, scale_factor: float = 1.1, min_neighbors: int = 5, min_size: int = 30) -> list[FaceBox]:
    """Faces in a BGR or grayscale uint8 image, as boxes in reading order (empty list: none)."""
    return group_candidates(face_candidates(to_gray(image), scale_factor=scale_factor, min_size=min_size), min_neighbors)


def crop(image: np.ndarray, box: FaceBox, margin: float = 0.0) -> np.ndarray:
    """The part of ``image`` inside ``box`` grown by ``margin`` (clamped at the borders; a view)."""
    check_image(image)
    inner = box.expanded(margin, image.shape)
    return image[inner.y:inner.y + inner.h, inner.x:inner.x + inner.w]


def preprocess_face(face: np.ndarray) -> np.ndarray:
    """A face crop (uint8, BGR or grayscale, any size) as the network's input: float32 ``(48, 48, 1)`` in [0, 1].

    The same three steps FER2013 went through: grayscale, resize to 48x48
    (``INTER_AREA`` averages pixels when shrinking, so no aliasing), scale 0..255 to 0..1.
    """
    check_image(face)
    if face.shape[0] == 0 or face.shape[1] == 0:
        raise ImageError(f"the face crop is empty (shape {face.shape}): the box lies outside the image?")
    gray = to_gray(face)
    interpolation = cv2.INTER_AREA if min(gray.shape) >= IMAGE_SIZE else cv2.INTER_LINEAR
    small = cv2.resize(gray, (IMAGE_SIZE, IMAGE_SIZE), interpolation=interpolation)
    return (small.astype(np.float32) / 255.0)[..., np.newaxis]


def faces_to_model_input(images: np.ndarray) -> np.ndarray:
    """A batch of uint8 48x48 faces (``(N, 48, 48)`` or ``(N, 48, 48, 1)``, e.g. FER2013) as float32 ``(N, 48, 48, 1)`` in [0, 1]."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        raise ImageError(f"expected a uint8 numpy array of faces, got {getattr(images, 'dtype', type(images).__name__)}")
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 1):
        raise ImageError(f"expected faces of shape (N, {IMAGE_SIZE}, {IMAGE_SIZE}, 1), got {images.shape}; "
                         "resize photos with preprocess_face first")
    return images.astype(np.float32) / 255.0


def faces_from_photo(
    photo: np.ndarray | str | os.PathLike,
    *,
    margin: float = 0.1,
    scale_factor: float = 1.1,
    min_neighbors: int = 5,
    min_size: int = 30,
) -> DetectedFaces:
    """Find every face in a photo (a BGR uint8 array or a file path) and preprocess each for the model.

    Returns :class:`DetectedFaces` (boxes in reading order, faces float32 ``(N, 48, 48, 1)``).
    Raises :class:`NoFaceFoundError` when there is no face, :class:`ImageError` for bad input.
    """
    image = read_image(photo) if isinstance(photo, (str, os.PathLike)) else check_image(photo)
    gray = to_gray(image)
    boxes = detect_faces(gray, scale_factor=scale_factor, min_neighbors=min_neighbors, min_size=min_size)
    if not boxes:
        height, width = gray.shape
        raise NoFaceFoundError(
            f"No face found in the {width}x{height} photo. Use a photo with a frontal, upright, well-lit face "
            f"at least {min_size} px wide; or make the detector less strict: lower min_neighbors "
            f"(now {min_neighbors}), scale_factor (now {scale_factor}) or min_size (now {min_size}).")
    faces = np.stack([preprocess_face(crop(gray, box, margin)) for box in boxes])
    return DetectedFaces(boxes, faces)


def draw_boxes(image: np.ndarray, boxes: list[FaceBox], *, color: tuple[int, int, int] = (0, 255, 0),
               thickness: int = 2, numbered: bool = False) -> np.ndarray:
    """A copy of a colour image with ``boxes`` drawn (``color`` in the image's own channel order)."""
    check_image(image, channels=(3,))
    canvas = np.ascontiguousarray(image).copy()
    for number, box in enumerate(boxes, start=1):
        cv2.rectangle(canvas, (box.x, box.y), (box.x + box.w - 1, box.y + box.h - 1), color, thickness)
        if numbered:
            cv2.putText(canvas, str(number), (box.x + 3, box.y + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.6, color, 2, cv2.LINE_AA)
    return canvas


# --------------------------------------------------------------------------- image bytes (uploads)

#: Default ceiling on the pixels of an image decoded from bytes: above any phone photo
#: (48 MP is 8000 x 6000), far below a "decompression bomb" (a small file that declares
#: a gigantic image; decoding one takes gigabytes of memory).
MAX_IMAGE_PIXELS = 50_000_000

#: JPEG markers that start a frame header (SOF0-SOF15 except DHT, JPG and DAC).
_JPEG_FRAME_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


class ImageTooLargeError(ImageError):
    """An image whose header declares more pixels than allowed (possibly a decompression bomb)."""


class UnsupportedImageFormatError(ImageError):
    """A file of a known kind the course does not read (GIF, HEIC, TIFF, ...); ``format_name`` names it."""

    def __init__(self, message: str, format_name: str) -> None:
        super().__init__(message)
        self.format_name = format_name


#: Other files people upload as "photos", by their first bytes: what they are and the advice.
_UNSUPPORTED_SIGNATURES = (
    ((b"GIF87a", b"GIF89a"), 0, "GIF", "save the frame you want as JPEG or PNG"),
    ((b"II*\x00", b"MM\x00*"), 0, "TIFF", "export it as JPEG or PNG"),
    ((b"%PDF",), 0, "PDF", "a PDF is a document, not a photo: export the page or the picture as JPEG or PNG"),
)
_HEIF_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"hevc": "HEIC", b"mif1": "HEIF", b"msf1": "HEIF", b"avif": "AVIF"}


def unsupported_format(data: bytes) -> tuple[str, str] | None:
    """``(name, advice)`` when ``data`` starts like a GIF, TIFF, PDF, HEIC/HEIF/AVIF or SVG file, else ``None``."""
    for signatures, offset, name, advice in _UNSUPPORTED_SIGNATURES:
        if any(data[offset:offset + len(signature)] == signature for signature in signatures):
            return name, advice
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return _HEIF_BRANDS[data[8:12]], "phones save photos this way by default: export it as JPEG (or set the camera to its most compatible format)"
    head = data[:256].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:1024].lower()):
        return "SVG", "an SVG is a drawing, not a photo: export it as PNG"
    return None


def _jpeg_size(data: bytes) -> tuple[int, int]:
    position = 2  # after the start-of-image marker FF D8
    while position + 9 <= len(data):
        if data[position] != 0xFF:  # stray bytes between segments: skip to the next marker, as libjpeg does
            position = data.find(b"\xff", position)
            if position < 0:
                break
            continue
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length field
            position += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or pixel data, before any frame header
            break
        if marker in _JPEG_FRAME_MARKERS:
            height = int.from_bytes(data[position + 5:position + 7], "big")
            width = int.from_bytes(data[position + 7:position + 9], "big")
            return width, height
        length = int.from_bytes(data[position + 2:position + 4], "big")
        if length < 2:
            break
        position += 2 + length
    raise ImageError("The JPEG file is corrupt or truncated: it has no readable frame header (image size).")


def image_header_size(data: bytes) -> tuple[str, int, int]:
    """``(format, width, height)`` as a JPEG, PNG, WebP or BMP file declares them, read from its header only.

    Nothing is decoded, so this is cheap and safe on any bytes; :func:`decode_image`
    uses it to refuse oversized images before ``cv2.imdecode`` (which has no limit)
    allocates memory for them. Raises :class:`ImageError` for any other content.
    """
    data = bytes(data)
    if data[:3] == b"\xff\xd8\xff":
        return ("jpeg", *_jpeg_size(data))
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return "png", int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            return "webp", 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8L" and data[20] == 0x2F:
            bits = int.from_bytes(data[21:25], "little")
            return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
            return "webp", int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF
        raise ImageError("The WebP file is corrupt: its header gives no image size.")
    if data[:2] == b"BM" and len(data) >= 26:
        if int.from_bytes(data[14:18], "little") == 12:  # the old OS/2 header: 16-bit sizes
            return "bmp", int.from_bytes(data[18:20], "little"), int.from_bytes(data[20:22], "little")
        width = int.from_bytes(data[18:22], "little", signed=True)
        height = int.from_bytes(data[22:26], "little", signed=True)  # negative: rows stored top-down
        return "bmp", abs(width), abs(height)
    known = unsupported_format(data)
    if known:
        name, advice = known
        raise UnsupportedImageFormatError(
            f"This is a {name} file, which the course cannot read (it reads JPEG, PNG, WebP and BMP): {advice}.", name)
    raise ImageError("This is not an image the course can read: use a JPEG or PNG photo (WebP and BMP work too).")


def decode_image(data: bytes, *, max_pixels: int = MAX_IMAGE_PIXELS, max_side: int | None = None) -> np.ndarray:
    """Decode image file bytes (e.g. an upload) to a uint8 BGR array ``(H, W, 3)``, safely.

    The size is read from the header first (:func:`image_header_size`): more than
    ``max_pixels`` raises :class:`ImageTooLargeError` before any decoding. ``max_side``
    shrinks the result so that its longer side is at most that many pixels; large JPEGs
    are then decoded directly at 1/2, 1/4 or 1/8 scale (libjpeg does that cheaply).
    EXIF orientation is applied, as photo viewers do. Raises :class:`ImageError` when
    the bytes are not a supported image or are corrupt.
    """
    if not data:
        raise ImageError("The file is empty (0 bytes): choose a photo (JPEG or PNG).")
    kind, width, height = image_header_size(data)
    if width <= 0 or height <= 0:
        raise ImageError(f"The {kind.upper()} header gives an impossible size {width}x{height}: the file is corrupt.")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"The image is {width}x{height} = {width * height / 1e6:.1f} megapixels; at most {max_pixels / 1e6:.0f} "
            "megapixels are accepted. Resize it (or take a smaller photo) and try again.")
    if max_side is not None and max_side < 1:
        raise ImageError(f"max_side must be a positive number of pixels, got {max_side}")
    longest = max(width, height)
    reduction = 1
    while max_side is not None and reduction < 8 and longest // (reduction * 2) >= max_side:
        reduction *= 2
    flags = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags[reduction])
    if image is None or image.size == 0:
        raise ImageError(f"The {kind.upper()} file could not be decoded: it is corrupt or truncated. Try another photo.")
    if image.shape[0] * image.shape[1] > max_pixels:  # the header lied (should not happen; never trust it blindly)
        raise ImageTooLargeError(f"The decoded image {image.shape[1]}x{image.shape[0]} is larger than its header said.")
    if max_side is not None and max(image.shape[:2]) > max_side:
        scale = max_side / max(image.shape[:2])
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image
