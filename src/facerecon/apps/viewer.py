"""A self-contained, offline HTML page that shows a mesh in 3D (hand-written WebGL).

The page loads nothing from anywhere: the mesh travels inside it as base64 (little-endian
float32 positions, uint32 triangle indices, uint8 RGB colours, float32 uvs and the texture
as a PNG), in a ``<script type="application/json" id="mesh-data">`` block, and the viewer is a
few hundred lines of plain JavaScript and GLSL ES 1.0 (runs on WebGL 1 and 2), kept in
``facerecon/assets/viewer.html`` (the page template: ``__TITLE__`` and ``__DATA__`` are
filled in).

Controls: drag to orbit, wheel to zoom, double-click to reset. Lighting: a head light
(Lambert on |n . view|, 25 % ambient); back faces (counter-clockwise is front, as in the
mesh files) are drawn at 40 % brightness, so an inside-out mesh looks dark. The vertices
are shown in the y-up frame of the mesh writers (:mod:`facerecon.mesh`: image y negated),
centred and scaled to fit.
"""

from __future__ import annotations

import base64
import html
import json

import numpy as np

from facerecon.errors import InvalidInputError
from facerecon.mesh import Mesh
from facerecon.mesh.obj import encode_png
from facerecon.paths import ASSETS_DIR

__all__ = ["mesh_payload", "viewer_html"]


def _b64(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def mesh_payload(mesh: Mesh) -> dict:
    """The JSON-ready dict embedded in the page (the counts, and base64 arrays)."""
    vertices = mesh.vertices.astype(np.float32) * np.array([1, -1, 1], np.float32)
    payload = {
        "vertex_count": mesh.num_vertices,
        "triangle_count": mesh.num_triangles,
        "positions": _b64(vertices, "<f4"),
        "indices": _b64(mesh.triangles, "<u4"),
    }
    if mesh.colors is not None:
        payload["colors"] = _b64(np.rint(mesh.colors * 255), "u1")
    if mesh.texture is not None:
        payload["uvs"] = _b64(mesh.uvs, "<f4")
        payload["texture_png"] = base64.b64encode(encode_png(mesh.texture)).decode("ascii")
    return payload


def _template() -> str:
    return (ASSETS_DIR / "viewer.html").read_text(encoding="utf-8")


def viewer_html(mesh: Mesh, title: str = "facerecon mesh") -> str:
    """An offline HTML page showing ``mesh`` in 3D (module docstring).

    Args:
        mesh: a :class:`facerecon.mesh.Mesh` (image frame); its texture is shown when it
            has one, else its vertex colours, else light grey.
        title: page title (HTML-escaped).

    Returns:
        The page as a string; the CLI writes it (e.g. with :func:`facerecon.atomic.write_text`).
        It references no URL: everything is inline.
    """
    if not isinstance(mesh, Mesh):
        raise InvalidInputError(f"mesh must be a facerecon.mesh.Mesh, got {type(mesh).__name__}")
    # JSON inside <script>: escape "<" so no "</script>" can end the block early.
    data = json.dumps(mesh_payload(mesh), separators=(",", ":")).replace("<", "\\u003c")
    return _template().replace("__DATA__", data).replace("__TITLE__", html.escape(str(title)))
