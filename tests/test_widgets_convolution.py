"""The lesson-02 explorers react to their controls (set from Python, as headless runs must)."""

import numpy as np
import pytest

import utils  # noqa: F401
from utils.layers.convolution import KERNELS, conv2d, correlate2d
from utils.synthetic import make_faces
from utils.widgets.convolution import filter_bank, kernel_explorer, sliding_window_stepper


@pytest.fixture(scope="module")
def images():
    faces, _ = make_faces(7, seed=3)
    photo = np.random.default_rng(0).integers(0, 256, (90, 80), dtype=np.uint8)
    return {"photo": photo, "face": faces[0]}


# --------------------------------------------------------------------------- kernel explorer


def test_explorer_shows_the_feature_map_of_the_chosen_preset(images):
    explorer = kernel_explorer(images, preset="sobel_x")
    np.testing.assert_array_equal(explorer.kernel, KERNELS["sobel_x"])
    np.testing.assert_allclose(explorer.feature_map, correlate2d(images["photo"], KERNELS["sobel_x"], padding="same"))
    assert explorer.feature_view.value and explorer.input_view.value
    assert "90x80" in explorer.info.value and "mid-gray = 0" in explorer.info.value


@pytest.mark.parametrize("control,value", [("preset", "gaussian"), ("stride", 2), ("padding", "valid"), ("source", "face")])
def test_every_control_changes_the_feature_map(images, control, value):
    explorer = kernel_explorer(images)
    before_bytes, before_info = explorer.feature_view.value, explorer.info.value
    getattr(explorer, control).value = value
    assert explorer.feature_view.value != before_bytes
    assert explorer.info.value != before_info
    image = images[explorer.source.value]
    expected = correlate2d(image, explorer.kernel, explorer.stride.value, explorer.padding.value)
    np.testing.assert_allclose(explorer.feature_map, expected, rtol=1e-6)


def test_editing_a_cell_updates_the_map_and_marks_the_kernel_custom(images):
    explorer = kernel_explorer(images, preset="identity")
    before = explorer.feature_view.value
    explorer.cells[1][1].value = -1.0  # top-left cell of the 3x3 kernel
    assert explorer.preset.value == "custom"
    assert explorer.kernel[0, 0] == -1.0 and explorer.kernel[1, 1] == 1.0
    assert explorer.feature_view.value != before
    np.testing.assert_allclose(explorer.feature_map, correlate2d(images["photo"], explorer.kernel, padding="same"))


def test_kernel_size_switches_between_3x3_and_5x5(images):
    explorer = kernel_explorer(images, preset="gaussian_5x5")
    assert explorer.size.value == 5 and explorer.kernel.shape == (5, 5) and len(explorer.grid.children) == 25
    explorer.preset.value = "laplacian"
    assert explorer.size.value == 3 and len(explorer.grid.children) == 9
    explorer.size.value = 5  # the 3x3 kernel sits in the centre of a 5x5 one: same map
    assert explorer.kernel.shape == (5, 5)
    np.testing.assert_array_equal(explorer.kernel[1:4, 1:4], KERNELS["laplacian"])
    np.testing.assert_allclose(explorer.feature_map, correlate2d(images["photo"], KERNELS["laplacian"], padding="same"))
    explorer.cells[0][0].value = 2.0
    explorer.size.value = 3  # back to 3x3: the outer ring is dropped
    assert explorer.kernel.shape == (3, 3) and explorer.cells[0][0].value == 0.0


def test_stride_two_halves_the_map(images):
    explorer = kernel_explorer(images)
    explorer.stride.value = 2
    assert explorer.feature_map.shape == (45, 40) and "45x40" in explorer.info.value


def test_a_kernel_that_does_not_fit_shows_an_error_instead_of_raising():
    explorer = kernel_explorer({"tiny": np.zeros((4, 4), np.uint8)}, preset="sobel_x")
    explorer.padding.value = "valid"
    explorer.size.value = 5
    assert "larger than the input" in explorer.info.value


def test_explorer_rejects_bad_images():
    with pytest.raises(ValueError, match="grayscale"):
        kernel_explorer({"colour": np.zeros((10, 10, 3), np.uint8)})
    with pytest.raises(ValueError, match="at least one image"):
        kernel_explorer({})
    with pytest.raises(ValueError, match="unknown preset"):
        kernel_explorer({"a": np.zeros((10, 10))}, preset="blur")


# --------------------------------------------------------------------------- sliding window


def test_stepper_walks_the_output_cells_row_by_row():
    image = np.arange(36).reshape(6, 6) % 7
    stepper = sliding_window_stepper(image, KERNELS["sobel_x"])
    fmap = correlate2d(image, KERNELS["sobel_x"])
    assert stepper.position.max == fmap.size - 1 == 15
    before = (stepper.input_view.value, stepper.arithmetic.value, stepper.output_view.value)
    stepper.position.value = 6  # row 1, column 2
    assert (stepper.step.row, stepper.step.col) == (1, 2)
    assert stepper.step.value == pytest.approx(fmap[1, 2])
    after = (stepper.input_view.value, stepper.arithmetic.value, stepper.output_view.value)
    assert all(a != b for a, b in zip(before, after))
    assert f"{fmap[1, 2]:.4g}" in stepper.arithmetic.value


def test_stepper_padding_and_stride_resize_the_feature_map():
    image = np.arange(49).reshape(7, 7) % 5
    stepper = sliding_window_stepper(image, KERNELS["laplacian"])
    stepper.padding.value = "same"
    assert stepper.position.max == 48 and stepper.step.padded.shape == (9, 9)
    stepper.position.value = 48
    stepper.stride.value = 2
    assert stepper.feature_map.shape == (4, 4) and stepper.position.value == 15
    expected = conv2d(image[..., None], KERNELS["laplacian"][:, :, None, None], stride=2, padding="same")[..., 0]
    np.testing.assert_allclose(stepper.feature_map, expected)
    assert stepper.step.value == pytest.approx(expected[3, 3])


def test_stepper_refuses_large_images():
    with pytest.raises(ValueError, match="small array"):
        sliding_window_stepper(np.zeros((48, 48)), KERNELS["identity"])


# --------------------------------------------------------------------------- filter bank


def test_filter_bank_is_one_conv_layer_with_one_map_per_kernel(images):
    bank = filter_bank(images)
    names = [n for n, k in KERNELS.items() if k.shape == (3, 3)]
    assert bank.names == names and len(bank.views) == len(names) == bank.feature_maps.shape[-1]
    for index, name in enumerate(names):
        np.testing.assert_allclose(bank.feature_maps[..., index], correlate2d(images["photo"], KERNELS[name], padding="same"),
                                   rtol=1e-5, atol=1e-3)
    before = [v.value for v in bank.views]
    bank.source.value = "face"
    assert all(a != b for a, b in zip(before, (v.value for v in bank.views)))
    assert "48x48x8" in bank.info.value
    bank.stride.value = 2
    assert bank.feature_maps.shape == (24, 24, 8)


def test_filter_bank_rejects_mixed_kernel_sizes(images):
    with pytest.raises(ValueError, match="one shape"):
        filter_bank(images, {"a": KERNELS["sobel_x"], "b": KERNELS["gaussian_5x5"]})


# --------------------------------------------------------------------------- display ranges and plots (utils.viz)


def test_edge_maps_are_shown_centred_on_zero_and_image_like_maps_stretched(images):
    from utils.viz import signed_range

    edges = correlate2d(images["photo"], KERNELS["sobel_x"])
    low, high = signed_range(edges)
    assert low == -high and high == np.abs(edges).max()
    low, high = signed_range(edges, 99.0)
    assert low == -high and high < np.abs(edges).max(), "the extreme 1% saturate"
    sharpened = correlate2d(images["photo"], KERNELS["sharpen"])
    assert sharpened.min() < 0 and np.median(sharpened) > 50
    assert signed_range(sharpened) == (sharpened.min(), sharpened.max()), "an image-like map is not centred on 0"
    assert signed_range(np.full((3, 3), 5.0)) == (4.0, 6.0), "a constant map still gets a range"


def test_convolution_plots_draw_and_reject_mismatched_arguments(images):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils import viz

    maps = [correlate2d(images["face"], KERNELS[n]) for n in ("sobel_x", "sobel_y")]
    for figure in (viz.show_matrix(KERNELS["emboss"], "emboss", highlight=(0, 0, 2, 2)),
                   viz.show_matrices([KERNELS["sobel_x"], np.eye(4)], ["a", "b"]),
                   viz.show_feature_maps(maps, ["x", "y"]),
                   viz.show_kernels_and_maps({"sobel_x": KERNELS["sobel_x"], "sobel_y": KERNELS["sobel_y"]}, maps),
                   viz.show_row_profiles([images["face"][..., 0]], [np.abs(maps[1]).mean(axis=1)], ["face"])):
        assert figure.axes
        plt.close(figure)
    with pytest.raises(ValueError, match="one title per array"):
        viz.show_matrices([np.eye(3)], ["a", "b"])
    with pytest.raises(ValueError, match="one map per kernel"):
        viz.show_kernels_and_maps({"sobel_x": KERNELS["sobel_x"]}, maps)
    with pytest.raises(ValueError, match="at most one value per image row"):
        viz.show_row_profiles([np.zeros((5, 5))], [np.zeros(9)], ["x"])
    assert viz.kernel_title("sobel_y").startswith("Sobel y") and viz.kernel_title("mine") == "mine"


def test_filter_bank_works_on_a_tile_sized_version_of_large_images():
    photo = np.random.default_rng(1).integers(0, 256, (320, 240), dtype=np.uint8)
    bank = filter_bank({"photo": photo})
    assert bank.images["photo"].shape == (128, 96)
    assert bank.feature_maps.shape == (128, 96, 8) and "128x96x1" in bank.info.value
    np.testing.assert_allclose(bank.feature_maps[..., 0], bank.images["photo"], rtol=1e-6)  # identity kernel first


def test_stepper_links_every_output_cell_to_its_patch_and_arithmetic():
    """Each output cell has a hover panel with its own sum; each input cell names the windows covering it."""
    import re

    from utils.layers.convolution import correlate2d

    image = np.arange(36, dtype=float).reshape(6, 6) % 7
    stepper = sliding_window_stepper(image, KERNELS["sobel_x"], stride=2, padding="same")
    expected = correlate2d(image, KERNELS["sobel_x"], 2, "same")
    panels = [re.match(r"data-cell='(\d+)-(\d+)'>(.*)", part, re.S).groups()
              for part in stepper.hover_view.value.split("<div class='sws-hover' ")[1:]]
    assert len(panels) == expected.size == 9
    for row, col, body in panels:
        total = float(re.search(r"= (-?[\d.e+-]+) &rarr;", body).group(1))
        assert np.isclose(total, expected[int(row), int(col)], atol=1e-3), (row, col)
        assert f"({row}, {col})" in body
    # the top-left input cell (padded) is in the window of output (0, 0) only, with stride 2 and a 3x3 kernel
    cells = [(re.search(r"data-windows='([^']*)'", attributes) or [None, ""])[1]
             for attributes in re.findall(r"<td ([^>]*)>", stepper.input_view.value)]
    assert cells[0] == "0-0"
    covered = {name for names in cells for name in names.split()}
    assert covered == {f"{r}-{c}" for r in range(3) for c in range(3)}, "every output cell's window is marked"
    assert all(f"data-cell='{r}-{c}'" in stepper.output_view.value for r in range(3) for c in range(3))
    assert stepper.input_view.value.count("sws-step") == 9 and "data-cell='0-0' class='sws-step'" in stepper.output_view.value
    rules = stepper.hover_rules.value
    assert rules.count(f".{stepper.scope}:has(.sws-output td[data-cell='2-1']:hover)") == 3
    assert stepper.scope in stepper._dom_classes
    other = sliding_window_stepper(image, KERNELS["sobel_x"])
    assert other.scope != stepper.scope, "the CSS of one stepper does not reach another"
    stepper.stride.value = 1  # the panels follow stride and padding
    assert stepper.hover_view.value.count("class='sws-hover'") == 36
