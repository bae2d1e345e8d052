"""The UV position map codec: face mesh <-> (R, R, 3) position map.

A position map of a :class:`~facerecon.topology.UVTopology` holds at UV pixel (r, c) the x, y,
z (crop space: x right, y down, z larger nearer) of one fixed point of the ICT face surface;
0 outside ``uv_mask``.

- :func:`encode` renders the region mesh's xyz into UV: each valid pixel is the barycentric
  combination of its ICT triangle's vertices (the weights were computed once by rasterising
  the UV layout), so it is exact for any pose and never looks at visibility.
- :func:`decode` reads the dense vertices (valid pixels in row-major order) and the 68
  landmarks (a fixed weighted sum of 12 pixels around each ``landmark_uv``, see
  :mod:`facerecon.topology.landmark_lookup`).
- :func:`smooth` smooths a predicted map's surface inside ``uv_mask`` (a network's pixels
  are each a little off, and the surface shows it as ridges).

Both accept a leading batch dimension. Position maps must have the topology's resolution:
a network that predicts at another size must resize with its own (documented) method first.

Example:
    >>> from facerecon.topology import load_topology
    >>> topology = load_topology(256)
    >>> decoded = decode(topology.canonical_posmap, topology)
    >>> decoded.vertices.shape == (topology.vertex_count, 3), decoded.landmarks.shape
    (True, (68, 3))
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facerecon.errors import InvalidInputError
from facerecon.topology.uv_topology import UVTopology, interpolate_surface

__all__ = ["DecodedPosmap", "decode", "encode", "smooth"]


@dataclass(frozen=True)
class DecodedPosmap:
    """What a position map says about the face.

    Attributes:
        vertices: (N, 3) or (B, N, 3) float32 dense vertices, the valid UV pixels in row-major
            order (they match ``UVTopology.triangles``).
        landmarks: (68, 3) or (B, 68, 3) float32 iBUG 68 landmarks.
    """

    vertices: np.ndarray
    landmarks: np.ndarray


def _finite_float(array, name: str) -> np.ndarray:
    try:
        values = np.asarray(array, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{name} must be a real array: {error}") from error
    if not np.all(np.isfinite(values)):
        raise InvalidInputError(f"{name} holds NaN or infinite values")
    return values


def encode(vertices, topology: UVTopology) -> np.ndarray:
    """Render region vertices into a position map.

    Args:
        vertices: (V, 3) or (B, V, 3) real, the ICT face-region vertices
            (V = ``topology.region_vertex_count``) in crop space.
        topology: the UV topology.

    Returns:
        (R, R, 3) or (B, R, R, 3) float32, 0 outside ``uv_mask``; a new array.

    Raises:
        InvalidInputError: wrong shape or non-finite values.
    """
    values = _finite_float(vertices, "vertices")
    if values.ndim not in (2, 3) or values.shape[-2:] != (topology.region_vertex_count, 3):
        raise InvalidInputError(
            f"vertices must have shape ([B,] {topology.region_vertex_count}, 3), "
            f"got {values.shape}")
    size = topology.resolution
    batch = values.shape[:-2]
    posmap = np.zeros((*batch, size * size, 3), dtype=np.float32)
    posmap[..., topology.valid_indices, :] = interpolate_surface(values, topology.surface_matrix)
    return posmap.reshape(*batch, size, size, 3)


def _checked_shape(values: np.ndarray, size: int) -> None:
    if values.ndim not in (3, 4) or values.shape[-3:] != (size, size, 3):
        raise InvalidInputError(
            f"posmap must have shape ([B,] {size}, {size}, 3) for this {size}x{size} topology, "
            f"got {values.shape}")


def decode(posmap, topology: UVTopology) -> DecodedPosmap:
    """Read dense vertices and 68 landmarks from a position map.

    Args:
        posmap: (R, R, 3) or (B, R, R, 3) real, R = ``topology.resolution``.
        topology: the UV topology.

    Raises:
        InvalidInputError: the map's shape does not match the topology, or holds NaN/inf on
            valid pixels.
    """
    size = topology.resolution
    values = np.asarray(posmap)
    _checked_shape(values, size)
    flat = values.reshape(*values.shape[:-3], size * size, 3)
    vertices = _finite_float(flat[..., topology.valid_indices, :], "posmap (valid pixels)")
    samples = _finite_float(flat[..., topology.landmark_sample_index, :], "posmap (landmarks)")
    landmarks = np.einsum("...lkc,lk->...lc", samples.astype(np.float64),
                          topology.landmark_sample_weight).astype(np.float32)
    return DecodedPosmap(vertices=vertices, landmarks=landmarks)


def smooth(posmap, topology: UVTopology, sigma: float) -> np.ndarray:
    """The map with its surface smoothed by a Gaussian of ``sigma`` UV pixels over the face.

    Each pixel inside ``uv_mask`` becomes the Gaussian-weighted mean of the face pixels
    around it (a normalised convolution: pixels outside the mask neither count nor move, so
    the face's edge is not pulled towards 0). x, y and z are smoothed alike; a plane or any
    affine map is kept exactly away from the edge. The UV layout joins the upper and lower
    eyelids, and the lips except for a 4-pixel gap in the middle of the mouth (128 layout),
    so a large sigma also averages across them: what a sigma costs the landmarks is measured
    by ``benchmarks/surface_smoothing.py``.

    Args:
        posmap: (R, R, 3) or (B, R, R, 3) real, R = ``topology.resolution``.
        topology: the UV topology.
        sigma: the Gaussian's standard deviation in UV pixels; 0 returns an unchanged copy.

    Returns:
        float32 array of the input's shape; a new array.

    Raises:
        InvalidInputError: bad shape, or sigma not finite and >= 0. (A NaN spreads to its
            neighbours; :func:`decode` rejects the result.)
    """
    if not (np.isfinite(sigma) and sigma >= 0):
        raise InvalidInputError(f"sigma must be a finite number >= 0, got {sigma}")
    size = topology.resolution
    values = np.array(posmap, dtype=np.float32)
    _checked_shape(values, size)
    if sigma == 0:
        return values
    weight = topology.uv_mask.astype(np.float32)
    coverage = cv2.GaussianBlur(weight, (0, 0), sigma)
    # 1 / coverage on the face, 0 elsewhere; whole-image arithmetic (no boolean indexing).
    scale = np.divide(weight, coverage, out=np.zeros_like(weight), where=coverage > 0)
    inside = topology.uv_mask[..., None]
    maps = values.reshape(-1, size, size, 3)
    for one in maps:  # views into ``values``
        blurred = cv2.GaussianBlur(one * weight[..., None], (0, 0), sigma)
        one[...] = np.where(inside, blurred * scale[..., None], one)
    return values
