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


# --------------------------------------------------------------------------- kernel explorer: the pointer link


def _css_spans(rules: str, size: int, axis: str, count: int) -> list[tuple[int, int]]:
    """The patch box of each of the ``count`` hover rows (axis 'row') or columns ('col') as the CSS places it, in
    image pixels: the general formula with the hovered index's binary digits, or the rule of that row or column."""
    import re

    start_name, extent_name, name = ("top", "height", "kx-r") if axis == "row" else ("left", "width", "kx-c")
    formula = re.search(rf"\.kx-views \.kx-patch \{{{start_name}:calc\(\(([^)]*(?:\)[^)]*)*?)\) \* ([\d.]+)% - ([\d.]+)%\);"
                        rf"{extent_name}:([\d.]+)%\}}", rules)
    weights = {int(d): int(w) for w, d in re.findall(rf"(\d+) \* var\(--{name}(\d+), 0\)", formula.group(1))}
    step, offset, extent = (float(v) for v in formula.groups()[1:])
    hovered = r"tr:is\(([^)]*(?:\)[^)]*)*?)\) td:hover" if axis == "row" else r"td:hover:is\(([^)]*(?:\)[^)]*)*?)\)"
    digits, own = {}, {}
    for members, body in re.findall(rf":has\(\.kx-cells {hovered}\) \.kx-patch \{{([^}}]*)\}}", rules):
        indices = [int(k) - 1 for k in re.findall(r":nth-child\((\d+)\)", members)]
        digit = re.fullmatch(rf"--{name}(\d+):1", body)
        if digit:
            digits[int(digit.group(1))] = set(indices)
        else:
            assert len(indices) == 1
            values = re.match(rf"{start_name}:([\d.]+)%;{extent_name}:([\d.]+)%", body)
            own[indices[0]] = (float(values.group(1)), float(values.group(2)))
    assert set(digits) <= set(weights)
    spans = []
    for index in range(count):
        if index in own:
            start, length = own[index]
        else:
            start, length = sum(weights[d] for d, members in digits.items() if index in members) * step - offset, extent
        spans.append((start * size / 100, (start + length) * size / 100))
    assert all(abs(a - round(a)) < 2e-3 and abs(b - round(b)) < 2e-3 for a, b in spans), "boxes on whole pixels"
    return [(round(a), round(b)) for a, b in spans]


def _windows_read(size: int, kernel: int, stride: int, padding: str) -> list[set[int]]:
    """For every output index along one axis, the input indices correlate2d reads for it (zero padding
    left out): a line of ones at input index i, a kernel of ones, and where the output is not 0."""
    reads = None
    for i in range(size):
        line = np.zeros((size, 3), np.float32)
        line[i, :] = 1.0
        touched = correlate2d(line, np.ones((kernel, 1), np.float32), stride, padding)[:, 0] != 0
        reads = [set() for _ in touched] if reads is None else reads
        for out, hit in enumerate(touched):
            if hit:
                reads[out].add(i)
    return reads


def _cell_values(cells: str) -> list[list[tuple[str, ...]]]:
    import re

    rows = cells.split("<tr>")[1:]
    return [[tuple(v for v in match if v) for match in re.findall(r"<td (?:data-v=([^ >]+)|data-lo=([^ >]+) data-hi=([^ >]+))>", r)]
            for r in rows]


def _css_tracks(rules: str, axis: str) -> list[tuple[int, int]]:
    """The output cells (first, last) under each hover row or column, from the grid's tracks (in output cells)."""
    import re

    sizes = [int(n) for n in re.search(rf"grid-template-{axis}s:([\d fr]+)[;}}]", rules).group(1).replace("fr", "").split()]
    ends = np.cumsum(sizes)
    return [(int(end - size), int(end - 1)) for end, size in zip(ends, sizes)]


@pytest.mark.parametrize("shape", [(13, 11), (110, 100), (99, 49)], ids=["one-cell-per-output", "grouped", "grouped-merged"])
@pytest.mark.parametrize("size", [3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_every_hover_cell_outlines_the_window_correlate2d_reads(shape, size, stride, padding):
    """The CSS puts each hover cell's patch box exactly on the pixels its output cell(s) read, clipped to the
    image; each cell carries its value (a group of cells: its smallest and largest value)."""
    image = np.random.default_rng(4).integers(0, 256, shape).astype(np.uint8)
    explorer = kernel_explorer({"img": image}, preset="sobel_x" if size == 3 else "gaussian_5x5")
    explorer.stride.value, explorer.padding.value = stride, padding
    fmap = correlate2d(image, explorer.kernel, stride, padding)
    np.testing.assert_allclose(explorer.feature_map, fmap, rtol=1e-6)
    geometry = explorer.hover_geometry
    group = geometry.group
    assert geometry.map_shape == fmap.shape and group == max(1, -(-max(fmap.shape) // 48))
    rules = explorer.hover_rules.value
    tracks = {}
    for axis, length, out in (("row", shape[0], fmap.shape[0]), ("column", shape[1], fmap.shape[1])):
        tracks[axis] = _css_tracks(rules, axis)
        # the hover cells cover every output cell once, `group` at a time (the last group at most one more)
        assert tracks[axis][0][0] == 0 and tracks[axis][-1][1] == out - 1
        assert all(last - first + 1 == group for first, last in tracks[axis][:-1])
        assert 1 <= tracks[axis][-1][1] - tracks[axis][-1][0] + 1 <= group + 1
        reads = _windows_read(length, size, stride, padding)
        boxes = _css_spans(rules, length, "row" if axis == "row" else "col", len(tracks[axis]))
        assert len(boxes) == len(tracks[axis])
        for (start, end), (first, last), span in zip(boxes, tracks[axis], geometry.rows if axis == "row" else geometry.cols):
            pixels = set().union(*reads[first:last + 1])
            assert (start, end) == (min(pixels), max(pixels) + 1), (axis, first, last)
            clipped = span.clipped_before or span.clipped_after
            assert clipped == (end - start < (last - first) * stride + size), "clipped exactly where the windows run off"
    values = _cell_values(explorer.cell_overlay.value)
    assert (len(values), len(values[0])) == (len(tracks["row"]), len(tracks["column"]))
    for (r0, r1), row_values in zip(tracks["row"], values):
        for (c0, c1), cell in zip(tracks["column"], row_values):
            block = fmap[r0:r1 + 1, c0:c1 + 1]
            expected = (block[0, 0],) if group == 1 else (block.min(), block.max())
            np.testing.assert_allclose([float(v) for v in cell], expected, rtol=1e-3, atol=1e-3)


def _counted(rules: str, rows: int, cols: int) -> tuple[list[list[int]], ...]:
    """What the readout's CSS counters show in every hover cell: (kx-r0, kx-r1, kx-c0, kx-c1) per cell,
    following CSS's counter rules (reset, then increment; the later of two equally specific rules wins)."""
    import re

    def declarations(selector: str) -> dict:
        body = ";".join(re.findall(r"(?:^|\n)" + re.escape(selector) + r" \{([^}]*)\}", rules))  # the later rule last
        found = {}
        for prop, value in re.findall(r"(counter-reset|counter-increment):([^;}]+)", body):
            tokens = value.split()
            found[prop] = {tokens[i]: int(tokens[i + 1]) for i in range(0, len(tokens), 2)}
        return found

    scope = re.search(r"\.(kx-\d+) \.kx-cells \{counter-reset", rules).group(1)
    cells = f".{scope} .kx-cells"
    counters = dict(declarations(cells)["counter-reset"])
    shown = [[None] * cols for _ in range(rows)]
    for r in range(rows):
        for c in range(cols):
            selector = (f"{cells} tr:last-child td:first-child" if c == 0 and r == rows - 1 else f"{cells} td:first-child" if c == 0
                        else f"{cells} td:last-child" if c == cols - 1 else f"{cells} td")
            rule = declarations(selector)
            counters.update(rule.get("counter-reset", {}))
            for name, step in rule["counter-increment"].items():
                counters[name] += step
            shown[r][c] = (counters["kx-r0"], counters["kx-r1"], counters["kx-c0"], counters["kx-c1"])
    return shown


@pytest.mark.parametrize("shape,stride", [((13, 11), 1), ((110, 100), 1), ((99, 49), 1), ((99, 49), 2), ((1, 60), 1)])
def test_the_readout_counters_number_the_hovered_cells(shape, stride):
    image = np.random.default_rng(5).integers(0, 256, shape).astype(np.uint8)
    explorer = kernel_explorer({"img": image}, preset="identity")
    explorer.stride.value = stride
    rules = explorer.hover_rules.value
    rows, cols = _css_tracks(rules, "row"), _css_tracks(rules, "column")
    shown = _counted(rules, len(rows), len(cols))
    for r, (r0, r1) in enumerate(rows):
        for c, (c0, c1) in enumerate(cols):
            assert shown[r][c] == (r0, r1, c0, c1), (r, c)


def test_the_hover_css_is_rebuilt_only_when_the_geometry_changes(images, monkeypatch):
    import utils.widgets.convolution as module

    explorer = kernel_explorer(images, preset="sobel_x")
    builds = []
    original = module._kernel_hover_rules
    monkeypatch.setattr(module, "_kernel_hover_rules", lambda *args: builds.append(args) or original(*args))
    rules, cells = explorer.hover_rules.value, explorer.cell_overlay.value
    explorer.cells[2][2].value = 3.0  # a weight edit: new values, same geometry
    explorer.preset.value = "laplacian"  # another 3x3 kernel: same geometry
    assert builds == [] and explorer.hover_rules.value == rules and explorer.cell_overlay.value != cells
    for control, value in (("stride", 2), ("padding", "valid"), ("size", 5), ("source", "face")):
        getattr(explorer, control).value = value
    assert len(builds) == 4
    assert explorer.scope in explorer._dom_classes and explorer.scope in explorer.hover_rules.value
    assert kernel_explorer(images).scope != explorer.scope, "the CSS of one explorer does not reach another"


def test_the_hover_readout_names_the_cell_and_says_when_its_patch_is_clipped(images):
    explorer = kernel_explorer({"face": images["face"]}, preset="sobel_x")  # 48x48, 'same': one hover cell per output cell
    rules = explorer.hover_rules.value
    assert explorer.hover_geometry.group == 1
    assert 'content:"row " counter(kx-r0) ", column " counter(kx-c0) "\\A value " attr(data-v)' in rules and "clipped" in rules
    # 'same' clips the first and last rows and columns: those (and only those) get the note
    assert "tr:nth-child(1) td, " in rules and "td:nth-child(48) {--kx-clip" in rules and "tr:nth-child(2) td," not in rules
    assert "point at a cell" in explorer.hint.value
    explorer.padding.value = "valid"
    assert "{--kx-clip" not in explorer.hover_rules.value and "border-top-style:dashed" not in explorer.hover_rules.value
    # each update sends one small table: about 15 bytes per cell
    assert len(explorer.cell_overlay.value) < 20 * explorer.feature_map.size


def test_the_hover_readout_in_romanian(images, romanian):
    explorer = kernel_explorer({"photo": images["photo"]}, preset="gaussian")  # 90x80: grouped 2x2
    rules = explorer.hover_rules.value
    assert explorer.hover_geometry.group == 2
    assert '"rândurile " counter(kx-r0) "–" counter(kx-r1) ", coloanele " counter(kx-c0) "–" counter(kx-c1)' in rules
    assert '"\\A valori de la " attr(data-lo) " la " attr(data-hi)' in rules
    assert "fereastră tăiată" in rules and "pătrat = 2×2 celule" in explorer.hint.value
    values = [v for row in _cell_values(explorer.cell_overlay.value) for cell in row for v in cell]
    assert any("," in v for v in values) and not any("." in v for v in values), "Romanian decimal commas"


def test_the_feature_map_range_is_written_with_decimal_commas_in_romanian(romanian):
    from utils.widgets.convolution import _range_text

    text = _range_text(np.array([[-0.25, 1.5], [0.75, 0.5]], dtype=np.float32))
    assert "valori de la -0,25 la 1,5" in text and "1.5" not in text
