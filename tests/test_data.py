"""utils.data: every FER2013 format on small fixtures, the real copy, caching, bad input."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from utils import data
from utils.data import EMOTIONS, DataError, load_fer2013

# --------------------------------------------------------------------------- fixture builders


def write_folders(root: Path, images: np.ndarray, labels: np.ndarray, split_dir: str, prefix: str, ext: str = ".png") -> None:
    """Write images as ``root/split_dir/<class>/<prefix>_<i><ext>`` (FER2013's image-folder layout)."""
    for i, (image, label) in enumerate(zip(images, labels)):
        folder = root / split_dir / EMOTIONS[label] if split_dir else root / EMOTIONS[label]
        folder.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(folder / f"{prefix}_{i:05d}{ext}"), image[..., 0])


def write_csv(path: Path, parts: list[tuple[np.ndarray, np.ndarray, str]]) -> None:
    """Write fer2013.csv: ``emotion,pixels,Usage`` rows."""
    lines = ["emotion,pixels,Usage"]
    for images, labels, usage in parts:
        for image, label in zip(images, labels):
            lines.append(f"{label},{' '.join(map(str, image.ravel().tolist()))},{usage}")
    path.write_text("\n".join(lines) + "\n")


def zip_folder(folder: Path, zip_path: Path, prefix: str = "") -> None:
    with zipfile.ZipFile(zip_path, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(folder).as_posix())


@pytest.fixture
def three_splits(small_faces):
    images, labels = small_faces
    return (images[:42], labels[:42]), (images[42:56], labels[42:56]), (images[56:], labels[56:])


def assert_split_equal(split: data.Split, images: np.ndarray, labels: np.ndarray) -> None:
    """Same multiset of (image, label) pairs: the loader may order files differently."""
    assert split.images.dtype == np.uint8 and split.images.shape == (len(labels), 48, 48, 1)
    assert split.labels.dtype == np.int64
    def key(imgs, labs):
        return sorted((int(l), img.tobytes()) for img, l in zip(imgs, labs))
    assert key(split.images, split.labels) == key(images, labels)


# --------------------------------------------------------------------------- formats


def test_emotions_are_in_fer2013_label_order():
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert [data.FOLDER_TO_LABEL[name] for name in EMOTIONS] == list(range(7))
    assert data.FOLDER_TO_LABEL["surprised"] == 5 and data.FOLDER_TO_LABEL["3"] == 3


def test_image_folders_with_mixed_public_and_private_test(tmp_path, three_splits):
    (train_x, train_y), (pub_x, pub_y), (priv_x, priv_y) = three_splits
    write_folders(tmp_path, train_x, train_y, "train", "Training")
    write_folders(tmp_path, pub_x, pub_y, "test", "PublicTest")
    write_folders(tmp_path, priv_x, priv_y, "test", "PrivateTest")
    dataset = load_fer2013(tmp_path, cache=False, progress=False)
    assert dataset.layout == "folders"
    assert set(dataset.splits) == {"train", "public_test", "private_test"}
    assert_split_equal(dataset["train"], train_x, train_y)
    assert_split_equal(dataset["public_test"], pub_x, pub_y)
    assert_split_equal(dataset["private_test"], priv_x, priv_y)
    assert dataset.validation_split == "public_test"


def test_jpeg_folders_and_a_root_holding_only_test(tmp_path, three_splits):
    _, (pub_x, pub_y), _ = three_splits
    write_folders(tmp_path, pub_x, pub_y, "test", "PublicTest", ext=".jpg")
    dataset = load_fer2013(tmp_path, cache=False, progress=False)
    assert list(dataset.splits) == ["public_test"]
    assert len(dataset["public_test"]) == len(pub_y)
    np.testing.assert_array_equal(np.sort(dataset["public_test"].labels), np.sort(pub_y))
    # JPEG is lossy: pixels come back close, not equal
    assert dataset["public_test"].images.dtype == np.uint8


def test_a_folder_of_class_folders_is_one_split(tmp_path, three_splits):
    (train_x, train_y), _, _ = three_splits
    write_folders(tmp_path / "mine", train_x, train_y, "", "face")
    dataset = load_fer2013(tmp_path / "mine", cache=False, progress=False)
    assert list(dataset.splits) == ["mine"]
    assert_split_equal(dataset["mine"], train_x, train_y)
    # the same folder, named train, is the train split
    shutil.copytree(tmp_path / "mine", tmp_path / "train")
    assert list(load_fer2013(tmp_path / "train", cache=False, progress=False).splits) == ["train"]


def test_csv_with_usage_column(tmp_path, three_splits):
    (train_x, train_y), (pub_x, pub_y), (priv_x, priv_y) = three_splits
    write_csv(tmp_path / "fer2013.csv", [(train_x, train_y, "Training"), (pub_x, pub_y, "PublicTest"), (priv_x, priv_y, "PrivateTest")])
    for path in (tmp_path, tmp_path / "fer2013.csv"):  # the folder holding it, or the file
        dataset = load_fer2013(path, cache=False, progress=False)
        assert dataset.layout == "csv"
        assert set(dataset.splits) == {"train", "public_test", "private_test"}
        # CSV is lossless and keeps row order
        np.testing.assert_array_equal(dataset["train"].images, train_x)
        np.testing.assert_array_equal(dataset["train"].labels, train_y)
        np.testing.assert_array_equal(dataset["private_test"].images, priv_x)


def test_zip_of_folders_and_zip_of_csv(tmp_path, three_splits):
    (train_x, train_y), (pub_x, pub_y), _ = three_splits
    folders = tmp_path / "folders"
    write_folders(folders, train_x, train_y, "train", "Training")
    write_folders(folders, pub_x, pub_y, "test", "PublicTest")
    zip_folder(folders, tmp_path / "fer2013.zip", prefix="fer2013/")
    dataset = load_fer2013(tmp_path / "fer2013.zip", cache=False, progress=False)
    assert dataset.layout == "zip/folders"
    assert_split_equal(dataset["train"], train_x, train_y)
    assert_split_equal(dataset["public_test"], pub_x, pub_y)

    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    write_csv(csv_dir / "fer2013.csv", [(train_x, train_y, "Training"), (pub_x, pub_y, "PublicTest")])
    zip_folder(csv_dir, tmp_path / "csv.zip")
    dataset = load_fer2013(tmp_path / "csv.zip", cache=False, progress=False)
    assert dataset.layout == "zip/csv"
    np.testing.assert_array_equal(dataset["public_test"].images, pub_x)
    np.testing.assert_array_equal(dataset["public_test"].labels, pub_y)


def test_cache_hit_returns_identical_arrays_and_notices_changes(tmp_path, three_splits):
    (train_x, train_y), (pub_x, pub_y), _ = three_splits
    root, cache = tmp_path / "fer", tmp_path / "cache"
    write_folders(root, train_x, train_y, "train", "Training")
    write_folders(root, pub_x, pub_y, "test", "PublicTest")
    first = load_fer2013(root, cache_dir=cache, progress=False)
    second = load_fer2013(root, cache_dir=cache, progress=False)
    assert not first.from_cache and second.from_cache
    for name in first.splits:
        np.testing.assert_array_equal(first[name].images, second[name].images)
        np.testing.assert_array_equal(first[name].labels, second[name].labels)
    # a file removed from the data set must not be served from a stale cache
    next((root / "train" / "happy").iterdir()).unlink()
    third = load_fer2013(root, cache_dir=cache, progress=False)
    assert not third.from_cache and len(third["train"]) == len(train_y) - 1


def test_location_comes_from_argument_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FER2013_DIR", str(tmp_path / "from-env"))
    assert data.resolve_data_dir() == tmp_path / "from-env"
    assert data.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("FER2013_DIR")
    assert data.resolve_data_dir() == data.DEFAULT_DATA_DIR


# --------------------------------------------------------------------------- the real copy


@pytest.mark.slow
def test_shared_fer2013_has_the_published_counts(shared_fer2013, tmp_path):
    dataset = load_fer2013(shared_fer2013, progress=False)
    assert len(dataset["train"]) == 28709
    assert len(dataset["public_test"]) == 3589
    assert dataset["train"].class_counts() == {
        "angry": 3995, "disgust": 436, "fear": 4097, "happy": 7215, "sad": 4830, "surprise": 3171, "neutral": 4965}
    assert dataset["public_test"].class_counts() == {
        "angry": 467, "disgust": 56, "fear": 496, "happy": 895, "sad": 653, "surprise": 415, "neutral": 607}
    assert dataset["train"].images.shape == (28709, 48, 48, 1)


@pytest.mark.slow
def test_info_command_json_on_shared_fer2013(shared_fer2013):
    result = subprocess.run([sys.executable, "-m", "utils.data", "info", "--data", str(shared_fer2013), "--json"],
                            capture_output=True, text=True, check=True)
    report = json.loads(result.stdout)
    assert report["layout"] == "folders"
    assert sum(report["splits"]["train"].values()) == 28709
    assert report["splits"]["public_test"]["disgust"] == 56


# --------------------------------------------------------------------------- bad input


def test_missing_directory_says_how_to_get_the_data(tmp_path):
    with pytest.raises(DataError, match="does not exist") as error:
        load_fer2013(tmp_path / "nowhere", cache=False)
    assert "FER2013_DIR" in str(error.value) and str(tmp_path / "nowhere") in str(error.value)


def test_unknown_layout_names_what_was_found(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="not a FER2013 layout") as error:
        load_fer2013(tmp_path, cache=False)
    assert "notes.txt" in str(error.value)


def test_unknown_class_folder_is_refused(tmp_path, small_faces):
    images, labels = small_faces
    write_folders(tmp_path, images[:7], labels[:7], "train", "Training")
    (tmp_path / "train" / "contempt").mkdir()
    with pytest.raises(DataError, match="contempt"):
        load_fer2013(tmp_path, cache=False)


def test_csv_with_wrong_columns(tmp_path):
    (tmp_path / "faces.csv").write_text("label,image\n0,1 2 3\n")
    with pytest.raises(DataError, match="'emotion' and 'pixels'"):
        load_fer2013(tmp_path / "faces.csv", cache=False)


def test_csv_with_wrong_number_of_pixels(tmp_path, small_faces):
    images, labels = small_faces
    write_csv(tmp_path / "fer2013.csv", [(images[:3], labels[:3], "Training")])
    lines = (tmp_path / "fer2013.csv").read_text().splitlines()
    lines[2] = lines[2].replace(" 0 ", " ", 1) if " 0 " in lines[2] else lines[2].split(",")[0] + ",1 2 3,Training"
    (tmp_path / "fer2013.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="2304 pixel values"):
        load_fer2013(tmp_path / "fer2013.csv", cache=False)


def test_wrong_image_size_and_corrupt_images_are_reported_by_path(tmp_path, small_faces):
    images, labels = small_faces
    write_folders(tmp_path, images[:14], labels[:14], "train", "Training")
    big = tmp_path / "train" / "happy" / "Training_big.png"
    cv2.imwrite(str(big), np.zeros((64, 64), np.uint8))
    corrupt = tmp_path / "train" / "sad" / "Training_corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    with pytest.raises(DataError) as error:
        load_fer2013(tmp_path, cache=False, progress=False)
    message = str(error.value)
    assert "2 of 16 images cannot be used" in message
    assert str(big) in message and "64x64, expected 48x48" in message
    assert str(corrupt) in message and "not a readable image" in message


def test_corrupt_zip(tmp_path):
    (tmp_path / "fer2013.zip").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="not a readable .zip"):
        load_fer2013(tmp_path / "fer2013.zip", cache=False)


def test_info_command_fails_with_a_clear_message(tmp_path):
    result = subprocess.run([sys.executable, "-m", "utils.data", "info", "--data", str(tmp_path / "missing")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_download_without_network_fails_fast_with_instructions(tmp_path, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", no_network)
    assert data.main(["download", "--dest", str(tmp_path / "fer")]) == 2


def test_download_never_overwrites(tmp_path, capsys):
    (tmp_path / "fer").mkdir()
    (tmp_path / "fer" / "mine.txt").write_text("keep me")
    assert data.main(["download", "--dest", str(tmp_path / "fer")]) == 2
    assert (tmp_path / "fer" / "mine.txt").read_text() == "keep me"
    assert "nothing was downloaded or overwritten" in capsys.readouterr().err


# --------------------------------------------------------------------------- fallback


def test_course_data_falls_back_to_synthetic_and_says_so(tmp_path, capsys):
    dataset = data.load_course_data(tmp_path / "no-fer2013-here")
    assert dataset.is_synthetic
    assert "OFFLINE DEFAULT DATA SET" in capsys.readouterr().out
    assert set(dataset.splits) == {"train", "public_test"}
    assert all(count > 0 for count in dataset["train"].class_counts().values())


def test_course_data_uses_fer2013_when_present(tmp_path, small_faces, capsys):
    images, labels = small_faces
    write_folders(tmp_path, images, labels, "train", "Training")
    dataset = data.load_course_data(tmp_path, cache=False, progress=False)
    assert not dataset.is_synthetic and "Using FER2013" in capsys.readouterr().out


def test_synthetic_command_writes_a_loadable_folder_layout(tmp_path):
    assert data.main(["synthetic", "--out", str(tmp_path / "synth"), "--train", "21", "--test", "14"]) == 0
    dataset = load_fer2013(tmp_path / "synth", cache=False, progress=False)
    assert len(dataset["train"]) == 21 and len(dataset["public_test"]) == 14


def test_download_copies_what_the_client_fetched(tmp_path, monkeypatch):
    """The happy path, with the network and the Kaggle client replaced by fakes."""
    import socket
    import types

    fetched = tmp_path / "kagglehub-cache"
    write_folders(fetched, *make_small(), "train", "Training")

    class FakeConnection:
        def close(self):
            pass

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: FakeConnection())
    monkeypatch.setitem(sys.modules, "kagglehub", types.SimpleNamespace(dataset_download=lambda handle: str(fetched)))
    destination = tmp_path / "fer2013"
    assert data.main(["download", "--dest", str(destination)]) == 0
    assert len(load_fer2013(destination, cache=False, progress=False)["train"]) == 14


def make_small():
    from utils.synthetic import make_faces

    return make_faces(14, seed=1, balanced=True)


def test_pack_writes_one_file_that_loads_back_with_the_same_splits(tmp_path):
    from utils.data import load_synthetic, pack

    dataset = load_synthetic(train_size=70, validation_size=35)
    packed = pack(dataset, tmp_path / "faces.npz")
    again = load_fer2013(packed)
    assert again.layout == "npz" and sorted(again.splits) == sorted(dataset.splits)
    for name, split in dataset.splits.items():
        assert (again[name].images == split.images).all() and (again[name].labels == split.labels).all()
    with pytest.raises(DataError, match="exists already"):
        pack(dataset, packed)
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a packed FER2013 file"):
        load_fer2013(tmp_path / "broken.npz")
