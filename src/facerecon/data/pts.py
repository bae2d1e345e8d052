"""300-W landmark files (``.pts``) and folders of image + ``.pts`` pairs.

Two layouts are accepted: the iBUG release (``version: 1``, ``n_points: 68``, ``{``, 68
lines ``x y``, ``}``) and the bare 68 lines ``x y`` of ``shared/data/300w``. Coordinates are
x = column, y = row in pixels of the matching image, returned exactly as stored (no 0/1-based
offset is applied; the shared copies were re-expressed in crop pixels by a plain scaling).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.imageio import IMAGE_EXTENSIONS


def read_pts(path: str | Path, n_points: int = 68) -> np.ndarray:
    """Read a ``.pts`` file into an (n_points, 2) float32 array of (x, y) rows."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise DataNotFoundError(f"cannot read {path}: {error}") from error
    rows = []
    declared = None
    for line in lines:
        text = line.strip()
        if not text or text in "{}":
            continue
        key, sep, value = text.partition(":")
        if sep:
            if key.strip() == "n_points":
                declared = int(value)
            continue  # "version: 1" and other header fields
        parts = text.split()
        if len(parts) != 2:
            raise InvalidInputError(f"{path}: expected 'x y' per line, got {text!r}")
        try:
            rows.append((float(parts[0]), float(parts[1])))
        except ValueError as error:
            raise InvalidInputError(f"{path}: not a number in {text!r}") from error
    if declared is not None and declared != len(rows):
        raise InvalidInputError(f"{path}: header says {declared} points, file has {len(rows)}")
    if len(rows) != n_points:
        raise InvalidInputError(f"{path}: expected {n_points} points, got {len(rows)}")
    points = np.asarray(rows, dtype=np.float32)
    if not np.all(np.isfinite(points)):
        raise InvalidInputError(f"{path}: non-finite coordinates")
    return points


def find_image_for(pts_path: Path) -> Path:
    """The image beside a ``.pts`` file with the same stem; DataNotFoundError if none."""
    for suffix in IMAGE_EXTENSIONS:
        for candidate in (pts_path.with_suffix(suffix), pts_path.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    raise DataNotFoundError(f"no image beside {pts_path}")


def iter_300w(folder: str | Path, recursive: bool = True) -> Iterator[tuple[Path, np.ndarray]]:
    """Yield ``(image path, (68, 2) float32 landmarks)`` for every ``.pts`` of a folder.

    Sorted by path; a ``.pts`` without an image raises DataNotFoundError.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"300-W folder not found: {folder}")
    pattern = "**/*.pts" if recursive else "*.pts"
    pts_files = sorted(folder.glob(pattern))
    if not pts_files:
        raise DataNotFoundError(f"no .pts files in {folder}")
    for pts_path in pts_files:
        yield find_image_for(pts_path), read_pts(pts_path)
