"""utils.explain: feature maps and Grad-CAM heatmaps of the course's CNN."""

import numpy as np
import pytest

from utils.explain import conv_layer_names, default_cam_layer, feature_layer_names, feature_maps, grad_cam, overlay_heatmap


@pytest.fixture(scope="module")
def tiny_model(make_tiny_model):
    return make_tiny_model(0)


@pytest.fixture(scope="module")
def faces(small_faces):
    return small_faces[0][:5]


@pytest.fixture(scope="module")
def bright_or_dark_model():
    """A hand-set network whose evidence is readable: class 0 = 'bright pixels', class 1 = 'dark pixels'.

    conv 1x1 with 2 filters: channel 0 = x, channel 1 = 1 - x; ReLU; global average; dense
    logits: class 0 = mean of channel 0, class 1 = mean of channel 1, the other classes 0.
    """
    import keras
    from keras import layers

    inputs = keras.Input((48, 48, 1))
    x = layers.Conv2D(2, 1, name="conv")(inputs)
    x = layers.ReLU(name="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(7, activation="softmax", name="emotion")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("conv").set_weights([np.array([1.0, -1.0]).reshape(1, 1, 1, 2), np.array([0.0, 1.0])])
    dense = np.zeros((2, 7))
    dense[0, 0] = dense[1, 1] = 5.0
    model.get_layer("emotion").set_weights([dense, np.zeros(7)])
    return model


def test_layer_names_follow_every_convolution_with_its_relu(tiny_model):
    assert conv_layer_names(tiny_model) == ["block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2"]
    assert feature_layer_names(tiny_model) == ["block1_relu1", "block1_relu2", "block2_relu1", "block2_relu2"]
    assert default_cam_layer(tiny_model) == "block2_relu2"


def test_feature_maps_have_each_layers_shape_and_are_rectified(tiny_model, faces):
    maps = feature_maps(tiny_model, faces[0])
    assert list(maps) == feature_layer_names(tiny_model)
    assert maps["block1_relu1"].shape == (48, 48, 4) and maps["block2_relu2"].shape == (24, 24, 8)
    assert all(m.min() >= 0 for m in maps.values()), "ReLU outputs"
    same = feature_maps(tiny_model, faces[0].astype(np.float32) / 255.0, ["block1_conv1"])
    assert same["block1_conv1"].shape == (48, 48, 4) and same["block1_conv1"].min() < 0, "before ReLU: both signs"


def test_feature_maps_errors(tiny_model, faces):
    with pytest.raises(ValueError, match="one face"):
        feature_maps(tiny_model, faces[:2])
    with pytest.raises(ValueError, match="no layer 'nope'"):
        feature_maps(tiny_model, faces[0], ["nope"])
    with pytest.raises(ValueError, match="not feature maps"):
        feature_maps(tiny_model, faces[0], ["dense"])


def test_grad_cam_shape_range_and_finiteness(tiny_model, faces):
    one = grad_cam(tiny_model, faces[0])
    assert one.shape == (48, 48) and one.dtype == np.float32
    batch = grad_cam(tiny_model, faces)
    assert batch.shape == (5, 48, 48)
    assert np.isfinite(batch).all() and batch.min() >= 0 and batch.max() <= 1
    for heatmap in batch:
        assert heatmap.max() == 0 or np.isclose(heatmap.max(), 1.0), "scaled so that the peak is 1 (or all zeros)"
    assert np.allclose(batch[0], grad_cam(tiny_model, faces[0][..., 0])), "(48, 48) and (48, 48, 1) faces agree"
    early = grad_cam(tiny_model, faces[:2], 3, layer_name="block1_relu1")
    assert early.shape == (2, 48, 48) and np.isfinite(early).all() and 0 <= early.min() and early.max() <= 1


def test_grad_cam_argument_errors(tiny_model, faces):
    with pytest.raises(ValueError, match="class_index"):
        grad_cam(tiny_model, faces[0], 7)
    with pytest.raises(ValueError, match="class_index"):
        grad_cam(tiny_model, faces[0], -1)
    with pytest.raises(ValueError, match="class_index"):
        grad_cam(tiny_model, faces[0], 2.5)
    with pytest.raises(ValueError, match="no layer"):
        grad_cam(tiny_model, faces[0], layer_name="block9_relu1")
    with pytest.raises(ValueError, match="not feature maps"):
        grad_cam(tiny_model, faces[0], layer_name="global_average")
    with pytest.raises(ValueError, match="one per face"):
        grad_cam(tiny_model, faces[:2], [1, 2, 3])
    with pytest.raises(ValueError, match="48"):
        grad_cam(tiny_model, np.zeros((32, 32), np.uint8))


def test_grad_cam_one_class_per_face_equals_one_call_per_face(tiny_model, faces):
    together = grad_cam(tiny_model, faces[:3], [0, 3, 6])
    for face, cls, heatmap in zip(faces[:3], [0, 3, 6], together):
        assert np.allclose(grad_cam(tiny_model, face, cls), heatmap, atol=1e-5)


def test_grad_cam_finds_the_region_that_carries_the_evidence(bright_or_dark_model):
    face = np.full((48, 48), 40, np.uint8)
    face[6:18, 30:44] = 230                                   # a bright patch, top right
    bright = grad_cam(bright_or_dark_model, face, 0)            # class 0 = "bright pixels"
    dark = grad_cam(bright_or_dark_model, face, 1)              # class 1 = "dark pixels"
    patch = np.zeros((48, 48), bool)
    patch[6:18, 30:44] = True
    assert bright[patch].mean() > 0.9 and bright[~patch].mean() < 0.3, "class 0's evidence is the bright patch"
    assert dark[~patch].mean() > 0.7 and dark[patch].mean() < 0.3, "class 1's evidence is everywhere else"
    assert np.isclose(bright.max(), 1.0) and np.isclose(dark.max(), 1.0)
    # the default class is the predicted one: mostly dark pixels -> class 1
    assert np.allclose(grad_cam(bright_or_dark_model, face), dark)
    # no evidence at all for a class whose logit ignores the maps: an all-zero heatmap, not NaN
    nothing = grad_cam(bright_or_dark_model, face, 4)
    assert np.array_equal(nothing, np.zeros((48, 48), np.float32))


def test_overlay_heatmap(faces):
    heatmap = np.zeros((6, 6), np.float32)
    heatmap[0, 0] = 1.0
    image = overlay_heatmap(faces[0], heatmap, zoom=2)
    assert image.shape == (96, 96, 3) and image.dtype == np.uint8
    plain = overlay_heatmap(faces[0], heatmap, alpha=0.0)
    assert np.array_equal(plain[..., 0], faces[0][..., 0]), "alpha 0 shows the face alone"
    hot = overlay_heatmap(np.full((48, 48), 128, np.uint8), heatmap, alpha=1.0)
    assert hot[0, 0, 0] > 100 and hot[0, 0, 2] < 50, "strong evidence is red (RGB order)"
    assert hot[47, 47, 2] > 100, "no evidence is blue"
    with pytest.raises(ValueError, match="alpha"):
        overlay_heatmap(faces[0], heatmap, alpha=1.5)
    with pytest.raises(ValueError, match="grayscale"):
        overlay_heatmap(np.zeros((48, 48, 3), np.uint8), heatmap)
    with pytest.raises(ValueError, match="finite"):
        overlay_heatmap(faces[0], np.full((6, 6), np.nan))


def test_top_patches_are_cropped_to_the_receptive_field_and_strongest_first():
    from utils.explain import top_activating_patches
    from utils.models import Architecture, build_emotion_cnn

    model = build_emotion_cnn(Architecture(filters=(4, 8), block_dropout=(0, 0), dense_units=8))
    faces = np.random.default_rng(0).integers(0, 256, (40, 48, 48, 1), dtype=np.uint8)
    patches, boxes, values = top_activating_patches(model, faces, "block2_relu1", channel=3, k=5)
    assert len(patches) == len(boxes) == 5 and (np.diff(values) <= 0).all()
    for patch, (index, top, left, bottom, right) in zip(patches, boxes):
        # block2_conv1 sees 10x10 pixels (3 + 2 + 1 + 2*2): fewer only at the border.
        assert patch.shape == (bottom - top, right - left) and max(patch.shape) <= 10
        np.testing.assert_array_equal(patch, faces[index, top:bottom, left:right, 0])


def test_activation_maximisation_raises_the_channel():
    from utils.explain import feature_maps, maximise_activation
    from utils.models import Architecture, build_emotion_cnn

    model = build_emotion_cnn(Architecture(filters=(4, 8), block_dropout=(0, 0), dense_units=8))
    start = (0.5 * np.ones((48, 48))).astype(np.float32)
    grown = maximise_activation(model, "block2_relu2", 1, steps=30)
    assert grown.shape == (48, 48) and 0 <= grown.min() and grown.max() <= 1
    before = feature_maps(model, start, ["block2_relu2"])["block2_relu2"][..., 1].mean()
    after = feature_maps(model, grown, ["block2_relu2"])["block2_relu2"][..., 1].mean()
    assert after > before


def test_randomised_weights_change_the_model_and_grad_cam_sanity_check_runs():
    from utils.explain import grad_cam, randomised_copy, rank_correlation
    from utils.models import Architecture, build_emotion_cnn, predict_proba

    model = build_emotion_cnn(Architecture(filters=(4, 8), block_dropout=(0, 0), dense_units=8))
    faces = np.random.default_rng(1).integers(0, 256, (3, 48, 48, 1), dtype=np.uint8)
    random = randomised_copy(model, seed=5)
    assert not np.allclose(predict_proba(model, faces), predict_proba(random, faces))
    same = randomised_copy(model, from_layer="emotion")  # only the last layer re-drawn
    np.testing.assert_array_equal(same.get_layer("block1_conv1").kernel.numpy(), model.get_layer("block1_conv1").kernel.numpy())
    a, b = grad_cam(model, faces[0], 0), grad_cam(random, faces[0], 0)
    assert -1 <= rank_correlation(a, b) <= 1 and rank_correlation(a, a) == pytest.approx(1)
