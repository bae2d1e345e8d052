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
- :func:`smooth` smooths a predicted map's surface inside ``uv_mask`` without crossing the
  layout's seams (a network's pixels are each a little off, and the surface shows it as
  ridges).

All three accept a leading batch dimension. Position maps must have the topology's resolution:
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

__all__ = ["DecodedPosmap", "decode", "decode_landmarks", "encode", "smooth", "smoothing_edges"]


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
    return DecodedPosmap(vertices=vertices, landmarks=decode_landmarks(values, topology))


def decode_landmarks(posmap, topology: UVTopology) -> np.ndarray:
    """The 68 landmarks alone, as :func:`decode` reads them, without the dense vertices.

    Args:
        posmap: (R, R, 3) or (B, R, R, 3) real, R = ``topology.resolution``.
        topology: the UV topology.

    Returns:
        ([B,] 68, 3) float32, in the map's coordinates, iBUG order.

    Raises:
        InvalidInputError: the map's shape does not match the topology, or holds NaN/inf on
            the landmarks' sample pixels.
    """
    size = topology.resolution
    values = np.asarray(posmap)
    _checked_shape(values, size)
    flat = values.reshape(*values.shape[:-3], size * size, 3)
    samples = _finite_float(flat[..., topology.landmark_sample_index, :], "posmap (landmarks)")
    return np.einsum("...lkc,lk->...lc", samples.astype(np.float64),
                     topology.landmark_sample_weight).astype(np.float32)


#: A UV-neighbour pair whose points lie this many times farther apart on the canonical face
#: than the median pair along the same axis straddles a seam of the layout (eyelids, lip
#: corners, nostrils, ear folds: 2 x 8 lid pairs on the 128 map) and is never smoothed across.
SEAM_STRETCH = 2.5


def smoothing_edges(topology: UVTopology) -> tuple[np.ndarray, np.ndarray]:
    """The grid edges :func:`smooth` diffuses along: ``(down, right)`` bool arrays of shape
    (R-1, R) and (R, R-1), true where both pixels are in ``uv_mask`` and the pair does not
    straddle a seam (:data:`SEAM_STRETCH`, measured on ``topology.canonical_posmap``)."""
    mask = topology.uv_mask
    canonical = topology.canonical_posmap.astype(np.float64)
    edges = []
    for axis in (0, 1):
        length = np.linalg.norm(np.diff(canonical, axis=axis), axis=-1)
        inside = mask[:-1] & mask[1:] if axis == 0 else mask[:, :-1] & mask[:, 1:]
        typical = np.median(length[inside])
        edges.append(inside & (length <= SEAM_STRETCH * typical))
    return edges[0], edges[1]


def smooth(posmap, topology: UVTopology, sigma: float) -> np.ndarray:
    """The map with its surface smoothed over the face, about a Gaussian of ``sigma`` UV px.

    Diffusion on the UV grid: ``n = ceil(4 sigma^2)`` steps of ``p += lam / 4 * (d2u + d2v)``
    with ``lam = 2 sigma^2 / n <= 0.5``, where ``d2u = left + right - 2 p`` is the second
    difference along u (likewise ``d2v`` along v) and n steps spread a point like a Gaussian of
    variance ``n lam / 2 = sigma^2`` per axis. A second difference counts only where both of
    its edges are :func:`smoothing_edges`, so nothing is averaged across the face border
    (pixels outside ``uv_mask`` are neither read nor written) or across a seam of the layout
    (the upper and lower eyelids, the lip corners, nostrils and ear folds are UV neighbours;
    averaging across them would close the eyes). An affine map is therefore kept exactly
    everywhere, border and seams included, so the border is not pulled inwards; a pixel on
    the border is smoothed only along the other axis. What a sigma costs the landmarks is
    measured by ``benchmarks/surface_smoothing.py``.

    Args:
        posmap: (R, R, 3) or (B, R, R, 3) real, R = ``topology.resolution``.
        topology: the UV topology.
        sigma: the spread in UV pixels; 0 returns an unchanged copy.

    Returns:
        float32 array of the input's shape; a new array.

    Raises:
        InvalidInputError: bad shape, or sigma not finite and >= 0.
    """
    if not (np.isfinite(sigma) and sigma >= 0):
        raise InvalidInputError(f"sigma must be a finite number >= 0, got {sigma}")
    size = topology.resolution
    values = np.array(posmap, dtype=np.float32)
    _checked_shape(values, size)
    if sigma == 0:
        return values
    steps = int(np.ceil(4 * sigma**2))
    rate = 2 * sigma**2 / steps / 4
    along_v, along_u, inside = _smoothing_weights(topology, rate)
    maps = values.reshape(-1, size, size, 3)
    for original in maps:  # views into ``values``
        current = np.zeros_like(original)
        np.copyto(current, original, where=inside)
        for _ in range(steps):
            d2v = cv2.filter2D(current, -1, _D2_ROWS, borderType=cv2.BORDER_REPLICATE)
            d2u = cv2.filter2D(current, -1, _D2_COLS, borderType=cv2.BORDER_REPLICATE)
            cv2.accumulateProduct(d2v, along_v, current)
            cv2.accumulateProduct(d2u, along_u, current)
        np.copyto(original, current, where=inside)
    return values


_D2_ROWS = np.array([[1.0], [-2.0], [1.0]], dtype=np.float32)  # second difference along v
_D2_COLS = _D2_ROWS.T.copy()  # along u
_WEIGHT_CACHE: dict[tuple[int, float], tuple[UVTopology, np.ndarray, np.ndarray, np.ndarray]] = {}


def _smoothing_weights(topology: UVTopology,
                       rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R, R, 3) float32 masks times ``rate``: ``rate`` where a pixel's second difference
    along v (resp. u) has both of its edges in :func:`smoothing_edges`, else 0; and the
    (R, R, 3) bool ``uv_mask``. Cached per topology object and rate."""
    cached = _WEIGHT_CACHE.get((id(topology), rate))
    if cached is not None and cached[0] is topology:
        return cached[1], cached[2], cached[3]
    down, right = smoothing_edges(topology)
    size = topology.resolution
    along_v = np.zeros((size, size), np.float32)
    along_v[1:-1] = down[:-1] & down[1:]
    along_u = np.zeros((size, size), np.float32)
    along_u[:, 1:-1] = right[:, :-1] & right[:, 1:]
    weights = (*(np.repeat(plane[..., None] * np.float32(rate), 3, axis=2)
                 for plane in (along_v, along_u)),
               np.repeat(topology.uv_mask[..., None], 3, axis=2))
    _WEIGHT_CACHE[(id(topology), rate)] = (topology, *weights)
    return weights
