"""The UV topology of the position map: the :class:`UVTopology` container and its loader.

The packaged ``facerecon/assets/uv_topology_<R>.npz`` files are computed by
:func:`facerecon.topology.build.build_topology` from ICT-FaceKit
(``facerecon assets build --ict PATH --resolution R``); this module only reads them, so using
the package needs neither ICT-FaceKit nor the rasteriser.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.paths import ASSETS_DIR
from facerecon.topology.layout import grid_triangles


@dataclass(frozen=True, eq=False)
class UVTopology:
    """Everything about the R x R UV position map that does not depend on the face.

    UV pixel (row r, col c) holds one fixed point of the ICT face surface. "Dense vertices" are
    the valid pixels in row-major order (``np.flatnonzero(uv_mask)``), N of them.

    Attributes:
        resolution: R.
        uv_mask: (R, R) bool, pixels that hold a surface point.
        triangles: (T, 3) int32 over the dense vertices, from the UV grid (two per fully valid
            2x2 block, one where three pixels are valid); counter-clockwise as the viewer
            sees a frontal face (negative signed area in the y-down image frame).
        landmark_uv: (68, 2) float32 fractional (col, row) UV-pixel position of ICT's 68
            landmark vertices (iBUG order).
        landmark_pixels: (68, 2) int32 (col, row): the valid pixel, among the four that the
            bilinear lookup at ``landmark_uv`` reads, nearest to ``landmark_uv``.
        region_masks: (R, R) bool masks "face", "eye_right", "eye_left", "nose", "mouth",
            "outer" (eye_right = the subject's right eye, landmarks 36-41);
            see :mod:`facerecon.topology.regions`.
        weight_mask: (R, R) float32 loss weights 16 landmarks : 4 eyes, nose, mouth : 3 rest of
            the face : 1 ears and under-jaw : 0 outside (not normalised).
        canonical_posmap: (R, R, 3) float32, the neutral ICT face, frontal, placed in an R x R
            crop by the landmark-box recipe (docs/topology.md); image frame (x right, y down,
            z larger nearer); 0 outside ``uv_mask``.
        canonical_vertices: (V, 3) float32 the same face as region vertices.
        pixel_triangle: (R, R) int32 row of ``region_triangles`` that each pixel lies on; -1
            outside ``uv_mask``.
        pixel_barycentric: (R, R, 3) float32 weights of that triangle's vertices; 0 outside.
        region_triangles: (M, 3) int32 the ICT face-region triangles (ICT's quads split),
            indexing the V = ``region_vertex_count`` region vertices.
        region_vertex_count: V, the vertex count of :class:`facerecon.morphable.ict.IctModel`.
        landmark_vertices: (68,) int32 region vertex of each landmark.
        metadata: how the file was built (command, source hash, parameters, coverage).
    """

    resolution: int
    uv_mask: np.ndarray
    triangles: np.ndarray
    landmark_uv: np.ndarray
    landmark_pixels: np.ndarray
    region_masks: dict[str, np.ndarray]
    weight_mask: np.ndarray
    canonical_posmap: np.ndarray
    canonical_vertices: np.ndarray
    pixel_triangle: np.ndarray
    pixel_barycentric: np.ndarray
    region_triangles: np.ndarray
    region_vertex_count: int
    landmark_vertices: np.ndarray
    metadata: dict = field(default_factory=dict)
    # Derived lookups for the codec: valid flat pixels, their (N, 3) region vertex ids and
    # barycentric weights, and the (68, 4) flat pixels / weights of the landmark lookup.
    valid_indices: np.ndarray = field(repr=False, default=None)
    valid_vertex_ids: np.ndarray = field(repr=False, default=None)
    valid_barycentric: np.ndarray = field(repr=False, default=None)
    landmark_sample_index: np.ndarray = field(repr=False, default=None)
    landmark_sample_weight: np.ndarray = field(repr=False, default=None)

    @property
    def vertex_count(self) -> int:
        """N, the number of valid pixels (dense vertices)."""
        return int(self.valid_indices.size)


def landmark_sampling(uv_mask: np.ndarray, landmark_uv: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear lookup at ``landmark_uv`` restricted to valid pixels.

    Returns (index (68, 4) int64 flat pixel indices, weight (68, 4) float64 summing to 1).
    Invalid neighbours (landmarks on the rim of the eye and mouth openings have some) get
    weight 0 and the others are renormalised, so only surface points are averaged.

    Raises:
        InvalidInputError: a landmark has no valid pixel among its four neighbours.
    """
    resolution = uv_mask.shape[0]
    base = np.floor(landmark_uv).astype(np.int64)
    frac = landmark_uv - base
    offsets = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])  # (dcol, drow)
    cols = np.clip(base[:, None, 0] + offsets[:, 0], 0, resolution - 1)
    rows = np.clip(base[:, None, 1] + offsets[:, 1], 0, resolution - 1)
    weight = (np.where(offsets[:, 0], frac[:, None, 0], 1 - frac[:, None, 0])
              * np.where(offsets[:, 1], frac[:, None, 1], 1 - frac[:, None, 1]))
    weight = weight * uv_mask[rows, cols]
    total = weight.sum(axis=1, keepdims=True)
    if np.any(total <= 0):
        raise InvalidInputError("a landmark has no valid UV pixel around it")
    return rows * resolution + cols, weight / total


def interpolate_surface(vertices: np.ndarray, valid_vertex_ids: np.ndarray,
                        valid_barycentric: np.ndarray) -> np.ndarray:
    """(..., N, 3) float32 surface points: barycentric combinations of (..., V, 3) vertices."""
    gathered = vertices[..., valid_vertex_ids, :]  # (..., N, 3, 3)
    return np.einsum("...nkc,nk->...nc", gathered, valid_barycentric).astype(np.float32)


def topology_from_arrays(arrays: dict) -> UVTopology:
    """Assemble a :class:`UVTopology` from the arrays of a ``uv_topology_<R>.npz`` file."""
    uv_mask = np.asarray(arrays["uv_mask"], dtype=bool)
    resolution = int(uv_mask.shape[0])
    valid = np.flatnonzero(uv_mask)
    valid_triangle = np.asarray(arrays["valid_triangle"], dtype=np.int32)
    first_two = np.asarray(arrays["valid_barycentric"], dtype=np.float32)
    valid_barycentric = np.column_stack([first_two, 1 - first_two.sum(axis=1)])
    region_triangles = np.asarray(arrays["region_triangles"], dtype=np.int32)
    pixel_triangle = np.full(resolution * resolution, -1, dtype=np.int32)
    pixel_triangle[valid] = valid_triangle
    pixel_barycentric = np.zeros((resolution * resolution, 3), dtype=np.float32)
    pixel_barycentric[valid] = valid_barycentric
    valid_vertex_ids = region_triangles[valid_triangle]
    landmark_uv = np.asarray(arrays["landmark_uv"], dtype=np.float32)
    sample_index, sample_weight = landmark_sampling(uv_mask, landmark_uv.astype(np.float64))
    best = sample_index[np.arange(68), np.argmax(sample_weight, axis=1)]
    canonical_vertices = np.asarray(arrays["canonical_vertices"], dtype=np.float32)
    canonical = np.zeros((resolution * resolution, 3), dtype=np.float32)
    canonical[valid] = interpolate_surface(canonical_vertices, valid_vertex_ids,
                                           valid_barycentric)
    masks = {str(name[len("mask_"):]): np.asarray(arrays[name], dtype=bool)
             for name in arrays if name.startswith("mask_")}
    topology = UVTopology(
        resolution=resolution,
        uv_mask=uv_mask,
        triangles=grid_triangles(uv_mask),
        landmark_uv=landmark_uv,
        landmark_pixels=np.stack([best % resolution, best // resolution], axis=1).astype(np.int32),
        region_masks=masks,
        weight_mask=np.asarray(arrays["weight_mask"], dtype=np.float32),
        canonical_posmap=canonical.reshape(resolution, resolution, 3),
        canonical_vertices=canonical_vertices,
        pixel_triangle=pixel_triangle.reshape(resolution, resolution),
        pixel_barycentric=pixel_barycentric.reshape(resolution, resolution, 3),
        region_triangles=region_triangles,
        region_vertex_count=int(arrays["region_vertex_count"]),
        landmark_vertices=np.asarray(arrays["landmark_vertices"], dtype=np.int32),
        metadata=json.loads(str(arrays["metadata"])),
        valid_indices=valid,
        valid_vertex_ids=valid_vertex_ids,
        valid_barycentric=valid_barycentric,
        landmark_sample_index=sample_index,
        landmark_sample_weight=sample_weight,
    )
    for value in vars(topology).values():
        for array in value.values() if isinstance(value, dict) else [value]:
            if isinstance(array, np.ndarray):
                array.setflags(write=False)
    return topology


def topology_path(resolution: int) -> Path:
    return ASSETS_DIR / f"uv_topology_{int(resolution)}.npz"


@functools.lru_cache(maxsize=4)
def load_topology(resolution: int = 256, path: str | Path | None = None) -> UVTopology:
    """Load the packaged UV topology of side ``resolution`` (or the file at ``path``).

    The result is cached and read-only (shared between callers).

    Raises:
        DataNotFoundError: no such file; build it with
            ``facerecon assets build --ict PATH --resolution R``.
    """
    file = Path(path) if path is not None else topology_path(resolution)
    if not file.is_file():
        raise DataNotFoundError(f"no UV topology at {file}; build it with "
                                f"'facerecon assets build --ict PATH --resolution {resolution}'")
    try:
        with np.load(file, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError) as error:
        raise DataNotFoundError(f"cannot read UV topology {file}: {error}") from error
    topology = topology_from_arrays(arrays)
    if path is None and topology.resolution != resolution:
        raise InvalidInputError(f"{file} holds resolution {topology.resolution}, "
                                f"not {resolution}")
    return topology
