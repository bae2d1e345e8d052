from pathlib import Path

import cv2
import numpy as np
import pytest

from facerecon.data.pts import iter_300w, read_pts
from facerecon.errors import DataNotFoundError, InvalidInputError
from tests.conftest import require_shared


def _points(rng) -> np.ndarray:
    return rng.uniform(0, 200, size=(68, 2)).astype(np.float32)


def test_read_bare_format(tmp_path, rng):
    points = _points(rng)
    path = tmp_path / "a.pts"
    path.write_text("".join(f"{x:.6f} {y:.6f}\n" for x, y in points))
    out = read_pts(path)
    assert out.dtype == np.float32 and out.shape == (68, 2)
    np.testing.assert_allclose(out, points, atol=1e-5)


def test_read_ibug_format(tmp_path, rng):
    points = _points(rng)
    body = "".join(f"{x:.3f} {y:.3f}\n" for x, y in points)
    path = tmp_path / "a.pts"
    path.write_text(f"version: 1\nn_points:  68\n{{\n{body}}}\n")
    np.testing.assert_allclose(read_pts(path), points, atol=1e-3)


@pytest.mark.parametrize(
    "text",
    ["1 2\n" * 67, "1 2 3\n" * 68, "version: 1\nn_points: 60\n{\n" + "1 2\n" * 68 + "}\n", "a b\n"],
)
def test_bad_files(tmp_path, text):
    path = tmp_path / "bad.pts"
    path.write_text(text)
    with pytest.raises(InvalidInputError):
        read_pts(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError):
        read_pts(tmp_path / "none.pts")


def test_iter_300w_pairs_and_missing_image(tmp_path, rng):
    sub = tmp_path / "set"
    sub.mkdir()
    for name in ("b", "a"):
        cv2.imwrite(str(sub / f"{name}.jpg"), np.zeros((8, 8, 3), np.uint8))
        (sub / f"{name}.pts").write_text("1 2\n" * 68)
    pairs = list(iter_300w(tmp_path))
    assert [path.name for path, _ in pairs] == ["a.jpg", "b.jpg"]
    (sub / "c.pts").write_text("1 2\n" * 68)
    with pytest.raises(DataNotFoundError):
        list(iter_300w(tmp_path))
    with pytest.raises(DataNotFoundError):
        list(iter_300w(tmp_path / "nope"))


def test_shared_300w_helen():
    folder = require_shared("300w/helen-train")
    pairs = list(iter_300w(folder))
    assert len(pairs) == 870
    image_path, points = pairs[0]
    assert Path(image_path).suffix == ".jpg" and points.shape == (68, 2)
    # The README says every landmark lies inside its crop.
    height, width = cv2.imread(str(image_path)).shape[:2]
    assert points.min() >= 0 and points[:, 0].max() <= width and points[:, 1].max() <= height
