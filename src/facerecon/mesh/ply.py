"""Binary little-endian PLY writer and reader.

File layout written by :func:`write_ply` (``format binary_little_endian 1.0``)::

    element vertex N
      property float x, y, z                 (frame: "y_up" by default, see below)
      property uchar red, green, blue        (only if the mesh has colours: round(255 * c))
      property float s, t                    (only if the mesh has uvs; OBJ convention, v up)
    element face M
      property list uchar int vertex_indices (0-based, 3 per face)

PLY has no standard texture reference, so a texture is not written (use the textured OBJ or
GLB). Colours are quantised to 8 bits, so they come back within 0.5 / 255. Frames as in
:mod:`facerecon.mesh.mesh`: ``"y_up"`` negates y (right-handed, normals of front faces to
+z), ``"image"`` keeps raw image-frame coordinates.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from facerecon.atomic import write_bytes
from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.mesh.mesh import Mesh, to_file_frame

# PLY scalar type names (both spellings of the standard) -> little-endian numpy dtypes.
_PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "<i2", "int16": "<i2", "ushort": "<u2", "uint16": "<u2",
    "int": "<i4", "int32": "<i4", "uint": "<u4", "uint32": "<u4",
    "float": "<f4", "float32": "<f4", "double": "<f8", "float64": "<f8",
}  # fmt: skip
_FACE_NAMES = ("vertex_indices", "vertex_index")


def write_ply(mesh: Mesh, path: str | os.PathLike, frame: str = "y_up") -> Path:
    """Atomically write ``mesh`` as a binary little-endian PLY. Returns the written path."""
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    header = ["ply", "format binary_little_endian 1.0", "comment facerecon mesh",
              f"element vertex {mesh.num_vertices}",
              "property float x", "property float y", "property float z"]  # fmt: skip
    if mesh.colors is not None:
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
        header += ["property uchar red", "property uchar green", "property uchar blue"]
    if mesh.uvs is not None:
        fields += [("s", "<f4"), ("t", "<f4")]
        header += ["property float s", "property float t"]
    header += [f"element face {mesh.num_triangles}",
               "property list uchar int vertex_indices", "end_header"]  # fmt: skip

    vertex_data = np.empty(mesh.num_vertices, dtype=fields)
    xyz = to_file_frame(mesh.vertices, frame)
    vertex_data["x"], vertex_data["y"], vertex_data["z"] = xyz.T
    if mesh.colors is not None:
        rgb = np.rint(mesh.colors * 255.0).astype(np.uint8)
        vertex_data["red"], vertex_data["green"], vertex_data["blue"] = rgb.T
    if mesh.uvs is not None:
        vertex_data["s"], vertex_data["t"] = mesh.uvs.T
    face_data = np.empty(mesh.num_triangles, dtype=[("n", "u1"), ("indices", "<i4", (3,))])
    face_data["n"] = 3
    face_data["indices"] = mesh.triangles

    head = ("\n".join(header) + "\n").encode("ascii")
    write_bytes(path, head + vertex_data.tobytes() + face_data.tobytes())
    return Path(path)


def _parse_header(data: bytes, path: Path) -> tuple[list[tuple[str, int, list[str]]], int]:
    """Return ([(element name, count, property lines)], offset of the body)."""
    end = data.find(b"end_header")
    if not data.startswith(b"ply") or end < 0:
        raise InvalidInputError(f"{path}: not a PLY file")
    body = data.index(b"\n", end) + 1
    elements: list[tuple[str, int, list[str]]] = []
    for raw in data[:end].decode("ascii", errors="replace").splitlines()[1:]:
        parts = raw.split()
        if not parts or parts[0] in ("comment", "obj_info"):
            continue
        if parts[0] == "format":
            if parts[1:2] != ["binary_little_endian"]:
                raise InvalidInputError(f"{path}: only binary_little_endian PLY is supported")
        elif parts[0] == "element":
            elements.append((parts[1], int(parts[2]), []))
        elif parts[0] == "property" and elements:
            elements[-1][2].append(raw)
    return elements, body


def _scalar_dtype(properties: list[str], path: Path) -> np.dtype:
    fields = []
    for line in properties:
        parts = line.split()
        if parts[1] == "list" or parts[1] not in _PLY_TYPES:
            raise InvalidInputError(f"{path}: unsupported property {line!r}")
        fields.append((parts[2], _PLY_TYPES[parts[1]]))
    return np.dtype(fields)


def _read_body(data: bytes, offset: int, elements, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return the vertex record array and the (M, 3) face indices of a PLY body."""
    vertices = triangles = None
    for name, count, properties in elements:
        if name == "face":
            parts = properties[0].split() if len(properties) == 1 else []
            if len(parts) != 5 or parts[1] != "list" or parts[4] not in _FACE_NAMES:
                raise InvalidInputError(f"{path}: unsupported face element {properties}")
            corner = _PLY_TYPES[parts[3]]
            dtype = np.dtype([("n", _PLY_TYPES[parts[2]]), ("indices", corner, (3,))])
            block = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
            if count and np.any(block["n"] != 3):
                raise InvalidInputError(f"{path}: only triangle faces are supported")
            triangles = block["indices"]
        else:
            dtype = _scalar_dtype(properties, path)
            block = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
            if name == "vertex":
                vertices = block
        offset += dtype.itemsize * count
    if vertices is None or triangles is None:
        raise InvalidInputError(f"{path}: needs a vertex and a face element")
    return vertices, triangles


def read_ply(path: str | os.PathLike, frame: str = "y_up") -> Mesh:
    """Read a binary little-endian triangle PLY (as :func:`write_ply` writes) into a Mesh.

    Reads x, y, z; red, green, blue (integers scaled by 1/255, floats as they are) and s, t
    if present; faces from a ``list <count type> <index type> vertex_indices`` property with
    3 corners each. ``frame`` must be the frame the file was written in; vertices come back
    in the image frame.
    """
    ply_path = Path(path)
    if not ply_path.is_file():
        raise DataNotFoundError(f"PLY file not found: {ply_path}")
    data = ply_path.read_bytes()
    try:
        elements, offset = _parse_header(data, ply_path)
        vertices, triangles = _read_body(data, offset, elements, ply_path)
    except (ValueError, IndexError, KeyError) as error:
        # int() on a bad count, a missing token, an unknown type, or a truncated body.
        raise InvalidInputError(f"{ply_path}: malformed PLY: {error!r}") from error
    names = set(vertices.dtype.names)
    if not {"x", "y", "z"} <= names:
        raise InvalidInputError(f"{ply_path}: vertices need x, y and z")
    xyz = np.stack([vertices["x"], vertices["y"], vertices["z"]], axis=1)
    colors = uvs = None
    if {"red", "green", "blue"} <= names:
        colors = np.stack([vertices[c] for c in ("red", "green", "blue")], axis=1)
        if colors.dtype.kind != "f":
            colors = colors / 255.0
    if {"s", "t"} <= names:
        uvs = np.stack([vertices["s"], vertices["t"]], axis=1)
    return Mesh(to_file_frame(xyz, frame), triangles, colors=colors, uvs=uvs)
