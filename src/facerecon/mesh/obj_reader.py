"""Wavefront OBJ reader for the files :mod:`facerecon.mesh.obj` writes (and similar ones).

Numbers are parsed in bulk (``np.loadtxt``) and each distinct ``f`` corner token once, so a
44k-vertex face mesh reads in well under a second on the development machine (see
benchmarks/results/mesh_export.json).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from facerecon.errors import DataNotFoundError, ImageReadError, InvalidInputError
from facerecon.mesh.mesh import Mesh, to_file_frame


def read_obj(path: str | os.PathLike, frame: str = "y_up") -> Mesh:
    """Read an OBJ written by ``write_obj`` or ``write_textured_obj`` into a Mesh.

    Supports ``v x y z [r g b]``, ``vt u v [w]``, ``f`` with any of the four index forms
    (``a``, ``a/b``, ``a//c``, ``a/b/c``; negative indices count back; polygons become
    triangle fans) and ``mtllib`` with a ``map_Kd`` texture relative to the OBJ's folder.
    Texture coordinates must be per vertex (each vertex uses one ``vt``, as our writer
    does); a file whose faces give one vertex two uvs raises InvalidInputError. Normals,
    groups and further materials are ignored. ``frame`` must be the frame the file was
    written in; vertices come back in the image frame.

    Raises:
        DataNotFoundError: the OBJ, its MTL or its texture file is missing.
        InvalidInputError: the file is malformed or holds something the Mesh cannot.
        ImageReadError: the texture file cannot be decoded.
    """
    obj_path = Path(path)
    if not obj_path.is_file():
        raise DataNotFoundError(f"OBJ file not found: {obj_path}")
    vertex_lines: list[str] = []
    uv_lines: list[str] = []
    corners: list[str] = []  # one token per triangle corner, after fan triangulation
    mtl_name = None
    for line in obj_path.read_text(encoding="utf-8").splitlines():
        head = line.split(None, 1)
        if len(head) < 2:
            continue
        key, rest = head
        if key == "v":
            vertex_lines.append(rest)
        elif key == "vt":
            uv_lines.append(rest)
        elif key == "f":
            polygon = rest.split()
            if len(polygon) < 3:
                raise InvalidInputError(f"{obj_path}: a face needs 3 corners: {line!r}")
            if "-" in rest:  # relative indices depend on how many rows came before
                polygon = [_absolute(t, len(vertex_lines), len(uv_lines)) for t in polygon]
            for i in range(1, len(polygon) - 1):
                corners.extend((polygon[0], polygon[i], polygon[i + 1]))
        elif key == "mtllib" and mtl_name is None:
            mtl_name = rest.strip()
    if not vertex_lines:
        raise InvalidInputError(f"{obj_path}: no vertices")

    try:
        vertex_rows = np.loadtxt(vertex_lines, dtype=np.float64, ndmin=2)
        uv_rows = np.zeros((0, 2))
        if uv_lines:
            uv_rows = np.loadtxt(uv_lines, dtype=np.float64, ndmin=2, usecols=(0, 1))
        unique = dict.fromkeys(corners)
        table = np.array([_corner(token) for token in unique], dtype=np.int64).reshape(-1, 2)
    except ValueError as error:  # a malformed number or a changing column count
        raise InvalidInputError(f"{obj_path}: malformed OBJ: {error}") from error
    if vertex_rows.shape[1] not in (3, 6):
        raise InvalidInputError(f"{obj_path}: 'v' lines must all have 3 or all have 6 values")
    position = {token: i for i, token in enumerate(unique)}
    pairs = table[np.fromiter((position[t] for t in corners), np.int64, len(corners))]
    vertex_index = pairs[:, 0].reshape(-1, 3)
    if vertex_index.size and (vertex_index.min() < 0 or vertex_index.max() >= len(vertex_rows)):
        raise InvalidInputError(f"{obj_path}: face index out of range")

    uvs = _per_vertex_uvs(pairs, uv_rows, len(vertex_rows), obj_path)
    texture = None
    if mtl_name is not None and uvs is not None:
        texture = _texture_from_mtl(obj_path.parent / mtl_name)
    return Mesh(
        vertices=to_file_frame(vertex_rows[:, :3], frame),
        triangles=vertex_index,
        colors=vertex_rows[:, 3:6] if vertex_rows.shape[1] == 6 else None,
        uvs=uvs,
        texture=texture,
    )


def _absolute(token: str, vertex_count: int, uv_count: int) -> str:
    """Rewrite a corner token with negative (relative) indices as positive 1-based ones."""
    fields = token.split("/")
    for k, count in ((0, vertex_count), (1, uv_count)):
        if len(fields) > k and fields[k].startswith("-"):
            fields[k] = str(count + int(fields[k]) + 1)
    return "/".join(fields)


def _corner(token: str) -> tuple[int, int]:
    """Parse a positive ``f`` token to 0-based (vertex, uv), uv = -1 when it has none."""
    fields = token.split("/")
    uv = int(fields[1]) - 1 if len(fields) > 1 and fields[1] else -1
    return int(fields[0]) - 1, uv


def _per_vertex_uvs(
    pairs: np.ndarray, uv_rows: np.ndarray, vertex_count: int, path: Path
) -> np.ndarray | None:
    """(N, 2) uvs from (corner count, 2) (vertex, uv) index pairs, or None without uvs."""
    has_uv = pairs[:, 1] >= 0
    if not pairs.size or not has_uv.any():
        return None
    if not has_uv.all():
        raise InvalidInputError(f"{path}: some face corners have a vt index and some do not")
    vertex_index, uv_index = pairs[:, 0], pairs[:, 1]
    if uv_index.max() >= len(uv_rows):
        raise InvalidInputError(f"{path}: vt index out of range")
    if len(uv_rows) == vertex_count and np.array_equal(uv_index, vertex_index):
        return uv_rows  # our writer's layout: vt i belongs to v i, referenced or not
    uvs = np.zeros((vertex_count, 2), dtype=np.float64)
    uvs[vertex_index] = uv_rows[uv_index]
    if not np.array_equal(uvs[vertex_index], uv_rows[uv_index]):
        raise InvalidInputError(f"{path}: a vertex has two different uvs")
    return uvs


def _texture_from_mtl(mtl_path: Path) -> np.ndarray | None:
    if not mtl_path.is_file():
        raise DataNotFoundError(f"material file not found: {mtl_path}")
    for line in mtl_path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        # map_Kd may carry options before the name; the name is the last token.
        if parts and parts[0] == "map_Kd" and len(parts) > 1:
            return _read_texture(mtl_path.parent / parts[-1])
    return None


def _read_texture(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise DataNotFoundError(f"texture file not found: {path}")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, UnidentifiedImageError) as error:
        raise ImageReadError(str(path), f"cannot read texture: {error}") from error
