"""utils.images: reading, colour orders, grayscale, and the face pipeline of lessons 01 and 04."""

import cv2
import numpy as np
import pytest

from utils import images
from utils.images import FaceBox, ImageError, NoFaceFoundError


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return images.load_sample_photo()


@pytest.fixture(scope="module")
def two_people(photo) -> np.ndarray:
    """Two portraits side by side (the second mirrored): a photo with two faces."""
    return np.hstack([photo, photo[:, ::-1]])


# --------------------------------------------------------------------------- reading


def test_sample_photo_is_bgr_uint8(photo):
    assert photo.shape == (600, 512, 3) and photo.dtype == np.uint8
    assert np.array_equal(photo, cv2.imread(str(images.sample_photo_path())))
    # skin is reddish: in BGR order the last channel is the largest on the cheek
    b, g, r = photo[230, 266].astype(int)
    assert r > g > b


def test_missing_file_says_so(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        images.read_image(tmp_path / "nothing.jpg")


def test_unreadable_and_empty_files_say_so(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a JPEG")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    for path in (broken, empty):
        with pytest.raises(ImageError, match="not a readable image"):
            images.read_image(path)
    with pytest.raises(ImageError, match="folder"):
        images.read_image(tmp_path)


def test_non_ascii_path_is_read(tmp_path, photo):
    path = tmp_path / "fotografie_ăîșț.png"
    ok, encoded = cv2.imencode(".png", photo)
    path.write_bytes(encoded.tobytes())
    assert np.array_equal(images.read_image(path), photo)


# --------------------------------------------------------------------------- colour


def test_colour_conversions_equal_opencv(photo):
    assert np.array_equal(images.bgr_to_rgb(photo), cv2.cvtColor(photo, cv2.COLOR_BGR2RGB))
    assert np.array_equal(images.to_gray(photo), cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    gray = images.to_gray(photo)
    assert images.to_gray(gray) is gray
    assert np.array_equal(images.to_gray(gray[..., np.newaxis]), gray)


def test_gray_is_the_bt601_weighted_sum(photo):
    b, g, r = (photo[..., i].astype(np.float64) for i in range(3))
    exact = np.round(0.299 * r + 0.587 * g + 0.114 * b)
    assert np.abs(images.to_gray(photo) - exact).max() <= 1  # OpenCV uses fixed-point arithmetic


@pytest.mark.parametrize("bad, message", [
    (np.zeros((4, 4, 3), np.float32), "uint8"),
    (np.zeros((4, 4, 3), np.int64), "uint8"),
    (np.zeros((4, 4, 4), np.uint8), "shape"),
    (np.zeros(16, np.uint8), "shape"),
    ([[0, 1], [2, 3]], "numpy array"),
])
def test_bad_arrays_get_a_clear_error(bad, message):
    for function in (images.bgr_to_rgb, images.to_gray, images.preprocess_face, images.detect_faces, images.faces_from_photo):
        with pytest.raises(ImageError, match=message):
            function(bad)


def test_bgr_to_rgb_needs_colour():
    with pytest.raises(ImageError, match="shape"):
        images.bgr_to_rgb(np.zeros((4, 4), np.uint8))


# --------------------------------------------------------------------------- boxes and crops


def test_facebox_margin_is_clamped_at_every_border():
    shape = (100, 80)
    assert FaceBox(10, 20, 30, 40).expanded(0.0, shape) == FaceBox(10, 20, 30, 40)
    assert FaceBox(10, 20, 30, 40).expanded(0.25, shape) == FaceBox(2, 10, 46, 60)
    assert FaceBox(0, 0, 20, 20).expanded(0.5, shape) == FaceBox(0, 0, 30, 30)
    assert FaceBox(70, 90, 10, 10).expanded(1.0, shape) == FaceBox(60, 80, 20, 20)
    assert FaceBox(-5, -5, 200, 200).expanded(0.0, shape) == FaceBox(0, 0, 80, 100)
    with pytest.raises(ImageError, match="margin"):
        FaceBox(0, 0, 10, 10).expanded(-0.1, shape)
    with pytest.raises(ImageError, match="outside"):
        FaceBox(500, 500, 10, 10).expanded(0.1, shape)


def test_crop_never_wraps_around(photo):
    crop = images.crop(photo, FaceBox(0, 0, 50, 50), margin=0.4)
    assert crop.shape == (70, 70, 3)
    assert np.array_equal(crop, photo[:70, :70])
    corner = images.crop(photo, FaceBox(480, 570, 32, 30), margin=0.5)
    assert corner.shape == (30 + 15, 32 + 16, 3)
    assert np.array_equal(corner, photo[555:, 464:])


def test_facebox_scaled_round_trip():
    box = FaceBox(10, 21, 40, 44)
    assert box.scaled(0.5) == FaceBox(5, 10, 20, 22)  # round half to even, like Python's round
    assert box.scaled(2.0).scaled(0.5) == box
    assert box.area == 40 * 44


# --------------------------------------------------------------------------- detection


def test_detector_is_loaded_once():
    assert images.face_detector() is images.face_detector()
    assert not images.face_detector().empty()


def test_one_face_in_the_portrait(photo):
    boxes = images.detect_faces(photo)
    assert len(boxes) == 1
    box = boxes[0]
    # the face of the portrait: centre near (266, 216), about 220 px wide (checked by eye once)
    assert abs(box.x + box.w / 2 - 266) < 25 and abs(box.y + box.h / 2 - 216) < 25
    assert 180 < box.w < 260 and box.w == box.h


def test_grouping_equals_opencv_detect_multiscale(photo):
    gray = images.to_gray(photo)
    detector = images.face_detector()
    for scale_factor in (1.1, 1.3):
        candidates = images.face_candidates(gray, scale_factor=scale_factor, min_size=30)
        assert len(candidates) > 5, "one face is accepted by many overlapping windows"
        for min_neighbors in (1, 3, 5, 12):
            expected = detector.detectMultiScale(gray, scaleFactor=scale_factor, minNeighbors=min_neighbors, minSize=(30, 30))
            expected = sorted(tuple(map(int, row)) for row in np.asarray(expected).reshape(-1, 4))
            grouped = images.group_candidates(candidates, min_neighbors)
            assert sorted((b.x, b.y, b.w, b.h) for b in grouped) == expected


def test_larger_min_size_only_drops_windows(photo):
    """The preprocessing explorer relies on this: minSize filters whole pyramid levels."""
    gray = cv2.resize(images.to_gray(photo), (256, 300), interpolation=cv2.INTER_AREA)
    smallest = images.face_candidates(gray, scale_factor=1.1, min_size=24)
    for min_size in (40, 80, 110):
        direct = images.face_candidates(gray, scale_factor=1.1, min_size=min_size)
        filtered = smallest[smallest[:, 2] >= min_size]
        assert sorted(map(tuple, direct.tolist())) == sorted(map(tuple, filtered.tolist()))


def test_min_neighbors_zero_keeps_every_candidate(photo):
    candidates = images.face_candidates(images.to_gray(photo))
    assert len(images.group_candidates(candidates, 0)) == len(candidates)
    assert images.group_candidates(np.zeros((0, 4), np.int32), 3) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"scale_factor": 1.0}, "scale_factor"),
    ({"scale_factor": 0.9}, "scale_factor"),
    ({"min_size": 0}, "min_size"),
    ({"min_neighbors": -1}, "min_neighbors"),
])
def test_bad_detector_parameters(photo, kwargs, message):
    with pytest.raises(ImageError, match=message):
        images.detect_faces(photo, **kwargs)


# --------------------------------------------------------------------------- preprocessing


def test_preprocess_face_output(photo):
    box = images.detect_faces(photo)[0]
    face = images.preprocess_face(images.crop(photo, box, 0.1))
    assert face.shape == (48, 48, 1) and face.dtype == np.float32
    assert 0.0 <= face.min() < 0.2 and 0.8 < face.max() <= 1.0
    gray_crop = images.crop(images.to_gray(photo), box, 0.1)
    assert np.array_equal(face, images.preprocess_face(gray_crop)), "colour and grayscale crops give the same input"
    assert np.array_equal(face, images.preprocess_face(gray_crop[..., np.newaxis]))
    expected = cv2.resize(gray_crop, (48, 48), interpolation=cv2.INTER_AREA).astype(np.float32)[..., None] / 255
    assert np.allclose(face, expected)


def test_preprocess_face_edge_cases():
    assert np.all(images.preprocess_face(np.full((30, 20), 255, np.uint8)) == 1.0)
    assert np.all(images.preprocess_face(np.zeros((48, 48), np.uint8)) == 0.0)
    assert images.preprocess_face(np.zeros((5, 7, 3), np.uint8)).shape == (48, 48, 1)
    with pytest.raises(ImageError, match="empty"):
        images.preprocess_face(np.zeros((0, 10), np.uint8))


def test_faces_to_model_input():
    batch = np.full((3, 48, 48, 1), 51, np.uint8)
    ready = images.faces_to_model_input(batch)
    assert ready.shape == (3, 48, 48, 1) and ready.dtype == np.float32 and np.allclose(ready, 0.2)
    assert images.faces_to_model_input(batch[..., 0]).shape == (3, 48, 48, 1)
    with pytest.raises(ImageError, match="uint8"):
        images.faces_to_model_input(batch.astype(np.float32))
    with pytest.raises(ImageError, match=r"\(N, 48, 48, 1\)"):
        images.faces_to_model_input(np.zeros((3, 64, 64, 1), np.uint8))


def test_faces_from_photo_single_face(photo):
    found = images.faces_from_photo(photo)
    assert len(found.boxes) == 1
    assert found.faces.shape == (1, 48, 48, 1) and found.faces.dtype == np.float32
    assert 0.0 <= found.faces.min() and found.faces.max() <= 1.0 and found.faces.std() > 0.1
    boxes, faces = found  # a named tuple unpacks
    expected = images.preprocess_face(images.crop(images.to_gray(photo), boxes[0], 0.1))
    assert np.array_equal(faces[0], expected)


def test_faces_from_photo_reads_paths(photo):
    from_path = images.faces_from_photo(images.sample_photo_path())
    assert np.array_equal(from_path.faces, images.faces_from_photo(photo).faces)
    with pytest.raises(ImageError, match="does not exist"):
        images.faces_from_photo("no/such/photo.jpg")


def test_several_faces_left_to_right(photo, two_people):
    found = images.faces_from_photo(two_people)
    assert len(found.boxes) == 2 and found.faces.shape == (2, 48, 48, 1)
    left, right = found.boxes
    assert left.x + left.w <= right.x, "boxes are sorted left to right and do not overlap"
    assert right.x > two_people.shape[1] // 2
    # both are Grace Hopper's face (the second mirrored): each input resembles the portrait's
    portrait = images.faces_from_photo(photo).faces[0].ravel()
    for face in (found.faces[0], found.faces[1][:, ::-1]):
        assert np.corrcoef(face.ravel(), portrait)[0, 1] > 0.5  # unrelated images: about 0


def test_no_face_gives_a_clear_error():
    blank = np.full((200, 300, 3), 128, np.uint8)
    with pytest.raises(NoFaceFoundError) as caught:
        images.faces_from_photo(blank, min_neighbors=4)
    message = str(caught.value)
    assert "No face found" in message and "300x200" in message and "min_neighbors (now 4)" in message
    assert isinstance(caught.value, ImageError)
    assert images.detect_faces(blank) == []


def test_draw_boxes_copies(photo):
    before = photo.copy()
    drawn = images.draw_boxes(photo, [FaceBox(10, 10, 50, 50)], color=(0, 0, 255), numbered=True)
    assert np.array_equal(photo, before)
    assert tuple(drawn[10, 30]) == (0, 0, 255) and not np.array_equal(drawn, photo)


def test_faces_are_numbered_in_reading_order():
    """Rows top to bottom, each left to right: a 2x2 group photo reads 1 2 / 3 4 (the walk found 1 bottom-left)."""
    from utils.images import FaceBox, reading_order

    top_left, top_right = FaceBox(10, 12, 50, 50), FaceBox(120, 5, 55, 55)
    bottom_left, bottom_right = FaceBox(5, 130, 50, 50), FaceBox(125, 128, 48, 48)
    shuffled = [bottom_left, top_right, bottom_right, top_left]
    assert reading_order(shuffled) == [top_left, top_right, bottom_left, bottom_right]
    assert reading_order([]) == []
    side_by_side = [FaceBox(200, 40, 60, 60), FaceBox(10, 70, 60, 60)]  # uneven heads, one row
    assert [b.x for b in reading_order(side_by_side)] == [10, 200]


@pytest.mark.parametrize(("data", "name"), [
    (b"GIF87a" + bytes(40), "GIF"), (b"GIF89a" + bytes(40), "GIF"), (b"MM\x00*" + bytes(40), "TIFF"),
    (b"%PDF-1.7\n" + bytes(40), "PDF"), (b"\x00\x00\x00\x1cftypheic" + bytes(40), "HEIC"),
    (b"\x00\x00\x00\x1cftypmif1" + bytes(40), "HEIF"), (b"\x00\x00\x00\x1cftypavif" + bytes(40), "AVIF"),
    (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"), (b"  <svg></svg>", "SVG")])
def test_other_file_kinds_are_named_with_advice(data, name):
    from utils.images import UnsupportedImageFormatError, image_header_size

    with pytest.raises(UnsupportedImageFormatError, match=f"This is a {name} file") as caught:
        image_header_size(data)
    assert caught.value.format_name == name and "JPEG" in str(caught.value)


@pytest.mark.parametrize("data", [b"name,score\nada,10\n", b"<html><body>hi</body></html>", bytes(64)])
def test_unknown_bytes_get_the_general_message(data):
    from utils.images import ImageError, UnsupportedImageFormatError, image_header_size

    with pytest.raises(ImageError, match="not an image the course can read") as caught:
        image_header_size(data)
    assert not isinstance(caught.value, UnsupportedImageFormatError)
