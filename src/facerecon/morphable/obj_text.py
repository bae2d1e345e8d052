"""Fast readers for the parts of Wavefront OBJ text that ICT-FaceKit uses.

Only ``v x y z``, ``vt u v`` and ``f v/vt ...`` lines are read. Numbers are converted by numpy
in one call per record type (the 158 ICT files hold 26,719 vertices each, so a per-line
``float()`` loop would dominate loading).
"""

from __future__ import annotations

import lzma
import re
from pathlib import Path

import numpy as np

from facerecon.errors import DataNotFoundError

_VERTEX_LINE = re.compile(rb"^v[ \t]+([^\r\n]*)", re.MULTILINE)
_UV_LINE = re.compile(rb"^vt[ \t]+([^\r\n]*)", re.MULTILINE)
_FACE_LINE = re.compile(rb"^f[ \t]+([^\r\n]*)", re.MULTILINE)


def read_obj_bytes(path: Path) -> bytes:
    """Return the text of ``path``; ``*.xz`` files are decompressed with lzma."""
    try:
        data = path.read_bytes()
        return lzma.decompress(data) if path.suffix == ".xz" else data
    except (OSError, lzma.LZMAError) as error:
        raise DataNotFoundError(f"cannot read OBJ file {path}: {error}") from error


def _numbers(lines: list[bytes], columns: int, what: str, path: Path) -> np.ndarray:
    values = np.fromstring(b" ".join(lines), dtype=np.float64, sep=" ")
    if values.size != columns * len(lines):
        # vt lines may carry an optional third coordinate; v lines an optional weight.
        rows = [np.array(line.split()[:columns], dtype=np.float64) for line in lines]
        if any(row.size != columns for row in rows):
            raise DataNotFoundError(f"{path}: malformed '{what}' lines")
        return np.stack(rows)
    return values.reshape(-1, columns)


def parse_vertices(data: bytes, path: Path) -> np.ndarray:
    """All ``v`` lines as an (N, 3) float64 array, in file order."""
    lines = _VERTEX_LINE.findall(data)
    if not lines:
        raise DataNotFoundError(f"{path}: no vertex lines")
    return _numbers(lines, 3, "v", path)


def parse_uvs(data: bytes, path: Path) -> np.ndarray:
    """All ``vt`` lines as an (N, 2) float64 array (u right, v up, OBJ convention)."""
    lines = _UV_LINE.findall(data)
    if not lines:
        raise DataNotFoundError(f"{path}: no 'vt' lines")
    return _numbers(lines, 2, "vt", path)


def parse_faces(data: bytes, path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polygon faces as flat 0-based corner arrays.

    Returns:
        vertex_index: (C,) int64, the ``v`` index of every face corner, faces concatenated;
        uv_index: (C,) int64, the ``vt`` index of every corner;
        face_start: (F + 1,) int64 offsets, face k owns corners ``face_start[k]:face_start[k+1]``.

    Raises:
        DataNotFoundError: a face without ``vt`` indices or with negative (relative) indices.
    """
    lines = _FACE_LINE.findall(data)
    if not lines:
        raise DataNotFoundError(f"{path}: no face lines")
    corner_counts = np.array([len(line.split()) for line in lines], dtype=np.int64)
    corners = b" ".join(lines).split()
    fields_per_corner = corners[0].count(b"/") + 1
    if fields_per_corner < 2:
        raise DataNotFoundError(f"{path}: faces must carry 'v/vt' indices")
    # Every corner must have the same 'v/vt' or 'v/vt/vn' form; 'v//vn' has no vt and fails.
    values = np.fromstring(b" ".join(lines).replace(b"/", b" "), dtype=np.float64, sep=" ")
    if values.size != fields_per_corner * len(corners) or values.min() < 1:
        raise DataNotFoundError(f"{path}: malformed, mixed or relative face indices")
    indices = values.reshape(-1, fields_per_corner)[:, :2].astype(np.int64) - 1
    face_start = np.concatenate([[0], np.cumsum(corner_counts)])
    return indices[:, 0], indices[:, 1], face_start


def triangulate(vertex_index: np.ndarray, uv_index: np.ndarray, face_start: np.ndarray,
                faces: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fan-triangulate the selected polygon faces, keeping the OBJ winding.

    Returns (triangles (T, 3) int64 vertex indices, triangle_uvs (T, 3) int64 ``vt`` indices,
    triangle_face (T,) int64 the polygon each triangle came from).
    """
    face_ids = np.arange(face_start.size - 1)[faces]
    starts = face_start[face_ids]
    counts = face_start[face_ids + 1] - starts
    triangles, triangle_uvs, owners = [], [], []
    # A polygon with n corners gives n - 2 triangles (0, k, k + 1); ICT has only n = 3 and 4.
    for k in range(1, int(counts.max()) - 1):
        has = counts >= k + 2
        first, second, third = starts[has], starts[has] + k, starts[has] + k + 1
        triangles.append(np.stack([vertex_index[c] for c in (first, second, third)], axis=1))
        triangle_uvs.append(np.stack([uv_index[c] for c in (first, second, third)], axis=1))
        owners.append(face_ids[has])
    order = np.argsort(np.concatenate(owners), kind="stable")
    return (np.concatenate(triangles)[order], np.concatenate(triangle_uvs)[order],
            np.concatenate(owners)[order])
