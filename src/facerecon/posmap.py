"""The UV position map codec: face mesh <-> (R, R, 3) position map.

A position map of a :class:`~facerecon.topology.UVTopology` holds at UV pixel (r, c) the x, y,
z (crop space: x right, y down, z larger nearer) of one fixed point of the ICT face surface;
0 outside ``uv_mask``.

- :func:`encode` renders the region mesh's xyz into UV: each valid pixel is the barycentric
  combination of its ICT triangle's vertices (the weights were computed once by rasterising
  the UV layout), so it is exact for any pose and never looks at visibility.
- :func:`decode` reads the dense vertices (valid pixels in row-major order) and the 68
  landmarks (bilinear lookup at ``landmark_uv`` over valid pixels).

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

import numpy as np

from facerecon.errors import InvalidInputError
from facerecon.topology.uv_topology import UVTopology, interpolate_surface

__all__ = ["DecodedPosmap", "decode", "encode"]


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
    posmap[..., topology.valid_indices, :] = interpolate_surface(
        values, topology.valid_vertex_ids, topology.valid_barycentric)
    return posmap.reshape(*batch, size, size, 3)


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
    if values.ndim not in (3, 4) or values.shape[-3:] != (size, size, 3):
        raise InvalidInputError(
            f"posmap must have shape ([B,] {size}, {size}, 3) for this {size}x{size} topology, "
            f"got {values.shape}")
    flat = values.reshape(*values.shape[:-3], size * size, 3)
    vertices = _finite_float(flat[..., topology.valid_indices, :], "posmap (valid pixels)")
    samples = _finite_float(flat[..., topology.landmark_sample_index, :], "posmap (landmarks)")
    landmarks = np.einsum("...lkc,lk->...lc", samples.astype(np.float64),
                          topology.landmark_sample_weight).astype(np.float32)
    return DecodedPosmap(vertices=vertices, landmarks=landmarks)
