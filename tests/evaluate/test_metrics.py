import doctest

import numpy as np
import pytest

from facerecon.errors import InvalidInputError
from facerecon.evaluate import metrics
from facerecon.evaluate.metrics import (
    bbox_normalizer,
    binned_errors,
    nme_bbox,
    nme_bbox_3d,
    nme_interocular,
    yaw_bin,
)


def test_doctests():
    assert doctest.testmod(metrics).failed == 0


def test_bbox_normalizer_known_box():
    gt = np.array([[0, 0], [8, 0], [8, 2], [3, 1]], np.float32)
    assert bbox_normalizer(gt) == pytest.approx(4.0)  # sqrt(8 * 2)


def test_nme_bbox_hand_case_and_batch():
    gt = np.array([[0, 0], [8, 0], [8, 2], [0, 2]], np.float64)  # sqrt(w h) = 4
    pred = gt + np.array([[3, 4], [0, 0], [0, 0], [0, 0]])  # one point off by 5
    assert nme_bbox(pred, gt) == pytest.approx(5 / 4 / 4)
    batch = nme_bbox(np.stack([pred, gt]), np.stack([gt, gt]))
    np.testing.assert_allclose(batch, [5 / 16, 0.0])
    # z is ignored by the 2D metric.
    assert nme_bbox(np.c_[pred, np.ones(4) * 100], np.c_[gt, np.zeros(4)]) == pytest.approx(5 / 16)


def test_nme_bbox_3d_centres_z():
    gt = np.array([[0, 0, 0], [8, 0, 2], [8, 2, 4], [0, 2, 2]], np.float64)
    shifted = gt + [0, 0, 50]  # a z offset alone costs nothing
    assert nme_bbox_3d(shifted, gt) == pytest.approx(0.0)
    pred = gt.copy()
    pred[:, 2] = [4, 2, 0, 2]  # z mirrored around its mean 2: errors 2*|z - 2| = 4, 0, 4, 0
    assert nme_bbox_3d(pred, gt) == pytest.approx(2 / 4)


def test_nme_interocular():
    gt = np.zeros((68, 2))
    gt[36] = [0, 0]
    gt[45] = [10, 0]
    pred = gt.copy()
    pred[0] = [0, 6.8]  # mean error 0.1 px
    assert nme_interocular(pred, gt) == pytest.approx(0.01)
    bad = np.zeros((68, 2))
    with pytest.raises(InvalidInputError):
        nme_interocular(bad, bad)


def test_shape_errors():
    with pytest.raises(InvalidInputError):
        nme_bbox(np.zeros((67, 2)), np.zeros((68, 2)))
    with pytest.raises(InvalidInputError):
        nme_bbox_3d(np.zeros((68, 2)), np.zeros((68, 2)))


def test_yaw_bins_edges_and_sign():
    assert yaw_bin([0, 30, 30.01, -60, 60.5, -351.2, 187.8]).tolist() == [0, 0, 1, 1, 2, 2, 2]


def test_binned_errors_summary():
    result = binned_errors([0.1, 0.2, 0.4, 0.6], [5, -20, 45, 75])
    assert result.counts == (2, 1, 1)
    assert result.bin_means == pytest.approx((0.15, 0.4, 0.6))
    assert result.mean_of_bins == pytest.approx((0.15 + 0.4 + 0.6) / 3)
    assert result.mean == pytest.approx(0.325)
    table = result.as_dict()
    assert table["counts"] == [2, 1, 1] and table["mean"] == pytest.approx(32.5)


def test_binned_errors_empty_bin_is_none():
    result = binned_errors([0.1, 0.3], [10, 20])
    assert result.bin_means[1] is None and result.mean_of_bins == pytest.approx(0.2)
    with pytest.raises(InvalidInputError):
        binned_errors([0.1], [1, 2])
