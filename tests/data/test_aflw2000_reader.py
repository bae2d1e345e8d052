import numpy as np
import pytest
from aflw_fixtures import make_folder
from shared_data import require_shared

from facerecon.data import aflw2000 as aflw
from facerecon.data.aflw2000 import Aflw2000Dataset, read_aflw_mat
from facerecon.errors import DataNotFoundError


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
