"""Depth image of a face mesh: the z-buffer at the size of the photo, and a picture of it.

Depth is the ``z`` of :mod:`facerecon.types`: image-pixel scale, **larger is nearer** the
camera, with whatever offset the vertices carry (it is not shifted to start at 0).
"""

from __future__ import annotations

import math

import numpy as np

from facerecon.errors import InvalidInputError
from facerecon.render.rasterize import rasterize

__all__ = ["depth_image", "depth_to_uint8"]


def depth_image(vertices, triangles, height: int, width: int, background: float = 0.0):
    """Z-buffer depth of a mesh in an (height, width) image.

    Args:
        vertices: (N, 3) real, image pixels (x right, y down, z larger = nearer).
        triangles: (M, 3) integer indices into ``vertices``.
        height, width: image size in pixels (normally the photo's).
        background: value of pixels no triangle covers. The default 0 matches PRN's depth
            picture, but a face pixel can also have z = 0 (or below): pass ``np.nan`` to
            tell face and background apart without doubt.

    Returns:
        (height, width) float32: z of the nearest surface at each pixel centre.

    Raises:
        InvalidInputError: as :func:`facerecon.render.rasterize.rasterize`, or a non-float
            background.

    Example:
        >>> tri = np.array([[0, 0, 5], [4, 0, 5], [0, 4, 5]], np.float32)
        >>> depth_image(tri, [[0, 1, 2]], 2, 2).tolist()
        [[5.0, 5.0], [5.0, 5.0]]
    """
    try:
        background = float(background)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"background must be a number, got {background!r}") from error
    raster = rasterize(vertices, triangles, height, width)
    return np.where(raster.mask, raster.depth, np.float32(background)).astype(np.float32)


def depth_to_uint8(depth, mask=None) -> np.ndarray:
    """A grey picture of a depth image: nearest face pixel 255, farthest 1, background 0.

    Args:
        depth: (H, W) real depth, larger = nearer (as from :func:`depth_image`).
        mask: optional (H, W) bool, the face pixels. Default: finite pixels that are not 0
            (the background of :func:`depth_image` with its default or NaN background).

    Returns:
        (H, W) uint8, linear in depth over the face pixels; all 255 for a flat face.
    """
    depth = np.asarray(depth)
    if depth.ndim != 2 or depth.dtype.kind not in "fiu":
        raise InvalidInputError(
            f"depth must be a real (H, W) array, got {depth.dtype} {depth.shape}"
        )
    values = depth.astype(np.float64)
    if mask is None:
        mask = np.isfinite(values) & (values != 0)
    else:
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != depth.shape:
            raise InvalidInputError(f"mask must be bool of shape {depth.shape}")
        if not np.all(np.isfinite(values[mask])):
            raise InvalidInputError("depth holds NaN or infinite values inside the mask")
    picture = np.zeros(depth.shape, dtype=np.uint8)
    if not mask.any():
        return picture
    near = values[mask].max()
    far = values[mask].min()
    span = near - far
    if span == 0 or not math.isfinite(span):
        picture[mask] = 255
        return picture
    picture[mask] = np.rint(1 + 254 * (values[mask] - far) / span).astype(np.uint8)
    return picture
