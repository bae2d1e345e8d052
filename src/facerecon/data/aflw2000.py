"""AFLW2000-3D: the per-image ``.mat`` files and the 3DDFA benchmark arrays.

A dataset folder (like ``shared/data/aflw2000-3d``) holds images ``imageXXXXX.jpg`` (450x450),
optionally their ``.mat`` files, and the 3DDFA arrays whose row i belongs to line i of
``AFLW2000-3D.list``:

- ``AFLW2000-3D.pts68.npy`` (2000, 3, 68): original 3D landmarks (x, y, z rows), required;
- ``AFLW2000-3D_crop.roi_box.npy`` (2000, 4): the benchmark's crop ROI ``xyxy``, required;
- ``AFLW2000-3D.pose.npy`` (2000,): signed yaw in degrees from the fitted pose, required;
- ``AFLW2000-3D-Reannotated.pts68.npy`` (2000, 2, 68) and ``AFLW2000-3D-new.pose.npy``
  (2000,), AFLW's own non-negative yaw: optional (None when absent).

:class:`Aflw2000Dataset` lists exactly the images present and joins them to their rows by
file name, so any subset of the 2000 images can be scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facerecon.errors import DataNotFoundError, InvalidInputError

LIST_FILE = "AFLW2000-3D.list"
PTS68_FILE = "AFLW2000-3D.pts68.npy"
ROI_FILE = "AFLW2000-3D_crop.roi_box.npy"
POSE_FILE = "AFLW2000-3D.pose.npy"
REANNOTATED_FILE = "AFLW2000-3D-Reannotated.pts68.npy"
NEW_POSE_FILE = "AFLW2000-3D-new.pose.npy"


@dataclass(frozen=True)
class AflwMat:
    """The fields of one AFLW2000-3D ``.mat`` file that facerecon uses.

    Attributes:
        pt3d_68: (68, 3) float32 landmarks (x, y in 450x450 pixels, z same scale).
        pitch, yaw, roll: radians, from ``Pose_Para[:3]`` (3DDFA's fitted pose).
        roi: (4,) float32 face box in the *original* AFLW photo (not the 450x450 crop).
    """

    pt3d_68: np.ndarray
    pitch: float
    yaw: float
    roll: float
    roi: np.ndarray


def read_aflw_mat(path: str | Path) -> AflwMat:
    """Read one AFLW2000-3D ``.mat`` file (``scipy.io.loadmat``)."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"no such .mat file: {path}")
    try:
        mat = loadmat(path)
        pt3d = np.asarray(mat["pt3d_68"], dtype=np.float32).reshape(3, 68).T.copy()
        pose = np.asarray(mat["Pose_Para"], dtype=np.float64).reshape(-1)
        roi = np.asarray(mat["roi"], dtype=np.float32).reshape(4)
    except (KeyError, ValueError) as error:
        raise InvalidInputError(f"{path}: not an AFLW2000-3D .mat file: {error}") from error
    return AflwMat(pt3d, float(pose[0]), float(pose[1]), float(pose[2]), roi)


@dataclass(frozen=True)
class Aflw2000Sample:
    """One image of the dataset with its benchmark annotations.

    Attributes:
        name: file name, e.g. ``image00050.jpg``; row: its index in the 2000-row arrays.
        image_path, mat_path (None when the ``.mat`` is absent).
        pts68: (68, 3) float32 original landmarks. pts68_reannotated: (68, 2) float32 or None.
        roi_box: (4,) float32 ``xyxy`` benchmark ROI.
        yaw: signed yaw (degrees) from ``AFLW2000-3D.pose.npy``.
        yaw_new: yaw (degrees, >= 0) from ``AFLW2000-3D-new.pose.npy`` or None.
    """

    name: str
    row: int
    image_path: Path
    mat_path: Path | None
    pts68: np.ndarray
    pts68_reannotated: np.ndarray | None
    roi_box: np.ndarray
    yaw: float
    yaw_new: float | None


def _load(root: Path, name: str, shape_tail: tuple[int, ...], rows: int) -> np.ndarray:
    array = np.load(root / name, allow_pickle=False)
    if array.shape != (rows, *shape_tail):
        raise InvalidInputError(
            f"{root / name}: shape {array.shape}, expected {(rows, *shape_tail)}"
        )
    return array.astype(np.float32, copy=False)


class Aflw2000Dataset:
    """The AFLW2000-3D images present in ``root``, joined to their benchmark rows by name.

    ``len(dataset)`` is the number of images found; ``dataset[i]`` is an
    :class:`Aflw2000Sample`; samples are in name order.
    """

    def __init__(self, root: str | Path):
        root = Path(root)
        if not root.is_dir():
            raise DataNotFoundError(f"AFLW2000-3D folder not found: {root}")
        missing = [
            f for f in (LIST_FILE, PTS68_FILE, ROI_FILE, POSE_FILE) if not (root / f).is_file()
        ]
        if missing:
            raise DataNotFoundError(f"AFLW2000-3D folder {root} lacks {', '.join(missing)}")
        names = (root / LIST_FILE).read_text(encoding="utf-8").split()
        count = len(names)
        pts68 = _load(root, PTS68_FILE, (3, 68), count)
        roi = _load(root, ROI_FILE, (4,), count)
        pose = _load(root, POSE_FILE, (), count)
        reannotated = (
            _load(root, REANNOTATED_FILE, (2, 68), count)
            if (root / REANNOTATED_FILE).is_file()
            else None
        )
        new_pose = (
            _load(root, NEW_POSE_FILE, (), count) if (root / NEW_POSE_FILE).is_file() else None
        )
        row_of = {name: row for row, name in enumerate(names)}
        images = sorted(p for p in root.iterdir() if p.suffix.lower() == ".jpg" and p.is_file())
        if not images:
            raise DataNotFoundError(f"no .jpg images in {root}")
        unknown = [p.name for p in images if p.name not in row_of]
        if unknown:
            raise DataNotFoundError(
                f"{len(unknown)} images of {root} are not in {LIST_FILE}: {unknown[:5]}"
            )
        self.root = root
        self.has_reannotated = reannotated is not None
        self.has_new_pose = new_pose is not None
        self.samples: list[Aflw2000Sample] = []
        for path in images:
            row = row_of[path.name]
            mat = path.with_suffix(".mat")
            self.samples.append(
                Aflw2000Sample(
                    name=path.name,
                    row=row,
                    image_path=path,
                    mat_path=mat if mat.is_file() else None,
                    pts68=pts68[row].T.copy(),
                    pts68_reannotated=None if reannotated is None else reannotated[row].T.copy(),
                    roi_box=roi[row].copy(),
                    yaw=float(pose[row]),
                    yaw_new=None if new_pose is None else float(new_pose[row]),
                )
            )

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Aflw2000Sample:
        return self.samples[index]

    def __iter__(self):
        return iter(self.samples)

    @property
    def names(self) -> list[str]:
        return [sample.name for sample in self.samples]
