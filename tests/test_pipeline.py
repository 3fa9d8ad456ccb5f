"""utils.pipeline: photo bytes -> faces -> emotions, with one set of limits (web demo and lesson 05 widget)."""

import numpy as np
import pytest

from utils import images
from utils.images import ImageError, ImageTooLargeError, NoFaceFoundError, faces_from_photo
from utils.models import predict_proba
from utils.pipeline import MAX_SIDE, MIN_FACE_SIZE, EmptyUploadError, NotAnImageError, PhotoPipeline, UploadTooLargeError


@pytest.fixture(scope="module")
def pipeline(make_tiny_model):
    return PhotoPipeline(make_tiny_model(3), warm_up=True)


@pytest.fixture(scope="module")
def photo_bytes() -> bytes:
    return images.sample_photo_path().read_bytes()


def test_analyse_is_decode_detect_predict(pipeline, photo_bytes):
    analysis = pipeline.analyse(photo_bytes)
    assert max(analysis.image.shape[:2]) <= MAX_SIDE
    found = faces_from_photo(analysis.image, min_size=MIN_FACE_SIZE)
    assert [p.box for p in analysis.predictions] == found.boxes
    assert np.allclose(analysis.probabilities, predict_proba(pipeline.model, found.faces), atol=1e-6)
    width, height = analysis.width, analysis.height
    assert (width, height) == images.image_header_size(photo_bytes)[1:] and analysis.scale == width / analysis.image.shape[1]


def test_limits_and_bad_input_raise_course_errors(make_tiny_model, photo_bytes):
    small = PhotoPipeline(make_tiny_model(3), max_upload_bytes=1000, max_pixels=10_000)
    with pytest.raises(UploadTooLargeError, match="larger than"):
        small.decode(photo_bytes)
    with pytest.raises(EmptyUploadError, match="empty"):
        small.decode(b"")
    with pytest.raises(NotAnImageError):
        small.decode(b"%PDF-1.4")
    png = images.cv2.imencode(".png", np.zeros((200, 200), np.uint8))[1].tobytes()
    with pytest.raises(ImageTooLargeError, match="megapixels"):
        small.decode(png)
    assert issubclass(NotAnImageError, ImageError) and issubclass(UploadTooLargeError, ImageTooLargeError)
    with pytest.raises(NoFaceFoundError):
        PhotoPipeline(small.model).analyse(png)
