"""The :class:`Mesh` container and the texture-coordinate convention.

Frames. ``Mesh.vertices`` are in the facerecon image frame (see :mod:`facerecon.types`):
x right, y down, z in the same pixel scale with larger z nearer the camera. That frame is
left-handed. Front faces are counter-clockwise *as the viewer sees them*, so in image
coordinates a triangle facing the camera has
``(x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0) < 0``. The writers in this package convert to
a right-handed y-up frame by negating y, which keeps the triangles counter-clockwise there and
makes their right-hand normals point to +z, towards the viewer (see :func:`to_file_frame`).

Texture coordinates follow OBJ and trimesh: ``u`` runs left to right and ``v`` bottom to
top over the texture image, both in [0, 1], with (0, 0) the bottom-left *corner* of the
image. Texture images are stored like every facerecon image, row 0 at the top, so texture
pixel (row r, col c) of an (H, W) texture has its centre at
``u = (c + 0.5) / W, v = 1 - (r + 0.5) / H``; :func:`pixel_to_uv` and :func:`uv_to_pixel`
convert (pixel centres are integer coordinates, as everywhere in facerecon). The glTF writer
flips v to glTF's top-left origin itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facerecon.errors import InvalidInputError

#: Frames the writers and readers accept: ``"y_up"`` (right-handed, y negated, for viewers
#: and DCC tools) or ``"image"`` (the raw facerecon image frame, e.g. to overlay on a photo).
FRAMES = ("y_up", "image")


def _float_rows(value, columns: int, name: str, rows: int | None = None) -> np.ndarray:
    """Return a read-only float32 copy of ``value`` with shape (rows, columns), all finite."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise InvalidInputError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] != columns:
        raise InvalidInputError(f"{name} must have shape (N, {columns}), got {array.shape}")
    if rows is not None and array.shape[0] != rows:
        raise InvalidInputError(f"{name} needs one row per vertex ({rows}), got {array.shape[0]}")
    with np.errstate(over="ignore"):  # an overflow becomes inf, reported just below
        array = np.array(array, dtype=np.float32, copy=True)
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} holds NaN or infinite values (as float32)")
    array.setflags(write=False)
    return array


def _unit_range(array: np.ndarray, name: str) -> None:
    if array.size and (array.min() < 0.0 or array.max() > 1.0):
        raise InvalidInputError(
            f"{name} must lie in [0, 1], got range [{array.min()}, {array.max()}]"
        )


@dataclass(frozen=True, eq=False)
class Mesh:
    """A triangle mesh in the facerecon image frame.

    Every array is copied and made read-only at construction; the caller's arrays are never
    modified, and ``dataclasses.replace`` re-validates.

    Attributes:
        vertices: (N, 3) float32, image frame (x right, y down, larger z nearer), N >= 1.
        triangles: (M, 3) int32 vertex indices in [0, N), front faces counter-clockwise as
            the viewer sees them; M may be 0.
        colors: optional (N, 3) float32 RGB in [0, 1], one per vertex.
        uvs: optional (N, 2) float32 texture coordinates in [0, 1], one per vertex, u right
            and v up (OBJ convention; see the module docstring).
        texture: optional (H, W, 3) uint8 RGB image, row 0 at the top; needs ``uvs``.

    Raises:
        InvalidInputError: on a wrong shape or dtype, a non-finite value, an index out of
            range, a colour or uv outside [0, 1], or a texture without uvs.
    """

    vertices: np.ndarray
    triangles: np.ndarray
    colors: np.ndarray | None = None
    uvs: np.ndarray | None = None
    texture: np.ndarray | None = None

    def __post_init__(self) -> None:
        vertices = _float_rows(self.vertices, 3, "vertices")
        count = vertices.shape[0]
        if count == 0:
            raise InvalidInputError("a mesh needs at least one vertex")
        object.__setattr__(self, "vertices", vertices)
        object.__setattr__(self, "triangles", _checked_triangles(self.triangles, count))
        if self.colors is not None:
            if np.asarray(self.colors).dtype.kind != "f":
                raise InvalidInputError(
                    "colors must be float RGB in [0, 1] (divide uint8 colours by 255)"
                )
            colors = _float_rows(self.colors, 3, "colors", rows=count)
            _unit_range(colors, "colors")
            object.__setattr__(self, "colors", colors)
        if self.uvs is not None:
            uvs = _float_rows(self.uvs, 2, "uvs", rows=count)
            _unit_range(uvs, "uvs")
            object.__setattr__(self, "uvs", uvs)
        if self.texture is not None:
            if self.uvs is None:
                raise InvalidInputError("a texture needs uvs")
            object.__setattr__(self, "texture", _checked_texture(self.texture))

    @property
    def num_vertices(self) -> int:
        return int(self.vertices.shape[0])

    @property
    def num_triangles(self) -> int:
        return int(self.triangles.shape[0])


def _checked_triangles(value, vertex_count: int) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != 2 or array.shape[1] != 3:
        raise InvalidInputError(f"triangles must have shape (M, 3), got {array.shape}")
    if array.size == 0:
        array = array.astype(np.int32)
    if array.dtype.kind not in "iu":
        raise InvalidInputError(f"triangles must be integers, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= vertex_count):
        raise InvalidInputError(
            f"triangle indices must lie in [0, {vertex_count}), "
            f"got range [{array.min()}, {array.max()}]"
        )
    triangles = np.array(array, dtype=np.int32, copy=True)
    triangles.setflags(write=False)
    return triangles


def _checked_texture(value) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype != np.uint8:
        raise InvalidInputError(f"texture must be uint8 RGB, got dtype {array.dtype}")
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] == 0 or array.shape[1] == 0:
        raise InvalidInputError(f"texture must have shape (H, W, 3), got {array.shape}")
    texture = np.array(array, copy=True)
    texture.setflags(write=False)
    return texture


def to_file_frame(vertices: np.ndarray, frame: str) -> np.ndarray:
    """Convert (N, 3) image-frame vertices to the frame a file is written in.

    ``"y_up"`` negates y: (x right, y down, z to viewer, left-handed) becomes (x right, y up,
    z to viewer, right-handed). Negating one axis mirrors space, which turns the image
    frame's "counter-clockwise as seen" triangles into ones whose right-hand normal
    ``(v1 - v0) x (v2 - v0)`` points to +z, towards the viewer, as OBJ/glTF viewers expect.
    ``"image"`` returns the coordinates unchanged (a copy). The map is its own inverse, so
    readers use it to come back.
    """
    if frame not in FRAMES:
        raise InvalidInputError(f"frame must be one of {FRAMES}, got {frame!r}")
    out = np.array(vertices, dtype=np.float32, copy=True)
    if frame == "y_up":
        out[:, 1] = -out[:, 1]
    return out


def _checked_size(size: tuple[int, int]) -> tuple[int, int]:
    height, width = (int(n) for n in size)
    if height < 1 or width < 1:
        raise InvalidInputError(f"image size must be (height, width) >= 1, got {size}")
    return height, width


def pixel_to_uv(xy: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Map (N, 2) pixel coordinates (x = column, y = row, pixel centres integer) of an image
    of ``size = (height, width)`` to (N, 2) float32 uvs (u right, v up, see module docstring).
    """
    height, width = _checked_size(size)
    xy = _float_rows(xy, 2, "xy").astype(np.float64)
    u = (xy[:, 0] + 0.5) / width
    v = 1.0 - (xy[:, 1] + 0.5) / height
    return np.stack([u, v], axis=1).astype(np.float32)


def uv_to_pixel(uvs: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`pixel_to_uv`: (N, 2) uvs to (N, 2) float32 (x, y) pixel coordinates."""
    height, width = _checked_size(size)
    uvs = _float_rows(uvs, 2, "uvs").astype(np.float64)
    x = uvs[:, 0] * width - 0.5
    y = (1.0 - uvs[:, 1]) * height - 0.5
    return np.stack([x, y], axis=1).astype(np.float32)
