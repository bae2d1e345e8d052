import doctest

import numpy as np
import pytest

from facerecon.errors import InvalidInputError
from facerecon.evaluate import surface
from facerecon.evaluate.surface import normal_error_deg


def test_module_doctest_passes():
    assert doctest.testmod(surface).failed == 0


def _plane(slope_x: float = 0.0, size: int = 8) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    return np.stack([xx, yy, slope_x * xx], axis=-1)


def test_identical_and_shifted_or_scaled_surfaces_have_no_normal_error():
    mask = np.ones((8, 8), bool)
    surface = _plane(0.3) + np.random.default_rng(0).normal(0, 0.1, (8, 8, 3))
    assert normal_error_deg(surface, surface, mask) == pytest.approx(0.0, abs=1e-6)
    assert normal_error_deg(surface * 2 + 5, surface, mask) == pytest.approx(0.0, abs=1e-6)


def test_known_tilts_and_a_batch():
    mask = np.ones((8, 8), bool)
    pred = np.stack([_plane(1.0), _plane(np.sqrt(3))])  # 45 and 60 degrees
    true = np.stack([_plane(0.0), _plane(0.0)])
    np.testing.assert_allclose(normal_error_deg(pred, true, mask), [45.0, 60.0])
    # A surface facing the other way (mirrored in z) is 180 degrees off, not 0.
    flipped = _plane(0.0)
    assert normal_error_deg(flipped * [1, -1, 1], flipped, mask) == pytest.approx(180.0)


def test_a_collapsed_prediction_is_not_rewarded():
    mask = np.ones((8, 8), bool)
    assert normal_error_deg(np.zeros((8, 8, 3)), _plane(1.0), mask) == pytest.approx(90.0)


def test_only_pixels_with_both_neighbours_in_the_mask_count():
    mask = np.zeros((8, 8), bool)
    mask[:4, :4] = True
    pred = _plane(0.0)
    pred[4:, :, 2] += np.arange(4)[:, None] * 5.0  # rough, but outside the mask
    pred[:, 4:, 2] += 100.0
    assert normal_error_deg(pred, _plane(0.0), mask) == pytest.approx(0.0, abs=1e-9)


def test_bad_shapes_and_empty_masks_raise():
    with pytest.raises(InvalidInputError):
        normal_error_deg(_plane(), _plane()[:, :, :2], np.ones((8, 8), bool))
    with pytest.raises(InvalidInputError):
        normal_error_deg(_plane(), _plane(), np.ones((7, 7), bool))
    with pytest.raises(InvalidInputError):
        normal_error_deg(_plane(), _plane(), np.eye(8, dtype=bool))
