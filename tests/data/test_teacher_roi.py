import math

import numpy as np
import pytest

from facerecon.data.teacher.roi import (
    CROP_SIZE,
    RoiRule,
    crop_roi_bgr,
    crop_to_image,
    landmark_box,
    roi_from_box,
)
from facerecon.errors import InvalidInputError


def test_detector_rule_known_values():
    # box 100 x 60: mean size 80, centre (60, 40) moved down by 0.14 * 80, side int(1.58 * 80).
    roi = roi_from_box([10, 10, 110, 70], "detector")
    side = float(int(1.58 * 80))
    np.testing.assert_allclose(
        roi, [60 - side / 2, 51.2 - side / 2, 60 + side / 2, 51.2 + side / 2], atol=1e-4
    )


def test_landmark_rule_is_diagonal_square():
    roi = roi_from_box([0, 0, 40, 100], "landmarks")
    assert roi[2] - roi[0] == pytest.approx(100 * math.sqrt(2), abs=1e-4)
    assert (roi[0] + roi[2]) / 2 == pytest.approx(20) and (roi[1] + roi[3]) / 2 == pytest.approx(50)


def test_tuned_rule_shifts_down():
    roi = roi_from_box([0, 0, 40, 100], "landmarks_tuned")  # max size 100
    np.testing.assert_allclose(roi, [20 - 72.5, 75 - 72.5, 20 + 72.5, 75 + 72.5], atol=1e-4)


def test_dlib_hog_rule_uses_mean_size_and_shifts_down():
    # box 100 x 80: mean size 90, centre (50, 40) moved down by 0.2 * 90, side 1.3 * 90 = 117.
    roi = roi_from_box([0, 0, 100, 80], "dlib_hog")
    np.testing.assert_allclose(roi, [50 - 58.5, 58 - 58.5, 50 + 58.5, 58 + 58.5], atol=1e-4)


def test_custom_rule_and_errors():
    roi = roi_from_box([0, 0, 10, 10], RoiRule(scale=2.0, shift_y=0.5, size_from="max"))
    np.testing.assert_allclose(roi, [-5, 0, 15, 20])
    with pytest.raises(InvalidInputError):
        roi_from_box([0, 0, 10, 10], "nope")
    with pytest.raises(InvalidInputError):
        roi_from_box([10, 0, 0, 10])


def test_landmark_box():
    points = np.array([[1, 5, 9], [3, 2, 0], [2, 7, 1]], np.float32)
    assert landmark_box(points).tolist() == [1, 2, 3, 7]


def test_crop_pads_with_zeros_and_swaps_to_bgr():
    image = np.zeros((60, 60, 3), np.uint8)
    image[..., 0] = 255  # pure red in RGB
    before = image.copy()
    crop = crop_roi_bgr(image, [-60, 0, 60, 120])  # left half and bottom half outside
    np.testing.assert_array_equal(image, before)
    assert crop.shape == (CROP_SIZE, CROP_SIZE, 3) and crop.dtype == np.uint8
    assert crop[10, 100].tolist() == [0, 0, 255]  # inside: red lands in the last channel
    assert crop[10, 10].tolist() == [0, 0, 0] and crop[110, 100].tolist() == [0, 0, 0]


def test_crop_identity_when_roi_is_120_pixels():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)
    crop = crop_roi_bgr(image, [30, 40, 150, 160])
    np.testing.assert_array_equal(crop, image[40:160, 30:150, ::-1])


def test_crop_to_image_scales_and_shifts():
    points = np.array([[[0, 0, 10], [120, 60, -10]]], np.float32)
    out = crop_to_image(points, np.array([[10, 20, 250, 140]], np.float32))
    np.testing.assert_allclose(out[0], [[10, 20, 15], [250, 80, -15]])


def test_doctests():
    import doctest

    from facerecon.data.teacher import roi

    assert doctest.testmod(roi).failed == 0
