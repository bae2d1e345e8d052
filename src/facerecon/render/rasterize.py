"""Z-buffer triangle rasterisation with barycentric interpolation (numba).

Conventions (those of :mod:`facerecon.types`):

- Vertices are image pixels: x right, y down, z in the same scale, **larger z is nearer**.
- Pixel (row r, col c) samples the single point (x=c, y=r): integer coordinates are pixel
  centres. There is no anti-aliasing; a pixel belongs to at most one triangle.
- The nearest surface (largest z) wins. Between two triangles with exactly the same z at a
  pixel, the one that comes first in ``triangles`` wins.
- Both windings are drawn (no back-face culling). Triangles of zero area are skipped.
- Barycentric weights are screen-space (affine); that is exact for our orthographic
  projection, where z and every attribute are affine functions of (x, y) on a triangle.

Ties: a sample lying exactly on an edge is given to exactly one of the two triangles sharing
that edge, so a closed mesh has neither holes nor doubly covered pixels. The rule is "the
sample belongs to the triangle that contains the sample nudged by (1, epsilon)", i.e. to the
right and a hair down: the usual top-left rule (samples on left and top edges are drawn).
It is exact because every edge function is evaluated from the edge's endpoints in a
canonical (lexicographic) order, so the two triangles sharing an edge compute bit-identical
values with opposite signs. A consequence: samples exactly on the *outer* boundary of a mesh
are drawn only on its left and top edges (a square from pixel 0 to 3 covers columns 0-2 and
rows 0-2).

Threads: none. The kernels are single-threaded (and release the GIL): a race-free banded
parallel version was measured 2-8x *slower* on the shared 2-core machines (thread wake-up
and waiting for a busy core cost more than the ~2-4 ms of work; docs/render.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from facerecon.errors import InvalidInputError
from facerecon.render.arrays import real_rows, triangle_rows

__all__ = ["Raster", "rasterize", "vertex_visibility"]


@dataclass(frozen=True)
class Raster:
    """What a rasterisation produced, one value per pixel.

    Attributes:
        depth: (H, W) float32, z of the nearest surface; ``-inf`` where no triangle is drawn.
        triangle_index: (H, W) int32, row of ``triangles`` drawn at each pixel; -1 where empty.
        barycentric: (H, W, 3) float32, weights of the drawn triangle's three vertices (in the
            order of its row in ``triangles``); they sum to 1, and are 0 where empty.
        attributes: (H, W, C) float32 per-vertex attributes interpolated with ``barycentric``,
            0 where empty; ``None`` when no attributes were given.
    """

    depth: np.ndarray
    triangle_index: np.ndarray
    barycentric: np.ndarray
    attributes: np.ndarray | None = None

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool, True where a triangle is drawn."""
        return self.triangle_index >= 0


@njit(cache=True, inline="always")
def _edge_setup(xj, yj, xk, yk, orientation):
    """Canonical form of the edge j -> k of a triangle whose signed area has sign ``orientation``.

    Returns (ax, ay, dx, dy, sign, owns_ties): the edge function of sample (px, py) is
    ``sign * (dx * (py - ay) - dy * (px - ax))``, positive inside; ``owns_ties`` says whether a
    sample with edge function exactly 0 is drawn by this triangle.
    """
    if xj < xk or (xj == xk and yj < yk):
        ax, ay, bx, by, sign = xj, yj, xk, yk, orientation
    else:
        ax, ay, bx, by, sign = xk, yk, xj, yj, -orientation
    dx = bx - ax
    dy = by - ay
    # Moving the sample by (1, eps) changes the edge function by sign * (eps * dx - dy).
    owns_ties = sign * dy < 0.0 or (dy == 0.0 and sign * dx > 0.0)
    return ax, ay, dx, dy, sign, owns_ties


@njit(cache=True, inline="always")
def _inside(value, owns_ties):
    return value > 0.0 or (owns_ties and value == 0.0)


@njit(cache=True, nogil=True)
def _raster(vertices, triangles, depth, tri_index, bary):
    """Draw every triangle into the buffers, in triangle order."""
    height, width = depth.shape
    for t in range(triangles.shape[0]):
        i0 = triangles[t, 0]
        i1 = triangles[t, 1]
        i2 = triangles[t, 2]
        y0 = float(vertices[i0, 1])
        y1 = float(vertices[i1, 1])
        y2 = float(vertices[i2, 1])
        # Clamp in float before converting: far-away vertices must not overflow an int.
        r_lo = int(math.ceil(max(min(y0, y1, y2), 0.0)))
        r_hi = int(math.floor(min(max(y0, y1, y2), height - 1.0)))
        if r_lo > r_hi:
            continue
        x0 = float(vertices[i0, 0])
        x1 = float(vertices[i1, 0])
        x2 = float(vertices[i2, 0])
        c_lo = int(math.ceil(max(min(x0, x1, x2), 0.0)))
        c_hi = int(math.floor(min(max(x0, x1, x2), width - 1.0)))
        if c_lo > c_hi:
            continue
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        if area == 0.0:
            continue
        orientation = 1.0 if area > 0.0 else -1.0
        # Edge i is the one opposite vertex i; its edge function is vertex i's weight * area.
        ax0, ay0, dx0, dy0, s0, own0 = _edge_setup(x1, y1, x2, y2, orientation)
        ax1, ay1, dx1, dy1, s1, own1 = _edge_setup(x2, y2, x0, y0, orientation)
        ax2, ay2, dx2, dy2, s2, own2 = _edge_setup(x0, y0, x1, y1, orientation)
        z0 = float(vertices[i0, 2])
        z1 = float(vertices[i1, 2])
        z2 = float(vertices[i2, 2])
        for r in range(r_lo, r_hi + 1):
            py = float(r)
            row0 = dx0 * (py - ay0)
            row1 = dx1 * (py - ay1)
            row2 = dx2 * (py - ay2)
            for c in range(c_lo, c_hi + 1):
                px = float(c)
                e0 = s0 * (row0 - dy0 * (px - ax0))
                if not _inside(e0, own0):
                    continue
                e1 = s1 * (row1 - dy1 * (px - ax1))
                if not _inside(e1, own1):
                    continue
                e2 = s2 * (row2 - dy2 * (px - ax2))
                if not _inside(e2, own2):
                    continue
                inv = 1.0 / (e0 + e1 + e2)
                w0 = e0 * inv
                w1 = e1 * inv
                w2 = e2 * inv
                z = np.float32(w0 * z0 + w1 * z1 + w2 * z2)
                if z > depth[r, c]:
                    depth[r, c] = z
                    tri_index[r, c] = t
                    bary[r, c, 0] = w0
                    bary[r, c, 1] = w1
                    bary[r, c, 2] = w2


@njit(cache=True, nogil=True)
def _interpolate(attributes, triangles, tri_index, bary, out):
    height, width = tri_index.shape
    channels = attributes.shape[1]
    for r in range(height):
        for c in range(width):
            t = tri_index[r, c]
            if t < 0:
                continue
            i0 = triangles[t, 0]
            i1 = triangles[t, 1]
            i2 = triangles[t, 2]
            w0 = bary[r, c, 0]
            w1 = bary[r, c, 1]
            w2 = bary[r, c, 2]
            for k in range(channels):
                out[r, c, k] = (
                    w0 * attributes[i0, k] + w1 * attributes[i1, k] + w2 * attributes[i2, k]
                )


def _check_size(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def rasterize(vertices, triangles, height: int, width: int, attributes=None) -> Raster:
    """Z-buffer rasterisation of a triangle mesh into an (height, width) image.

    Args:
        vertices: (N, 3) real, image pixels (x right, y down, z larger = nearer).
        triangles: (M, 3) integer indices into ``vertices``; either winding is drawn.
        height, width: size of the image in pixels; pixel (r, c) samples (x=c, y=r).
        attributes: optional (N, C) real per-vertex values to interpolate (colours, UVs,
            positions...).

    Returns:
        A :class:`Raster`; new arrays, the inputs are not modified.

    Raises:
        InvalidInputError: wrong shapes or dtypes, non-finite values, indices out of range,
            non-positive image size.

    Example:
        >>> quad = np.array([[0, 0, 1], [3, 0, 1], [3, 3, 1], [0, 3, 1]], np.float32)
        >>> raster = rasterize(quad, [[0, 1, 2], [0, 2, 3]], 4, 4)
        >>> int(raster.mask.sum())  # ties at the quad's outer edges go to one side only
        9
    """
    height = _check_size(height, "height")
    width = _check_size(width, "width")
    # The kernels only read these (possibly the caller's own) arrays.
    vertices = real_rows(vertices, "vertices", 3)
    triangles = triangle_rows(triangles, vertices.shape[0])
    if attributes is not None:
        attributes = real_rows(attributes, "attributes", None, rows=vertices.shape[0])

    depth = np.full((height, width), -np.inf, dtype=np.float32)
    tri_index = np.full((height, width), -1, dtype=np.int32)
    bary = np.zeros((height, width, 3), dtype=np.float32)
    _raster(vertices, triangles, depth, tri_index, bary)

    interpolated = None
    if attributes is not None:
        interpolated = np.zeros((height, width, attributes.shape[1]), dtype=np.float32)
        _interpolate(attributes, triangles, tri_index, bary, interpolated)
    return Raster(depth=depth, triangle_index=tri_index, barycentric=bary, attributes=interpolated)


@njit(cache=True)
def _visibility(vertices, depth, tolerance, out):
    height, width = depth.shape
    for v in range(vertices.shape[0]):
        x = float(vertices[v, 0])
        y = float(vertices[v, 1])
        z = float(vertices[v, 2])
        if not (-0.5 <= x < width - 0.5 and -0.5 <= y < height - 0.5):
            continue
        # The four pixels around the vertex, clamped to the image.
        c0 = min(max(math.floor(x), 0), width - 1)
        r0 = min(max(math.floor(y), 0), height - 1)
        c1 = min(c0 + 1, width - 1)
        r1 = min(r0 + 1, height - 1)
        fx = min(max(x - c0, 0.0), 1.0)
        fy = min(max(y - r0, 0.0), 1.0)
        d00 = depth[r0, c0]
        d01 = depth[r0, c1]
        d10 = depth[r1, c0]
        d11 = depth[r1, c1]
        if math.isinf(d00) or math.isinf(d01) or math.isinf(d10) or math.isinf(d11):
            # At a silhouette: compare with the farthest drawn neighbour (lenient); nothing
            # drawn around the vertex means nothing hides it.
            surface = np.inf
            for d in (d00, d01, d10, d11):
                if not math.isinf(d):
                    surface = min(surface, d)
            out[v] = math.isinf(surface) or z >= surface - tolerance
        else:
            top = d00 + fx * (d01 - d00)
            bottom = d10 + fx * (d11 - d10)
            out[v] = z >= top + fy * (bottom - top) - tolerance


def vertex_visibility(vertices, raster: Raster, tolerance: float = 1.0) -> np.ndarray:
    """Which vertices the camera sees, given the raster of the mesh they belong to.

    A vertex is visible when it lies in the image (within the pixel footprints,
    -0.5 <= x < W - 0.5 and likewise y) and its z is at least the z-buffer depth at its
    position minus ``tolerance``. The depth is interpolated bilinearly from the four pixels
    around the vertex, which follows the vertex's own surface even where it is steep; where
    some of those pixels are empty (a silhouette) the farthest drawn one is used. So a vertex
    is hidden only by a surface that covers all four pixels around it or that is nearer than
    every drawn neighbour; a silhouette vertex of a surface steeper than ``tolerance`` z per
    pixel can come out hidden (its only drawn neighbours lie inside, higher on the slope).

    Args:
        vertices: (N, 3) real, the vertices that were rasterised, image pixels.
        raster: the :class:`Raster` of the mesh.
        tolerance: slack in z pixels; about one pixel absorbs sampling error on slanted
            surfaces.

    Returns:
        (N,) bool.
    """
    vertices = real_rows(vertices, "vertices", 3)
    if not isinstance(raster, Raster):
        raise InvalidInputError(f"raster must be a Raster, got {type(raster).__name__}")
    tolerance = float(tolerance)
    if not (math.isfinite(tolerance) and tolerance >= 0.0):
        raise InvalidInputError(f"tolerance must be finite and >= 0, got {tolerance}")
    out = np.zeros(vertices.shape[0], dtype=np.bool_)
    _visibility(vertices, np.ascontiguousarray(raster.depth, dtype=np.float32), tolerance, out)
    return out
