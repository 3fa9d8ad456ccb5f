"""FER2013 and the offline default data set: the one place that knows about data.

FER2013 reaches people in three forms, and :func:`load_fer2013` reads all of them,
detecting which one it was given:

- image folders: ``train/<class>/*.jpg`` and ``test/<class>/*.jpg`` (a ``test/``
  that mixes ``PublicTest_*`` and ``PrivateTest_*`` files is split into both halves);
  a folder whose subfolders are the class names is read as one split;
- the original ``fer2013.csv`` with columns ``emotion,pixels,Usage``;
- a ``.zip`` of either.

Every split comes back as ``uint8`` images of shape ``(N, 48, 48, 1)`` and integer
labels in FER2013's order (:data:`EMOTIONS`). Decoded arrays are cached, so the
second load of the full data set takes a fraction of a second.

Where FER2013 is: the ``path`` argument, else ``$FER2013_DIR``, else ``data/fer2013``.
When it is nowhere, :func:`load_course_data` falls back to the synthetic faces of
:mod:`utils.synthetic` and says so.

Command line: ``python -m utils.data info|download|synthetic --help``.

Lesson 01 (section 5, "The data set: FER2013") introduces the data set; every lesson loads it with :func:`load_course_data`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from utils.constants import EMOTIONS, IMAGE_SIZE, PROJECT_ROOT  # noqa: F401  (re-exported for the lessons)
from utils.errors import CourseError

DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "fer2013"
DEFAULT_CACHE_DIR = PROJECT_ROOT / "data" / "cache"
ENV_VAR = "FER2013_DIR"

#: Folder names seen in the wild, lower-cased, mapped to FER2013 labels.
FOLDER_TO_LABEL: dict[str, int] = {
    **{name: label for label, name in enumerate(EMOTIONS)},
    **{str(label): label for label in range(len(EMOTIONS))},
    "anger": 0, "disgusted": 1, "fearful": 2, "happiness": 3,
    "sadness": 4, "surprised": 5, "suprise": 5,
}

#: Split names used everywhere in the course.
TRAIN, PUBLIC_TEST, PRIVATE_TEST, TEST = "train", "public_test", "private_test", "test"

#: The ``Usage`` column of fer2013.csv and the file-name prefixes of the image layout.
USAGE_TO_SPLIT = {"Training": TRAIN, "PublicTest": PUBLIC_TEST, "PrivateTest": PRIVATE_TEST}

_FOLDER_TO_SPLIT = {
    "train": TRAIN, "training": TRAIN,
    "test": TEST, "testing": TEST,
    "val": PUBLIC_TEST, "valid": PUBLIC_TEST, "validation": PUBLIC_TEST,
    "publictest": PUBLIC_TEST, "public_test": PUBLIC_TEST,
    "privatetest": PRIVATE_TEST, "private_test": PRIVATE_TEST,
}
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}
_JUNK_FILES = {"thumbs.db", "desktop.ini"}
_CSV_COLUMNS = ("emotion", "pixels")
_CACHE_FORMAT = 1

HOW_TO_GET_FER2013 = (
    "How to get FER2013:\n"
    "  * with internet: `python -m utils.data download` (uses the kagglehub client), or\n"
    "  * by hand: download 'fer2013' from Kaggle (the image folders of\n"
    "    https://www.kaggle.com/datasets/msambare/fer2013 or the original fer2013.csv of the\n"
    "    2013 challenge), unzip it (or keep the .zip), then either put it at\n"
    f"    {DEFAULT_DATA_DIR} or point the course at it: `export {ENV_VAR}=/path/to/fer2013`.\n"
    "  Check what the course sees with `python -m utils.data info`."
)


class DataError(CourseError):
    """Data that cannot be used, with a message that says what is wrong and what to do."""


@dataclass(frozen=True)
class Split:
    """One split: ``images`` uint8 ``(N, 48, 48, 1)``, ``labels`` int64 ``(N,)``."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> dict[str, int]:
        """Number of images per emotion, in label order."""
        counts = np.bincount(self.labels, minlength=len(EMOTIONS))
        return {name: int(n) for name, n in zip(EMOTIONS, counts)}


@dataclass(frozen=True)
class Dataset:
    """The splits found at ``source``, read from a ``layout`` ('folders', 'csv', 'zip/...', 'synthetic')."""

    splits: dict[str, Split]
    source: str
    layout: str
    from_cache: bool = field(default=False, compare=False)

    @property
    def is_synthetic(self) -> bool:
        return self.layout == "synthetic"

    @property
    def name(self) -> str:
        return "synthetic faces (offline default set)" if self.is_synthetic else "FER2013"

    def __getitem__(self, split: str) -> Split:
        if split not in self.splits:
            raise DataError(f"{self.source} has no split {split!r}; it has {sorted(self.splits)}.")
        return self.splits[split]

    def counts(self) -> dict[str, dict[str, int]]:
        """Per split, the number of images per emotion."""
        return {name: split.class_counts() for name, split in self.splits.items()}

    @property
    def train_split(self) -> str:
        """The split to train on."""
        return TRAIN if TRAIN in self.splits else sorted(self.splits)[0]

    @property
    def validation_split(self) -> str:
        """The split to tune on: PublicTest where there is one (as in the 2013 challenge)."""
        for name in (PUBLIC_TEST, TEST, PRIVATE_TEST):
            if name in self.splits:
                return name
        return self.train_split


# --------------------------------------------------------------------------- locating


def resolve_data_dir(path: str | os.PathLike | None = None) -> Path:
    """Where FER2013 should be: ``path``, else ``$FER2013_DIR``, else ``data/fer2013``."""
    if path is not None and str(path) != "":
        return Path(path).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return DEFAULT_DATA_DIR


def fer2013_available(path: str | os.PathLike | None = None) -> bool:
    """True when FER2013 (in any supported layout) is at :func:`resolve_data_dir`."""
    try:
        detect_layout(resolve_data_dir(path))
    except DataError:
        return False
    return True


# --------------------------------------------------------------------------- layout detection


@dataclass(frozen=True)
class _ImageEntry:
    split: str
    label: int
    name: str  # the path shown in messages


@dataclass(frozen=True)
class _Layout:
    kind: str  # 'folders', 'csv', 'zip/folders', 'zip/csv', 'npz'
    root: Path
    # for folder layouts: entries plus a function that returns the bytes of one
    entries: tuple[_ImageEntry, ...] = ()
    csv_member: str | None = None  # for zip/csv
    default_split: str | None = None  # for a CSV without a Usage column


def _split_of_folder(folder_name: str) -> str | None:
    return _FOLDER_TO_SPLIT.get(folder_name.lower())


def _split_of_file(folder_split: str, file_name: str) -> str:
    """A test folder may mix PublicTest_* and PrivateTest_* files: the prefix decides."""
    if folder_split in (TEST, PUBLIC_TEST, PRIVATE_TEST):
        for usage in ("PublicTest", "PrivateTest"):
            if file_name.startswith(usage + "_"):
                return USAGE_TO_SPLIT[usage]
    return folder_split


def _is_junk(name: str) -> bool:
    return name.startswith(".") or name.lower() in _JUNK_FILES or name == "__MACOSX"


def _is_class_folder(name: str) -> bool:
    return name.lower() in FOLDER_TO_LABEL


def _entries_from_tree(tree: dict[str, dict[str, list[str]]], join: Callable[..., str], root_name: str) -> list[_ImageEntry]:
    """``tree`` maps split folder -> class folder -> file names ('' = the root itself is one split).

    The split of an image comes from its split folder's last name, and in a ``test``
    folder from its file-name prefix (PublicTest_ / PrivateTest_).
    """
    entries: list[_ImageEntry] = []
    for split_folder, classes in sorted(tree.items()):
        folder_name = split_folder.rsplit("/", 1)[-1] or root_name
        folder_split = _split_of_folder(folder_name) or folder_name.lower()
        for class_folder, files in sorted(classes.items()):
            label = FOLDER_TO_LABEL[class_folder.lower()]
            for file_name in sorted(files):
                entries.append(
                    _ImageEntry(
                        split=_split_of_file(folder_split, file_name),
                        label=label,
                        name=join(*[p for p in (split_folder, class_folder, file_name) if p]),
                    )
                )
    return entries


def _scan_class_folders(folder: Path) -> dict[str, list[str]] | None:
    """Class folder -> image files, or None when ``folder`` holds no class folders."""
    subdirs = [d for d in folder.iterdir() if d.is_dir() and not _is_junk(d.name)]
    if not subdirs or not any(_is_class_folder(d.name) for d in subdirs):
        return None
    unknown = [d.name for d in subdirs if not _is_class_folder(d.name)]
    if unknown:
        raise DataError(
            f"{folder} mixes class folders with folders that are not FER2013 classes: {sorted(unknown)}. "
            f"Class folders must be named {', '.join(EMOTIONS)} (or 0-6). Move the others away."
        )
    return {
        d.name: [f.name for f in d.iterdir() if f.is_file() and not _is_junk(f.name)]
        for d in subdirs
    }


def _find_csv(folder: Path) -> Path | None:
    candidates = sorted(folder.glob("*.csv"))
    preferred = [c for c in candidates if c.name.lower() == "fer2013.csv"]
    return (preferred or candidates or [None])[0]


def detect_layout(root: Path) -> _Layout:
    """Work out which of the supported layouts ``root`` holds; raise :class:`DataError` if none."""
    root = Path(root)
    if not root.exists():
        raise DataError(f"No data set at {root}: the path does not exist.\n{HOW_TO_GET_FER2013}")
    if root.is_file():
        if root.suffix.lower() == ".csv":
            return _Layout("csv", root, default_split=_split_of_folder(root.stem) or TRAIN)
        if root.suffix.lower() == ".zip":
            return _detect_zip_layout(root)
        if root.suffix.lower() == ".npz":
            return _Layout("npz", root)
        raise DataError(
            f"{root} is a file but neither a .csv, a .zip nor a packed .npz (python -m utils.data pack). Give the folder of FER2013, "
            f"its fer2013.csv, or the .zip you downloaded.\n{HOW_TO_GET_FER2013}"
        )

    one_split = _scan_class_folders(root)
    if one_split is not None:
        entries = _entries_from_tree({"": one_split}, lambda *p: str(Path(root, *p)), root.name)
        return _Layout("folders", root, entries=tuple(entries))

    tree: dict[str, dict[str, list[str]]] = {}
    for sub in sorted(d for d in root.iterdir() if d.is_dir() and not _is_junk(d.name)):
        classes = _scan_class_folders(sub)
        if classes is not None:
            tree[sub.name] = classes
    if tree:
        entries = _entries_from_tree(tree, lambda *p: str(Path(root, *p)), root.name)
        return _Layout("folders", root, entries=tuple(entries))

    csv_path = _find_csv(root)
    if csv_path is not None:
        return _Layout("csv", csv_path, default_split=_split_of_folder(csv_path.stem) or TRAIN)
    zips = sorted(root.glob("*.zip"))
    if len(zips) == 1:
        return _detect_zip_layout(zips[0])
    contents = [p for p in root.iterdir() if not _is_junk(p.name)]
    if len(contents) == 1 and contents[0].is_dir():
        # A download unzipped into a folder of its own name: look one level down.
        return detect_layout(contents[0])
    found = sorted(p.name for p in root.iterdir() if not _is_junk(p.name))[:12]
    raise DataError(
        f"{root} is not a FER2013 layout the course knows. Found: {found or 'an empty folder'}.\n"
        "Expected one of: train/<class>/*.jpg and test/<class>/*.jpg folders; a folder of "
        f"class folders ({', '.join(EMOTIONS)}); fer2013.csv (emotion,pixels,Usage); "
        f"or a .zip of one of these.\n{HOW_TO_GET_FER2013}"
    )


def _detect_zip_layout(path: Path) -> _Layout:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as error:
        raise DataError(f"{path} is not a readable .zip file ({error}). Download it again.") from error
    names = [n for n in names if not any(_is_junk(part) for part in n.split("/"))]
    tree: dict[str, dict[str, list[str]]] = {}  # split folder path -> class folder -> files
    for name in names:
        parts = name.split("/")
        if len(parts) >= 2 and _is_class_folder(parts[-2]):
            tree.setdefault("/".join(parts[:-2]), {}).setdefault(parts[-2], []).append(parts[-1])
    if tree:
        entries = _entries_from_tree(tree, lambda *parts: "/".join(parts), path.stem)
        return _Layout("zip/folders", path, entries=tuple(entries))
    csvs = sorted(n for n in names if n.lower().endswith(".csv"))
    if csvs:
        preferred = [c for c in csvs if c.rsplit("/", 1)[-1].lower() == "fer2013.csv"]
        member = (preferred or csvs)[0]
        stem = member.rsplit("/", 1)[-1][:-4]
        return _Layout("zip/csv", path, csv_member=member, default_split=_split_of_folder(stem) or TRAIN)
    raise DataError(
        f"{path} holds neither class folders of images nor a fer2013.csv "
        f"(first entries: {names[:8]}).\n{HOW_TO_GET_FER2013}"
    )


# --------------------------------------------------------------------------- decoding


def _decode_images(entries: Sequence[_ImageEntry], read: Callable[[str], bytes], progress: bool) -> np.ndarray:
    """Decode every entry to a 48x48 grayscale image; report every bad file, never drop one."""
    import cv2

    images = np.empty((len(entries), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    problems: list[str] = []

    def decode(i: int) -> None:
        entry = entries[i]
        try:
            data = np.frombuffer(read(entry.name), dtype=np.uint8)
        except OSError as error:
            problems.append(f"{entry.name}: cannot be read ({error})")
            return
        image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
        if image is None:
            problems.append(f"{entry.name}: not a readable image (corrupt or not an image file)")
        elif image.shape != (IMAGE_SIZE, IMAGE_SIZE):
            problems.append(f"{entry.name}: size {image.shape[1]}x{image.shape[0]}, expected 48x48")
        else:
            images[i] = image

    indices: Iterable[int] = range(len(entries))
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
        results = pool.map(decode, indices, chunksize=256)
        if progress:
            from tqdm.auto import tqdm

            results = tqdm(results, total=len(entries), desc="Decoding FER2013 images", unit="img")
        for _ in results:
            pass
    if problems:
        shown = "\n  ".join(sorted(problems)[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise DataError(
            f"{len(problems)} of {len(entries)} images cannot be used:\n  {shown}{more}\n"
            "Every image must be a readable 48x48 image. Replace or remove these files "
            "(or download the data set again), then load again."
        )
    return images[..., np.newaxis]


def _splits_from_entries(entries: Sequence[_ImageEntry], images: np.ndarray) -> dict[str, Split]:
    split_names = np.array([e.split for e in entries])
    labels = np.array([e.label for e in entries], dtype=np.int64)
    return {
        name: Split(images[split_names == name], labels[split_names == name])
        for name in sorted(set(split_names.tolist()))
    }


def _parse_csv(table, source: str, default_split: str) -> dict[str, Split]:
    """Rows of ``emotion,pixels[,Usage]`` to splits, checking every row."""
    columns = [str(c).strip() for c in table.columns]
    table.columns = columns
    missing = [c for c in _CSV_COLUMNS if c not in columns]
    if missing:
        raise DataError(
            f"{source} has columns {columns}, but a FER2013 CSV needs 'emotion' and 'pixels' "
            "(and usually 'Usage'). Is this the right file? The original is fer2013.csv "
            "with the header emotion,pixels,Usage."
        )
    emotions = table["emotion"].to_numpy()
    if not np.issubdtype(emotions.dtype, np.integer) or emotions.min(initial=0) < 0 or emotions.max(initial=0) > 6:
        bad = [i + 2 for i, e in enumerate(table["emotion"].tolist()) if str(e).strip() not in {str(k) for k in range(7)}]
        raise DataError(f"{source}: the 'emotion' column must hold labels 0-6; bad rows (line numbers): {bad[:10]}.")
    pixels = table["pixels"].astype(str).str.strip()
    lengths = pixels.str.count(" ").to_numpy() + 1
    wrong = np.flatnonzero(lengths != IMAGE_SIZE * IMAGE_SIZE)
    if wrong.size:
        lines = (wrong[:10] + 2).tolist()
        raise DataError(
            f"{source}: {wrong.size} rows do not hold 48x48 = 2304 pixel values "
            f"(line numbers {lines}, first has {int(lengths[wrong[0]])} values). "
            "The file is damaged or not FER2013; download it again."
        )
    try:
        values = np.array(" ".join(pixels.tolist()).split(), dtype=np.int64)
    except ValueError as error:
        raise DataError(f"{source}: the 'pixels' column holds something that is not a number ({error}).") from error
    if values.min(initial=0) < 0 or values.max(initial=0) > 255:
        raise DataError(f"{source}: pixel values must lie in 0-255; found {values.min()}..{values.max()}.")
    images = values.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)
    labels = emotions.astype(np.int64)
    if "Usage" in columns:
        usage = table["Usage"].astype(str).str.strip().to_numpy()
        unknown = sorted(set(usage.tolist()) - set(USAGE_TO_SPLIT))
        if unknown:
            raise DataError(f"{source}: unknown Usage values {unknown}; expected {sorted(USAGE_TO_SPLIT)}.")
        split_names = np.array([USAGE_TO_SPLIT[u] for u in usage])
    else:
        split_names = np.full(len(table), default_split)
    return {
        name: Split(images[split_names == name], labels[split_names == name])
        for name in sorted(set(split_names.tolist()))
    }


def _read_csv(source, name: str):
    import pandas as pd

    try:
        return pd.read_csv(source, dtype={"pixels": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{name} cannot be read as CSV ({error}). Is it the FER2013 CSV?") from error


def _read_layout(layout: _Layout, progress: bool) -> dict[str, Split]:
    if layout.kind == "npz":
        return _read_packed(layout.root)
    if layout.kind == "csv":
        return _parse_csv(_read_csv(layout.root, str(layout.root)), str(layout.root), layout.default_split or TRAIN)
    if layout.kind == "folders":
        def read(name: str) -> bytes:
            return Path(name).read_bytes()

        return _splits_from_entries(layout.entries, _decode_images(layout.entries, read, progress))
    with zipfile.ZipFile(layout.root) as archive:
        if layout.kind == "zip/csv":
            with archive.open(layout.csv_member) as handle:
                table = _read_csv(io.TextIOWrapper(handle, encoding="utf-8"), f"{layout.root}:{layout.csv_member}")
            return _parse_csv(table, f"{layout.root}:{layout.csv_member}", layout.default_split or TRAIN)
        # ZipFile is not safe for concurrent reads: read the bytes serially, decode in threads.
        members = {entry.name: archive.read(entry.name) for entry in layout.entries}
    images = _decode_images(layout.entries, members.__getitem__, progress)
    return _splits_from_entries(layout.entries, images)


def _read_packed(path: Path) -> dict[str, Split]:
    """A file written by :func:`pack`: ``<split>__images`` (N, 48, 48, 1) uint8 and ``<split>__labels``."""
    splits = _load_cache(path)
    if not splits:
        raise DataError(f"{path} is not a packed FER2013 file (python -m utils.data pack writes one) or it is damaged.")
    for name, split in splits.items():
        if split.images.dtype != np.uint8 or split.images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 1):
            raise DataError(f"{path}: split {name!r} holds images of shape {split.images.shape[1:]} and dtype "
                            f"{split.images.dtype}; a packed file holds uint8 48x48x1 faces.")
        if len(split.labels) != len(split.images) or (len(split.labels) and split.labels.max() >= len(EMOTIONS)):
            raise DataError(f"{path}: split {name!r} has {len(split.images)} images but labels that do not match.")
    return splits


def pack(dataset: Dataset, destination: str | os.PathLike) -> Path:
    """Write every split of ``dataset`` into one compressed ``.npz`` (to carry FER2013 to another machine).

    ``load_fer2013(destination)`` reads it back with the same splits; an existing file is never overwritten.
    """
    destination = Path(destination)
    if destination.suffix != ".npz":
        raise DataError(f"{destination}: a packed data set must end in .npz")
    if destination.exists():
        raise DataError(f"{destination} exists already; nothing was written. Choose another --out.")
    arrays = {}
    for name, split in dataset.splits.items():
        arrays[f"{name}__images"], arrays[f"{name}__labels"] = split.images, split.labels
    destination.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(destination, **arrays)
    return destination


# --------------------------------------------------------------------------- caching


def _fingerprint(layout: _Layout) -> str:
    """Changes whenever a file of the data set is added, removed or modified."""
    digest = hashlib.sha256(f"{_CACHE_FORMAT}|{layout.kind}|{layout.root.resolve()}".encode())
    stat = layout.root.stat()
    if layout.kind == "folders":
        for entry in layout.entries:
            s = os.stat(entry.name)
            digest.update(f"{entry.name}|{s.st_size}|{s.st_mtime_ns}\n".encode())
    else:
        digest.update(f"{stat.st_size}|{stat.st_mtime_ns}|{layout.csv_member}".encode())
    return digest.hexdigest()[:24]


def _cache_path(cache_dir: Path, fingerprint: str) -> Path:
    return cache_dir / f"fer2013-{fingerprint}.npz"


def _load_cache(path: Path) -> dict[str, Split] | None:
    try:
        with np.load(path) as archive:
            names = sorted({key.rsplit("__", 1)[0] for key in archive.files})
            return {n: Split(archive[f"{n}__images"], archive[f"{n}__labels"]) for n in names}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None  # a damaged cache is rebuilt, never trusted


def _save_cache(path: Path, splits: dict[str, Split]) -> None:
    arrays = {}
    for name, split in splits.items():
        arrays[f"{name}__images"] = split.images
        arrays[f"{name}__labels"] = split.labels
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez(temporary, **arrays)
        os.replace(temporary, path)
    except OSError as error:  # a read-only cache folder only costs speed
        print(f"note: could not write the cache {path} ({error}); the next load will decode again.", file=sys.stderr)


# --------------------------------------------------------------------------- public loaders


def load_fer2013(
    path: str | os.PathLike | None = None,
    *,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> Dataset:
    """Load FER2013 from ``path`` (or ``$FER2013_DIR``, or ``data/fer2013``) in any supported layout.

    Raises :class:`DataError` with what to do when nothing usable is there.
    """
    root = resolve_data_dir(path)
    layout = detect_layout(root)
    cache_file = None
    if cache and layout.kind != "npz":  # a packed file is as fast to read as its cache would be
        cache_file = _cache_path(Path(cache_dir) if cache_dir else DEFAULT_CACHE_DIR, _fingerprint(layout))
        if cache_file.exists():
            splits = _load_cache(cache_file)
            if splits is not None:
                return Dataset(splits, str(root), layout.kind, from_cache=True)
    splits = _read_layout(layout, progress)
    if not splits or not sum(len(s) for s in splits.values()):
        raise DataError(f"{root} holds no images.\n{HOW_TO_GET_FER2013}")
    if cache_file is not None:
        _save_cache(cache_file, splits)
    return Dataset(splits, str(root), layout.kind)


def load_synthetic(train_size: int = 3500, validation_size: int = 700, seed: int = 2013) -> Dataset:
    """The offline default data set: synthetic faces, FER2013's split names and class balance."""
    from utils.synthetic import make_faces

    train_images, train_labels = make_faces(train_size, seed=seed)
    val_images, val_labels = make_faces(validation_size, seed=seed + 1)
    splits = {TRAIN: Split(train_images, train_labels), PUBLIC_TEST: Split(val_images, val_labels)}
    return Dataset(splits, f"utils.synthetic (seed {seed})", "synthetic")


def load_course_data(path: str | os.PathLike | None = None, *, verbose: bool = True, **kwargs) -> Dataset:
    """FER2013 when it is there (see :func:`load_fer2013`), else the offline synthetic set.

    Says which one it is, so a student never mistakes synthetic faces for the real thing.
    A FER2013 that is there but broken raises its :class:`DataError`, it is not papered over.
    """
    root = resolve_data_dir(path)
    if root.exists():
        dataset = load_fer2013(root, **kwargs)
    else:
        dataset = load_synthetic()
    if verbose:
        print(describe(dataset))
    return dataset


def describe(dataset: Dataset) -> str:
    """One paragraph: which data set this is, from where, and its split sizes."""
    sizes = ", ".join(f"{name}: {len(split):,}" for name, split in dataset.splits.items())
    if dataset.is_synthetic:
        return (
            "Using the OFFLINE DEFAULT DATA SET: synthetic faces made by utils.synthetic, "
            f"because FER2013 was not found at {resolve_data_dir()} ({sizes}).\n"
            f"To use the real faces, set {ENV_VAR} or run `python -m utils.data download`."
        )
    cached = ", from cache" if dataset.from_cache else ""
    return f"Using FER2013 from {dataset.source} ({dataset.layout}{cached}; {sizes})."


# --------------------------------------------------------------------------- command line


def _info(args: argparse.Namespace) -> int:
    root = resolve_data_dir(args.data)
    dataset = load_fer2013(root, progress=not args.json)
    counts = dataset.counts()
    if args.json:
        print(json.dumps({
            "path": str(root), "layout": dataset.layout, "emotions": list(EMOTIONS),
            "splits": counts, "total": sum(len(s) for s in dataset.splits.values()),
        }))
        return 0
    import pandas as pd

    table = pd.DataFrame(counts).reindex(list(EMOTIONS)).fillna(0).astype(int)
    table.loc["total"] = table.sum()
    print(f"FER2013 at {root}\nlayout: {dataset.layout}{' (read from cache)' if dataset.from_cache else ''}\n")
    print(table.to_string())
    return 0


def _download(args: argparse.Namespace) -> int:
    import shutil
    import socket

    destination = Path(args.dest).expanduser()
    if destination.exists() and any(destination.iterdir()):
        print(f"{destination} already holds files; nothing was downloaded or overwritten. "
              "Choose another --dest or remove it yourself.", file=sys.stderr)
        return 2
    try:
        socket.create_connection(("www.kaggle.com", 443), timeout=5).close()
    except OSError as error:
        print(f"Cannot reach www.kaggle.com ({error}): no network?\n{HOW_TO_GET_FER2013}", file=sys.stderr)
        return 2
    try:
        import kagglehub
    except ImportError:
        print("The download needs the kagglehub client: `pip install kagglehub`.\n" + HOW_TO_GET_FER2013, file=sys.stderr)
        return 2
    try:
        downloaded = Path(kagglehub.dataset_download(args.dataset))
    except Exception as error:  # the client raises many kinds; all mean the same to a user
        print(f"The download of {args.dataset} failed: {error}\n{HOW_TO_GET_FER2013}", file=sys.stderr)
        return 2
    shutil.copytree(downloaded, destination, dirs_exist_ok=True)
    print(f"FER2013 is now at {destination}.")
    if destination.resolve() != DEFAULT_DATA_DIR.resolve():
        print(f"Point the course at it: export {ENV_VAR}={destination}")
    return 0


def _synthetic(args: argparse.Namespace) -> int:
    """Write the synthetic set in FER2013's image-folder layout (useful to test tools on it)."""
    from utils.synthetic import write_image_folders

    destination = Path(args.out)
    if destination.exists() and any(destination.iterdir()):
        print(f"{destination} is not empty; nothing was written. Choose an empty --out.", file=sys.stderr)
        return 2
    write_image_folders(destination, train_size=args.train, test_size=args.test, seed=args.seed)
    print(f"Wrote {args.train} train and {args.test} test synthetic faces to {destination}.")
    return 0


def _pack(args: argparse.Namespace) -> int:
    """Write FER2013 (or any supported layout) into one compressed .npz file."""
    dataset = load_fer2013(args.data, progress=sys.stderr.isatty())
    out = pack(dataset, args.out)
    print(f"Wrote {describe(dataset).splitlines()[0]} to {out} ({out.stat().st_size / 1e6:.1f} MB).")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.data", description="The course's data sets.")
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser("info", help="what FER2013 the course finds: layout, splits, per-class counts")
    info.add_argument("--data", help=f"data set path (default: ${ENV_VAR}, else {DEFAULT_DATA_DIR})")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(run=_info)
    download = commands.add_parser("download", help="download FER2013 from Kaggle with kagglehub")
    download.add_argument("--dest", default=str(DEFAULT_DATA_DIR), help="where to put it (must be empty)")
    download.add_argument("--dataset", default="msambare/fer2013", help="Kaggle data set handle")
    download.set_defaults(run=_download)
    synthetic = commands.add_parser("synthetic", help="write the offline synthetic faces as image folders")
    synthetic.add_argument("--out", required=True)
    synthetic.add_argument("--train", type=int, default=3500)
    synthetic.add_argument("--test", type=int, default=700)
    synthetic.add_argument("--seed", type=int, default=2013)
    synthetic.set_defaults(run=_synthetic)
    packed = commands.add_parser("pack", help="write the data set into one compressed .npz (to carry it elsewhere)")
    packed.add_argument("--data", help=f"data set path (default: ${ENV_VAR}, else {DEFAULT_DATA_DIR})")
    packed.add_argument("--out", required=True, help="the .npz file to write (must not exist)")
    packed.set_defaults(run=_pack)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CourseError as error:  # DataError, or an ImageError of the synthetic writer
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
