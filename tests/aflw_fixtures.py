"""Test helpers shared by the AFLW2000-3D reader and protocol tests (plain module: pytest's
``pythonpath = ["tests"]`` makes it importable as ``aflw_fixtures``)."""

import cv2
import numpy as np

from facerecon.data import aflw2000 as aflw


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
