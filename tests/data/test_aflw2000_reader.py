import cv2
import numpy as np
import pytest

from facerecon.data import aflw2000 as aflw
from facerecon.data.aflw2000 import Aflw2000Dataset, read_aflw_mat
from facerecon.errors import DataNotFoundError
from tests.conftest import require_shared


def make_folder(root, rng, names=("image00004.jpg", "image00002.jpg"), images=None):
    """A small AFLW2000-3D-like folder: a 3-row list and arrays, images for some names."""
    root.mkdir(exist_ok=True)
    listed = ["image00002.jpg", "image00003.jpg", "image00004.jpg"]
    (root / aflw.LIST_FILE).write_text("\n".join(listed) + "\n")
    pts = rng.uniform(50, 400, size=(3, 3, 68)).astype(np.float32)
    np.save(root / aflw.PTS68_FILE, pts)
    np.save(
        root / aflw.ROI_FILE, np.array([[0, 0, 100, 100]] * 3, np.float32) + np.arange(3)[:, None]
    )
    np.save(root / aflw.POSE_FILE, np.array([10.0, -45.0, 80.0], np.float32))
    np.save(root / aflw.REANNOTATED_FILE, pts[:, :2] + 1)
    for name in images if images is not None else names:
        cv2.imwrite(str(root / name), np.zeros((450, 450, 3), np.uint8))
    return pts


def test_joins_present_images_by_name(tmp_path, rng):
    pts = make_folder(tmp_path / "d", rng)
    dataset = Aflw2000Dataset(tmp_path / "d")
    assert dataset.names == ["image00002.jpg", "image00004.jpg"]
    last = dataset[1]
    assert last.row == 2 and last.yaw == 80.0 and last.mat_path is None
    np.testing.assert_array_equal(last.pts68, pts[2].T)
    np.testing.assert_array_equal(last.pts68_reannotated, pts[2, :2].T + 1)
    assert last.roi_box.tolist() == [2, 2, 102, 102]
    assert dataset.has_reannotated and not dataset.has_new_pose and last.yaw_new is None


def test_missing_array_is_named(tmp_path, rng):
    make_folder(tmp_path / "d", rng)
    (tmp_path / "d" / aflw.ROI_FILE).unlink()
    with pytest.raises(DataNotFoundError, match="roi_box"):
        Aflw2000Dataset(tmp_path / "d")


def test_unknown_image_and_empty_folder(tmp_path, rng):
    make_folder(tmp_path / "d", rng, images=["image09999.jpg"])
    with pytest.raises(DataNotFoundError, match="not in"):
        Aflw2000Dataset(tmp_path / "d")
    make_folder(tmp_path / "e", rng, images=[])
    with pytest.raises(DataNotFoundError, match="no .jpg"):
        Aflw2000Dataset(tmp_path / "e")


def test_shared_folder_matches_mat_files():
    root = require_shared("aflw2000-3d")
    dataset = Aflw2000Dataset(root)
    assert len(dataset) == 16 and dataset.has_new_pose and dataset.has_reannotated
    for sample in dataset:
        mat = read_aflw_mat(sample.mat_path)
        np.testing.assert_array_equal(mat.pt3d_68, sample.pts68)
        assert abs(np.degrees(mat.yaw) - sample.yaw) < 1e-3
