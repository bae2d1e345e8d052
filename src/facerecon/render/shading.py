"""Render a mesh back into a picture: vertex colours, a texture, or Lambert-shaded geometry.

All three draw with the z-buffer of :func:`facerecon.render.rasterize.rasterize`, so only
the nearest surface shows, and return a new uint8 RGB image plus the (H, W) bool mask of the
pixels drawn; the image passed in is never modified.

Frames (:mod:`facerecon.types`): vertices in image pixels, x right, y down, z larger =
nearer. Texture coordinates follow :mod:`facerecon.mesh` (and OBJ): u left to right, v
bottom to top, (0, 0) the bottom-left *corner* of the texture, so texture pixel (r, c) has
its centre at u = (c + 0.5) / W, v = 1 - (r + 0.5) / H. Lookups are bilinear with the edge
texels repeated outside the texture.

Normals: the frame is left-handed and front faces are counter-clockwise as the viewer sees
them, i.e. ``(x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0) < 0`` in image coordinates. The
outward normal of a front face therefore points to +z (towards the camera) when taken as
``cross(v2 - v0, v1 - v0)`` -- the opposite order from the right-handed habit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from facerecon.errors import InvalidInputError
from facerecon.render.arrays import real_rows, triangle_rows
from facerecon.render.rasterize import rasterize

__all__ = ["render_colors", "render_shaded", "render_textured", "vertex_normals"]


def _rgb_image(image, name: str) -> np.ndarray:
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise InvalidInputError(
            f"{name} must be an (H, W, 3) uint8 RGB array, got {array.dtype} {array.shape}"
        )
    return array


def _vertex_count(vertices) -> int:
    shape = np.shape(vertices)
    if len(shape) != 2 or shape[1] != 3:
        raise InvalidInputError(f"vertices must have shape (n, 3), got {shape}")
    return shape[0]


def _draw(kernel, arrays: tuple, vertices, triangles, image) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise at ``image``'s size and let ``kernel`` paint the drawn pixels of a copy.

    ``kernel(*arrays, triangles, triangle_index, barycentric, out)`` is one of the njit
    shaders below; all inputs are already validated. Returns (rendered, mask) as the
    public renderers do.
    """
    height, width = image.shape[:2]
    raster = rasterize(vertices, triangles, height, width)
    rendered = image.copy()
    kernel(*arrays, triangles, raster.triangle_index, raster.barycentric, rendered)
    return rendered, raster.mask


def render_colors(vertices, triangles, vertex_colors, image) -> tuple[np.ndarray, np.ndarray]:
    """Draw a mesh with per-vertex colours onto a copy of ``image``.

    Args:
        vertices: (N, 3) real, image pixels.
        triangles: (M, 3) integer indices.
        vertex_colors: (N, 3) real RGB in [0, 1], interpolated across each triangle.
        image: (H, W, 3) uint8 RGB background; sets the output size.

    Returns:
        (rendered, mask): (H, W, 3) uint8 new image, (H, W) bool pixels drawn.
    """
    image = _rgb_image(image, "image")
    n_vertices = _vertex_count(vertices)
    colors = real_rows(vertex_colors, "vertex_colors", 3, rows=n_vertices)
    triangles = triangle_rows(triangles, n_vertices)
    if colors.size and (colors.min() < 0 or colors.max() > 1):
        raise InvalidInputError("vertex_colors must lie in [0, 1]")
    return _draw(_shade_colors, (colors,), vertices, triangles, image)


@njit(cache=True, nogil=True)
def _shade_colors(colors, triangles, tri_index, bary, out):
    """Interpolate [0, 1] vertex colours at each drawn pixel into uint8 ``out``."""
    height, width = tri_index.shape
    for r in range(height):
        for c in range(width):
            t = tri_index[r, c]
            if t < 0:
                continue
            i0, i1, i2 = triangles[t, 0], triangles[t, 1], triangles[t, 2]
            w0, w1, w2 = bary[r, c, 0], bary[r, c, 1], bary[r, c, 2]
            for k in range(3):
                value = w0 * colors[i0, k] + w1 * colors[i1, k] + w2 * colors[i2, k]
                out[r, c, k] = np.uint8(min(max(value * 255.0 + 0.5, 0.0), 255.0))


@njit(cache=True, nogil=True)
def _sample_texture(texture, uvs, triangles, tri_index, bary, out):
    """Interpolate the uv of each drawn pixel, look ``texture`` up bilinearly into ``out``."""
    tex_h, tex_w = texture.shape[0], texture.shape[1]
    height, width = tri_index.shape
    for r in range(height):
        for c in range(width):
            t = tri_index[r, c]
            if t < 0:
                continue
            i0, i1, i2 = triangles[t, 0], triangles[t, 1], triangles[t, 2]
            w0, w1, w2 = bary[r, c, 0], bary[r, c, 1], bary[r, c, 2]
            u = w0 * uvs[i0, 0] + w1 * uvs[i1, 0] + w2 * uvs[i2, 0]
            v = w0 * uvs[i0, 1] + w1 * uvs[i1, 1] + w2 * uvs[i2, 1]
            x = min(max(u * tex_w - 0.5, 0.0), tex_w - 1.0)
            y = min(max((1.0 - v) * tex_h - 0.5, 0.0), tex_h - 1.0)
            c0 = min(int(math.floor(x)), tex_w - 1)
            r0 = min(int(math.floor(y)), tex_h - 1)
            c1 = min(c0 + 1, tex_w - 1)
            r1 = min(r0 + 1, tex_h - 1)
            fx = x - c0
            fy = y - r0
            for k in range(3):
                t00 = np.float32(texture[r0, c0, k])
                t01 = np.float32(texture[r0, c1, k])
                t10 = np.float32(texture[r1, c0, k])
                t11 = np.float32(texture[r1, c1, k])
                top = t00 + fx * (t01 - t00)
                bottom = t10 + fx * (t11 - t10)
                out[r, c, k] = np.uint8(min(max(top + fy * (bottom - top) + 0.5, 0.0), 255.0))


def render_textured(vertices, triangles, uvs, texture, image) -> tuple[np.ndarray, np.ndarray]:
    """Draw a textured mesh onto a copy of ``image``.

    The uv of every drawn pixel is interpolated from the vertices' uvs (affine, exact for our
    orthographic projection), then the texture is looked up bilinearly.

    Args:
        vertices: (N, 3) real, image pixels.
        triangles: (M, 3) integer indices.
        uvs: (N, 2) real texture coordinates (module docstring; outside [0, 1] clamps).
        texture: (Ht, Wt, 3) uint8 RGB, row 0 at the top.
        image: (H, W, 3) uint8 RGB background; sets the output size.

    Returns:
        (rendered, mask): (H, W, 3) uint8 new image, (H, W) bool pixels drawn.
    """
    image = _rgb_image(image, "image")
    texture = np.ascontiguousarray(_rgb_image(texture, "texture"))
    n_vertices = _vertex_count(vertices)
    uvs = real_rows(uvs, "uvs", 2, rows=n_vertices)
    triangles = triangle_rows(triangles, n_vertices)
    return _draw(_sample_texture, (texture, uvs), vertices, triangles, image)


@njit(cache=True, nogil=True)
def _accumulate_normals(vertices, triangles, out):
    """Sum the (area-weighted) face normals at each vertex of ``out``, then normalise."""
    for t in range(triangles.shape[0]):
        i0, i1, i2 = triangles[t, 0], triangles[t, 1], triangles[t, 2]
        ax = np.float64(vertices[i1, 0]) - np.float64(vertices[i0, 0])
        ay = np.float64(vertices[i1, 1]) - np.float64(vertices[i0, 1])
        az = np.float64(vertices[i1, 2]) - np.float64(vertices[i0, 2])
        bx = np.float64(vertices[i2, 0]) - np.float64(vertices[i0, 0])
        by = np.float64(vertices[i2, 1]) - np.float64(vertices[i0, 1])
        bz = np.float64(vertices[i2, 2]) - np.float64(vertices[i0, 2])
        # cross(b, a): outward for counter-clockwise-as-seen triangles in our left-handed frame;
        # its length is twice the area, so large triangles weigh more.
        nx = by * az - bz * ay
        ny = bz * ax - bx * az
        nz = bx * ay - by * ax
        out[i0, 0] += nx
        out[i0, 1] += ny
        out[i0, 2] += nz
        out[i1, 0] += nx
        out[i1, 1] += ny
        out[i1, 2] += nz
        out[i2, 0] += nx
        out[i2, 1] += ny
        out[i2, 2] += nz
    for v in range(out.shape[0]):
        length = math.sqrt(out[v, 0] ** 2 + out[v, 1] ** 2 + out[v, 2] ** 2)
        if length > 0.0:
            out[v, 0] /= length
            out[v, 1] /= length
            out[v, 2] /= length


def vertex_normals(vertices, triangles) -> np.ndarray:
    """Area-weighted unit vertex normals, pointing out of the front faces.

    Args:
        vertices: (N, 3) real, image frame (left-handed: x right, y down, z to the camera).
        triangles: (M, 3) integer, front faces counter-clockwise as the viewer sees them.

    Returns:
        (N, 3) float32 unit vectors; a face looking at the camera has normals with z > 0.
        Vertices used by no triangle (or only degenerate ones) get (0, 0, 0).
    """
    points = real_rows(vertices, "vertices", 3)
    tris = triangle_rows(triangles, points.shape[0])
    normals = np.zeros((points.shape[0], 3), dtype=np.float64)
    _accumulate_normals(points, tris, normals)
    return normals.astype(np.float32)


def render_shaded(
    vertices,
    triangles,
    height: int,
    width: int,
    light_direction=(0.0, 0.0, 1.0),
    ambient: float = 0.15,
    color=(1.0, 1.0, 1.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Lambert-shaded picture of the geometry alone, on black.

    Per-pixel shading: vertex normals are interpolated, renormalised, and lit with
    ``intensity = ambient + (1 - ambient) * max(0, n . l)``. Surfaces turned away from the
    light (and back faces, whose normals point away from the camera) get only ``ambient``.

    Args:
        vertices: (N, 3) real, image pixels (x right, y down, z larger = nearer).
        triangles: (M, 3) integer, front faces counter-clockwise as seen.
        height, width: output size.
        light_direction: (3,) direction *towards* the light in the same frame; the default
            (0, 0, 1) lights from the camera. E.g. (0, -1, 1) is from above (y points down).
        ambient: intensity in [0, 1] everywhere on the surface.
        color: (3,) RGB in [0, 1] of the surface.

    Returns:
        (rendered, mask): (H, W, 3) uint8, (H, W) bool pixels drawn.
    """
    light = np.asarray(light_direction, dtype=np.float64).reshape(-1)
    if light.shape != (3,) or not np.all(np.isfinite(light)) or not np.any(light):
        raise InvalidInputError(f"light_direction must be a finite non-zero 3-vector: {light}")
    ambient = float(ambient)
    rgb = np.asarray(color, dtype=np.float64).reshape(-1)
    if not 0.0 <= ambient <= 1.0 or rgb.shape != (3,) or not np.all((rgb >= 0) & (rgb <= 1)):
        raise InvalidInputError("ambient must be in [0, 1] and color an RGB triple in [0, 1]")
    normals = vertex_normals(vertices, triangles)
    triangles = triangle_rows(triangles, normals.shape[0])
    raster = rasterize(vertices, triangles, height, width)
    rendered = np.zeros((height, width, 3), dtype=np.uint8)
    _shade_lambert(
        normals,
        triangles,
        raster.triangle_index,
        raster.barycentric,
        light / np.linalg.norm(light),
        ambient,
        rgb * 255.0,
        rendered,
    )
    return rendered, raster.mask


@njit(cache=True, nogil=True)
def _shade_lambert(normals, triangles, tri_index, bary, light, ambient, rgb255, out):
    """Per-pixel Lambert: interpolated, renormalised vertex normals against unit ``light``."""
    height, width = tri_index.shape
    for r in range(height):
        for c in range(width):
            t = tri_index[r, c]
            if t < 0:
                continue
            i0, i1, i2 = triangles[t, 0], triangles[t, 1], triangles[t, 2]
            w0, w1, w2 = bary[r, c, 0], bary[r, c, 1], bary[r, c, 2]
            nx = w0 * normals[i0, 0] + w1 * normals[i1, 0] + w2 * normals[i2, 0]
            ny = w0 * normals[i0, 1] + w1 * normals[i1, 1] + w2 * normals[i2, 1]
            nz = w0 * normals[i0, 2] + w1 * normals[i1, 2] + w2 * normals[i2, 2]
            length = math.sqrt(nx * nx + ny * ny + nz * nz)
            lambert = 0.0
            if length > 0.0:
                lambert = max((nx * light[0] + ny * light[1] + nz * light[2]) / length, 0.0)
            intensity = ambient + (1.0 - ambient) * min(lambert, 1.0)
            for k in range(3):
                out[r, c, k] = np.uint8(min(intensity * rgb255[k] + 0.5, 255.0))
