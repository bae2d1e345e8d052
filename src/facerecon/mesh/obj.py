"""Wavefront OBJ writers: vertex-coloured OBJ and textured OBJ + MTL + PNG.

:func:`facerecon.mesh.obj_reader.read_obj` reads both back.

Files are written in the right-handed y-up frame by default (``frame="y_up"``: y negated,
triangles stay counter-clockwise, normals to +z = towards the viewer); ``frame="image"``
keeps the raw image-frame coordinates. See :mod:`facerecon.mesh.mesh` for the frames and
the uv convention (OBJ's own: v up). Floats are written with 9 significant digits, so
float32 values survive a round trip exactly. Indices in the file are 1-based.

What the files hold:

- :func:`write_obj`: ``v x y z [r g b]`` (colours as floats in [0, 1], the common vertex
  colour extension read by trimesh, MeshLab and Blender) and ``f a b c``.
- :func:`write_textured_obj`: ``NAME.obj`` with ``mtllib NAME.mtl``, ``v``, ``vt u v`` (one
  per vertex, same index as its vertex) and ``f a/a b/b c/c``; ``NAME.mtl`` with
  ``map_Kd NAME.png``; ``NAME.png`` the texture. Companion names are plain relative names,
  so the folder can be moved; whitespace in the stem becomes ``_`` in the companions because
  many MTL readers split ``map_Kd`` on spaces.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np

from facerecon.atomic import atomic_path, write_text
from facerecon.errors import InvalidInputError
from facerecon.mesh.mesh import Mesh, to_file_frame

_MATERIAL = "facerecon_texture"


def _rows(prefix: str, values: np.ndarray) -> str:
    """Format (N, K) floats as ``prefix v1 ... vK`` lines (C-level % formatting, fast)."""
    if values.shape[0] == 0:
        return ""
    line = prefix + " %.9g" * values.shape[1] + "\n"
    return (line * values.shape[0]) % tuple(values.astype(np.float64).ravel())


def _face_rows(triangles: np.ndarray, with_uv: bool) -> str:
    if triangles.shape[0] == 0:
        return ""
    one_based = triangles.astype(np.int64) + 1
    if with_uv:
        line = "f %d/%d %d/%d %d/%d\n"
        values = np.repeat(one_based, 2, axis=1)
    else:
        line = "f %d %d %d\n"
        values = one_based
    return (line * triangles.shape[0]) % tuple(values.ravel().tolist())


def _obj_text(mesh: Mesh, frame: str, mtl_name: str | None) -> str:
    vertices = to_file_frame(mesh.vertices, frame)
    if mesh.colors is not None:
        vertices = np.concatenate([vertices, mesh.colors], axis=1)
    parts = [f"# facerecon mesh: {mesh.num_vertices} vertices, {mesh.num_triangles} triangles\n"]
    if mtl_name is not None:
        parts.append(f"mtllib {mtl_name}\n")
    parts.append(_rows("v", vertices))
    if mtl_name is not None:
        parts.append(_rows("vt", mesh.uvs))
        parts.append(f"usemtl {_MATERIAL}\n")
    parts.append(_face_rows(mesh.triangles, with_uv=mtl_name is not None))
    return "".join(parts)


def write_obj(mesh: Mesh, path: str | os.PathLike, frame: str = "y_up") -> Path:
    """Atomically write ``mesh`` as an OBJ with per-vertex colours (if it has any).

    UVs and texture are not written; use :func:`write_textured_obj` for those.
    Returns the written path.
    """
    text = _obj_text(mesh, frame, mtl_name=None)
    write_text(path, text)
    return Path(path)


def textured_obj_paths(path: str | os.PathLike) -> tuple[Path, Path, Path]:
    """The (obj, mtl, png) paths :func:`write_textured_obj` writes for ``path``."""
    obj_path = Path(path)
    if obj_path.suffix.lower() != ".obj":
        raise InvalidInputError(f"a textured OBJ path must end in .obj, got {obj_path}")
    stem = "_".join(obj_path.stem.split()) or "mesh"
    return obj_path, obj_path.with_name(stem + ".mtl"), obj_path.with_name(stem + ".png")


def write_textured_obj(
    mesh: Mesh, path: str | os.PathLike, frame: str = "y_up"
) -> tuple[Path, Path, Path]:
    """Atomically write ``NAME.obj``, ``NAME.mtl`` and ``NAME.png`` for a textured mesh.

    ``mesh`` needs ``uvs`` and ``texture``; vertex colours, if any, are written too. All
    three payloads are built in memory first, each file goes to a temporary sibling, and
    the temporaries are moved into place only after all three were written (PNG, MTL, then
    OBJ last), so a failure leaves no half-written file and no temporary behind.
    Returns the (obj, mtl, png) paths.
    """
    if mesh.uvs is None or mesh.texture is None:
        raise InvalidInputError("write_textured_obj needs a mesh with uvs and a texture")
    obj_path, mtl_path, png_path = textured_obj_paths(path)
    obj_text = _obj_text(mesh, frame, mtl_name=mtl_path.name)
    mtl_text = (
        "# facerecon material\n"
        f"newmtl {_MATERIAL}\n"
        "Ka 1 1 1\nKd 1 1 1\nKs 0 0 0\nd 1\nillum 1\n"
        f"map_Kd {png_path.name}\n"
    )
    png_bytes = encode_png(mesh.texture)
    # Entered obj -> mtl -> png, so ExitStack moves them into place png -> mtl -> obj, and an
    # exception anywhere before that removes every temporary without replacing anything.
    with contextlib.ExitStack() as stack:
        tmp_obj = stack.enter_context(atomic_path(obj_path))
        tmp_mtl = stack.enter_context(atomic_path(mtl_path))
        tmp_png = stack.enter_context(atomic_path(png_path))
        tmp_obj.write_bytes(obj_text.encode("utf-8"))
        tmp_mtl.write_bytes(mtl_text.encode("utf-8"))
        tmp_png.write_bytes(png_bytes)
    return obj_path, mtl_path, png_path


def encode_png(image: np.ndarray) -> bytes:
    """Encode an (H, W, 3) uint8 RGB image as PNG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG")
    return buffer.getvalue()
