import doctest

import cv2
import numpy as np
import pytest
from shared_data import require_shared

import facerecon.crop as crop_module
from facerecon.crop import (
    BOX_CROP_PARAMS,
    LANDMARK_CROP_PARAMS,
    BoxCropParams,
    CropTransform,
    box_crop_params,
    crop_from_box,
    crop_from_landmarks,
    fit_box_crop_params,
)
from facerecon.data.synthetic import render_synthetic_face
from facerecon.errors import InvalidInputError
from facerecon.topology import load_topology


def test_module_doctest_passes():
    result = doctest.testmod(crop_module, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_box_crop_known_values():
    # box 100 px wide, 60 high: mean side 80, crop side 2 * 80 = 160 px -> scale 256/160
    crop = crop_from_box([50, 70, 150, 130], size=256, scale=2.0, center_shift=0.25)
    center = (100.0, 100.0 + 0.25 * 80)
    s = 256 / 160
    assert crop.scale == pytest.approx(s)
    expected = np.array([[s, 0, 127.5 - s * center[0]], [0, s, 127.5 - s * center[1]]])
    np.testing.assert_allclose(crop.matrix, expected, atol=1e-12)
    # the square's edges land on the crop's outer pixel edges, -0.5 and S - 0.5
    corners = np.array([[center[0] - 80, center[1] - 80], [center[0] + 80, center[1] + 80]])
    np.testing.assert_allclose(crop.to_crop(corners), [[-0.5, -0.5], [255.5, 255.5]], atol=1e-4)


def test_positive_shift_moves_the_crop_towards_the_chin():
    plain = crop_from_box([0, 0, 100, 100], size=100, scale=1.0, center_shift=0.0)
    shifted = crop_from_box([0, 0, 100, 100], size=100, scale=1.0, center_shift=0.1)
    # the same image point appears 10 crop pixels higher in the crop shifted down
    point = np.array([[50.0, 50.0]])
    assert shifted.to_crop(point)[0, 1] == pytest.approx(plain.to_crop(point)[0, 1] - 10)


def test_landmark_crop_uses_the_landmark_box(rng):
    points = rng.uniform([200, 300, -20], [260, 380, 20], size=(68, 3))
    params = crop_module.LANDMARK_CROP_PARAMS[68]
    x1, y1 = points[:, :2].min(axis=0)
    x2, y2 = points[:, :2].max(axis=0)
    expected = crop_from_box([x1, y1, x2, y2], 192, params.scale, params.center_shift)
    got = crop_from_landmarks(points, size=192)
    np.testing.assert_allclose(got.matrix, expected.matrix)
    assert got.size == 192
    assert crop_from_landmarks(points[:5, :2]).size == 256


def test_round_trip_is_exact(rng):
    crop = crop_from_box([123.4, 56.7, 345.6, 301.2], size=256, scale=1.58, center_shift=0.14)
    points = rng.uniform(-100, 600, size=(500, 3)).astype(np.float32)
    back = crop.to_image(crop.to_crop(points))
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, points, atol=1e-4)
    points64 = points.astype(np.float64)
    assert crop.to_crop(points64).dtype == np.float64
    np.testing.assert_allclose(crop.to_image(crop.to_crop(points64)), points64, atol=1e-9)


def test_position_map_shape_round_trip(rng):
    crop = crop_from_box([10, 20, 90, 120])
    posmap = rng.uniform(0, 256, size=(8, 8, 3))
    image_space = crop.to_image(posmap)
    assert image_space.shape == (8, 8, 3)
    np.testing.assert_allclose(crop.to_crop(image_space), posmap, atol=1e-9)


def test_z_is_scaled_like_xy_and_not_shifted():
    crop = crop_from_box([0, 0, 50, 50], size=200, scale=2.0)  # scale 200 / 100 = 2
    mapped = crop.to_crop(np.array([[0.0, 0.0, 7.0], [10.0, 0.0, -3.0]]))
    np.testing.assert_allclose(mapped[:, 2], [14.0, -6.0])
    # an x distance of 10 image pixels is 20 crop pixels, as the z distance 10 is
    assert mapped[1, 0] - mapped[0, 0] == pytest.approx(20.0)
    np.testing.assert_allclose(crop.to_image(mapped)[:, 2], [7.0, -3.0])


def test_inverse_matrix_composes_to_identity():
    angle = np.deg2rad(30)
    s = 1.7
    cos, sin = s * np.cos(angle), s * np.sin(angle)
    matrix = [[cos, -sin, 5], [sin, cos, -8]]
    crop = CropTransform(matrix=matrix, size=64)
    assert crop.scale == pytest.approx(s)
    inverse = crop.inverse()
    full = np.vstack([crop.matrix, [0, 0, 1]])
    full_inverse = np.vstack([inverse, [0, 0, 1]])
    np.testing.assert_allclose(full_inverse @ full, np.eye(3), atol=1e-12)
    points = np.array([[3.0, 4.0, 2.0]])
    np.testing.assert_allclose(crop.to_image(crop.to_crop(points)), points, atol=1e-12)


def _dot_image(height, width, x, y):
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[y, x] = (255, 128, 64)
    return image


def _ramp_image():
    # red = x, green = y: bilinear sampling of a linear ramp returns the sampled point itself
    ys, xs = np.mgrid[0:256, 0:256]
    return np.stack([xs, ys, np.zeros_like(xs)], axis=-1).astype(np.uint8)


@pytest.mark.parametrize("angle_deg", [0.0, 23.0])
def test_warp_samples_each_crop_pixel_at_its_image_point(angle_deg):
    if angle_deg == 0.0:
        crop = crop_from_box([70.3, 60.1, 170.9, 190.4], size=96, scale=1.2, center_shift=0.1)
    else:
        a, s = np.deg2rad(angle_deg), 0.7
        rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * s
        offset = np.array([47.5, 47.5]) - rotation @ [128.2, 127.6]
        crop = CropTransform(matrix=np.hstack([rotation, offset[:, None]]), size=96)
    warped = crop.warp(_ramp_image())
    rows, cols = np.mgrid[0:96, 0:96]
    source = crop.to_image(np.stack([cols, rows], axis=-1).astype(np.float64))
    inside = np.all((source >= 0) & (source <= 255), axis=-1)
    assert inside.mean() > 0.9
    error = np.abs(warped[..., :2].astype(np.float64) - source)[inside]
    # rounding to uint8, plus OpenCV's 1/32-pixel quantisation of sample positions
    assert error.max() <= 0.5 + 1 / 32


def test_warp_integer_scale_lands_a_dot_exactly():
    # scale 2 with an integer-aligned centre: image pixel centres map to crop pixel centres
    image = _dot_image(100, 100, x=40, y=30)
    crop = CropTransform(matrix=[[2.0, 0.0, -20.0], [0.0, 2.0, -10.0]], size=128)
    x, y = crop.to_crop(np.array([[40.0, 30.0]]))[0]
    assert (x, y) == (60.0, 50.0)
    warped = crop.warp(image)
    np.testing.assert_array_equal(warped[50, 60], [255, 128, 64])
    # halfway to the next image pixel, bilinear gives half the value
    np.testing.assert_array_equal(warped[50, 61], [128, 64, 32])
    assert warped[50, 62].max() == 0
    assert warped.sum(axis=2).astype(bool).sum() == 9  # 3x3 crop pixels touch the dot


def test_supersampled_warp_keeps_the_mapping_and_averages_blocks():
    crop = crop_from_box([70.3, 60.1, 170.9, 190.4], size=96, scale=1.2, center_shift=0.1)
    # A smooth blob: its brightness centroid in the crop is where to_crop puts its centre,
    # for k = 1 and k = 2 alike (a block centred half a fine pixel off would move it by
    # 0.25 crop pixels).
    ys, xs = np.mgrid[0:256, 0:256]
    centre = np.array([128.3, 120.7])
    blob = 250 * np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * 12.0**2))
    blob = np.repeat(blob[..., None], 3, axis=2).round().astype(np.uint8)
    expected = crop.to_crop(centre[None])[0]
    rows, cols = np.mgrid[0:96, 0:96]
    for k in (1, 2):
        weight = crop.warp(blob, supersample=k)[..., 0].astype(np.float64)
        centroid = [(weight * cols).sum() / weight.sum(), (weight * rows).sum() / weight.sum()]
        np.testing.assert_allclose(centroid, expected, atol=0.03)
    # k = 2 equals sampling at 2S and INTER_AREA by hand (the training crops' chain).
    ramp = _ramp_image()
    fine = CropTransform(matrix=crop.matrix * 2 + [[0, 0, 0.5], [0, 0, 0.5]], size=192)
    by_hand = cv2.resize(fine.warp(ramp), (96, 96), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(crop.warp(ramp, supersample=2), by_hand)
    np.testing.assert_array_equal(crop.warp(ramp, supersample=1), crop.warp(ramp))


def test_supersampled_warp_smooths_fine_detail_that_plain_bilinear_aliases():
    # 1-pixel stripes shrunk 2x: plain bilinear samples every second column and sees only
    # the white ones; the 2 x 2 blocks of supersampling see both and give the true grey.
    stripes = np.zeros((220, 220, 3), np.uint8)
    stripes[:, ::2] = 255
    crop = CropTransform(matrix=[[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]], size=100)
    plain, smooth = crop.warp(stripes), crop.warp(stripes, supersample=2)
    assert plain[10:90, 10:90].min() == 255
    assert abs(smooth[10:90, 10:90].astype(float).mean() - 127.5) < 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_warp_rejects_bad_supersample(bad):
    crop = CropTransform(matrix=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], size=8)
    with pytest.raises(InvalidInputError, match="supersample"):
        crop.warp(np.zeros((8, 8, 3), np.uint8), supersample=bad)


def test_crop_past_the_border_is_black_and_keeps_the_mapping():
    image = np.full((100, 120, 3), 200, dtype=np.uint8)
    crop = crop_from_box([0, 0, 40, 40], size=64, scale=2.0)  # square -20..60 around (20, 20)
    warped = crop.warp(image)
    assert warped.shape == (64, 64, 3)
    # crop scale 64 / 80 = 0.8; the image's outer edge x = -0.5 lands at 0.8 * 19.5 - 0.5
    corner = crop.to_crop(np.array([[-0.5, -0.5]]))[0]
    np.testing.assert_allclose(corner, [15.1, 15.1], atol=1e-5)
    assert warped[:15, :15].max() == 0  # sources left of / above pixel centre -1
    assert 0 < warped[15, 20, 0] < 200  # source y = -0.625: bilinear blend with the border
    assert warped[16:, 16:].min() == 200  # sources at or inside pixel centre 0


@pytest.mark.parametrize(
    "box",
    [[10, 10, 5, 20], [10, 10, 20, 10], [0, 0, np.nan, 5], [0, 0, np.inf, 5], [1, 2, 3], "abcd"],
)
def test_invalid_boxes_raise(box):
    with pytest.raises(InvalidInputError):
        crop_from_box(box)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": 0},
        {"size": 2.5},
        {"size": "256"},
        {"size": True},
        {"scale": 0.0},
        {"scale": -1},
        {"center_shift": np.nan},
    ],
)
def test_invalid_crop_settings_raise(kwargs):
    with pytest.raises(InvalidInputError):
        crop_from_box([0, 0, 10, 10], **kwargs)


@pytest.mark.parametrize(
    "matrix",
    [
        [[1, 0, 0], [0, 2, 0]],  # anisotropic
        [[1, 0, 0], [0, -1, 0]],  # reflection
        [[1, 0.5, 0], [0, 1, 0]],  # shear
        [[0, 0, 0], [0, 0, 0]],
        [[1, 0], [0, 1]],
    ],
)
def test_non_similarity_matrices_raise(matrix):
    with pytest.raises(InvalidInputError):
        CropTransform(matrix=matrix, size=32)


def test_invalid_landmarks_raise():
    with pytest.raises(InvalidInputError):
        crop_from_landmarks(np.zeros((67, 2)))
    with pytest.raises(InvalidInputError):
        crop_from_landmarks(np.zeros((68, 2)))  # no extent
    bad = np.arange(136, dtype=float).reshape(68, 2)
    bad[3, 0] = np.nan
    with pytest.raises(InvalidInputError):
        crop_from_landmarks(bad)


def test_landmark_crop_at_zero_roll_is_the_axis_aligned_recipe():
    points = np.random.default_rng(3).uniform(0, 900, (68, 3))
    plain, level = crop_from_landmarks(points, 128), crop_from_landmarks(points, 128, roll=0.0)
    np.testing.assert_array_equal(plain.matrix, level.matrix)
    with pytest.raises(InvalidInputError):
        crop_from_landmarks(points, 128, roll=float("nan"))


@pytest.mark.parametrize("roll", [-40.0, 12.0, 35.0])
def test_landmark_crop_turns_a_rolled_face_upright(roll):
    """The crop of a face rolled by ``roll`` degrees (the Pose convention, as rendered),
    given that roll, shows it as the axis-aligned crop shows the upright face."""
    topology = load_topology(256)
    upright = render_synthetic_face(topology, yaw=0, pitch=0, roll=0).landmarks
    rolled = render_synthetic_face(topology, yaw=0, pitch=0, roll=roll).landmarks
    assert np.abs(rolled - upright).max() > 10  # the render did turn the face
    expected = crop_from_landmarks(upright, 128).to_crop(upright)
    turned = crop_from_landmarks(rolled, 128, roll=roll).to_crop(rolled)
    assert np.abs(turned - expected).max() < 0.05
    wrong_way = crop_from_landmarks(rolled, 128, roll=-roll).to_crop(rolled)
    assert np.abs(wrong_way - expected).max() > 5


def test_bad_points_and_images_raise():
    crop = crop_from_box([0, 0, 10, 10])
    with pytest.raises(InvalidInputError):
        crop.to_crop(np.zeros((5, 4)))
    with pytest.raises(InvalidInputError):
        crop.to_image(np.array([["a", "b"]]))
    with pytest.raises(InvalidInputError):
        crop.warp(np.zeros((10, 10, 3), dtype=np.float32))
    with pytest.raises(InvalidInputError):
        crop.warp(np.zeros((10, 10), dtype=np.uint8))


def test_inputs_are_not_mutated_and_results_are_fresh(rng):
    box = np.array([5.0, 6.0, 70.0, 90.0])
    matrix = np.array([[2.0, 0.0, 1.0], [0.0, 2.0, 3.0]])
    crop = CropTransform(matrix=matrix, size=32)
    matrix[0, 0] = 99
    assert crop.matrix[0, 0] == 2.0
    with pytest.raises(ValueError):
        crop.matrix[0, 0] = 5
    crop_from_box(box)
    np.testing.assert_array_equal(box, [5.0, 6.0, 70.0, 90.0])
    points = rng.uniform(0, 50, size=(68, 3)).astype(np.float32)
    before = points.copy()
    crop_from_landmarks(points)
    mapped = crop.to_crop(points)
    crop.to_image(points)
    np.testing.assert_array_equal(points, before)
    assert not np.shares_memory(mapped, points)
    image = rng.integers(0, 255, size=(40, 40, 3), dtype=np.uint8)
    image_before = image.copy()
    crop.warp(image)
    np.testing.assert_array_equal(image, image_before)
    inverse = crop.inverse()
    inverse[0, 0] = 0
    assert crop.inverse()[0, 0] == pytest.approx(0.5)


def test_box_params_table_and_lookup():
    for name in ("landmarks", "given", "dlib_hog", "opencv_haar"):
        params = box_crop_params(name)
        assert params is BOX_CROP_PARAMS[name]
        assert params.scale > 0
    with pytest.raises(InvalidInputError, match="known"):
        box_crop_params("no_such_detector")


def test_fit_recovers_params_of_a_synthetic_detector(rng):
    # a detector whose box is 0.8x the landmark box and sits 0.1 box sides above it
    landmarks = rng.uniform(-1, 1, size=(40, 68, 2)) * 50 + rng.uniform(100, 300, (40, 1, 2))
    low, high = landmarks.min(axis=1), landmarks.max(axis=1)
    center, side = (low + high) / 2, ((high - low).sum(axis=1) / 2)[:, None]
    box_side = 0.8 * side
    box_center = center - np.array([0.0, 0.1]) * box_side
    boxes = np.hstack([box_center - box_side / 2, box_center + box_side / 2])
    params = fit_box_crop_params(boxes, landmarks)
    reference = LANDMARK_CROP_PARAMS[68]
    assert params.scale == pytest.approx(reference.scale / 0.8)
    # box centre 0.1 box sides above the landmark centre; the crop centre sits
    # reference.center_shift landmark sides (= 1 / 0.8 box sides) below that
    assert params.center_shift == pytest.approx(0.1 + reference.center_shift / 0.8)
    # the fitted parameters make the box crop equal the landmark crop
    for box, points in zip(boxes[:3], landmarks[:3], strict=True):
        by_box = crop_from_box(box, 256, params.scale, params.center_shift)
        np.testing.assert_allclose(by_box.matrix, crop_from_landmarks(points).matrix, atol=1e-9)


def test_fit_rejects_mismatched_inputs():
    with pytest.raises(InvalidInputError):
        fit_box_crop_params(np.zeros((0, 4)), np.zeros((0, 68, 2)))
    with pytest.raises(InvalidInputError):
        fit_box_crop_params(np.ones((2, 4)), np.zeros((3, 68, 2)))
    assert BoxCropParams(1.0, 0.0) == BoxCropParams(scale=1.0, center_shift=0.0)


def test_five_point_crop_matches_the_68_point_crop_on_300w():
    folder = require_shared("300w/afw")
    offsets, ratios = [], []
    for pts in sorted(folder.glob("*.pts"))[:60]:
        marks = np.loadtxt(pts)
        five = np.stack([marks[36:42].mean(0), marks[42:48].mean(0), marks[30], marks[48],
                         marks[54]])
        by_five, by_68 = crop_from_landmarks(five), crop_from_landmarks(marks)
        centre = np.array([[127.5, 127.5]])
        shift = by_five.to_image(centre) - by_68.to_image(centre)
        offsets.append(np.linalg.norm(shift) * by_68.scale / 256)
        ratios.append(by_68.scale / by_five.scale)
    assert np.median(offsets) < 0.08  # centres within 8 % of the crop side
    assert 0.9 < np.median(ratios) < 1.1
