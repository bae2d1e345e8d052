"""Where each part of the ICT face region goes in the square UV position map.

Region (see docs/topology.md): ICT's "Full face area" carries one UV island that fills the
unit square, from the top of the forehead to the upper neck and from ear to ear, laid out as
a front view (the subject's right on the left, forehead at the top). The position map keeps
the island except the neck: a UV pixel is kept when it lies above the *jaw curve* lowered by
:data:`NECK_MARGIN`. The jaw curve is the polyline through the UVs of landmarks 4-12 (jaw
angle to jaw angle, through the chin), held flat beyond them. The margin keeps a strip under
the jaw so that the jaw's silhouette in a side view stays on the map.

Layout: the kept part's UV bounding box (down to the lowest point of the cut) is stretched,
independently in u and v, onto pixel centres ``pad .. R-1-pad`` of an R x R map, with u along
columns and v (up) along rows flipped, so the map looks like a frontal face the right way up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facerecon.errors import InvalidInputError
from facerecon.morphable.ict import IctModel

NECK_MARGIN = 0.06  # UV units (the island is 1 high): ~2 cm of skin under the chin
JAW_CURVE_LANDMARKS = tuple(range(4, 13))


@dataclass(frozen=True)
class UvLayout:
    """The kept part of the ICT face region, mapped to UV pixels.

    Attributes:
        resolution: R, the side of the square map.
        kept_triangles: (K,) int64 rows of ``IctModel.triangles`` that reach above the cut.
        corner_pixels: (K, 3, 2) float64 (col, row) UV-pixel position of every kept triangle's
            corners, in the order of its row in ``IctModel.triangles``.
        landmark_uv: (68, 2) float64 (col, row) UV-pixel position of the landmark vertices.
        cut_rows: (R,) float64 the neck cut: pixel (r, c) is on the map only if
            ``r <= cut_rows[c]``.
        uv_box: (u_min, u_max, v_min, v_max) ICT UV box mapped onto the pixels.
    """

    resolution: int
    kept_triangles: np.ndarray
    corner_pixels: np.ndarray
    landmark_uv: np.ndarray
    cut_rows: np.ndarray
    uv_box: tuple[float, float, float, float]


def vertex_uvs(model: IctModel, vertices: np.ndarray) -> np.ndarray:
    """(k, 2) ICT UV of the given region vertices.

    Raises:
        InvalidInputError: a vertex is unused or lies on a UV seam (several UVs).
    """
    result = np.empty((len(vertices), 2), dtype=np.float64)
    for row, vertex in enumerate(vertices):
        entries = np.unique(model.triangle_uvs[model.triangles == vertex])
        if entries.size != 1:
            raise InvalidInputError(f"vertex {vertex} has {entries.size} UVs; expected one")
        result[row] = model.uvs[entries[0]]
    return result


def jaw_cut_v(model: IctModel, u: np.ndarray, margin: float = NECK_MARGIN) -> np.ndarray:
    """ICT v below which the neck begins, at each u (the jaw curve lowered by ``margin``)."""
    jaw = vertex_uvs(model, model.landmark_indices[list(JAW_CURVE_LANDMARKS)])
    order = np.argsort(jaw[:, 0])
    return np.interp(u, jaw[order, 0], jaw[order, 1]) - margin


def padding(resolution: int) -> int:
    """Empty pixels left on each side of the map: 1 at 256, scaled with the resolution."""
    return max(1, round(resolution / 256))


def build_layout(model: IctModel, resolution: int = 256,
                 neck_margin: float = NECK_MARGIN) -> UvLayout:
    """Select the position-map part of the region and map its UVs to pixels.

    Args:
        model: the ICT face region.
        resolution: side R of the square map (>= 32).
        neck_margin: how far below the jaw curve (ICT UV units) the map still reaches.
    """
    if int(resolution) != resolution or resolution < 32:
        raise InvalidInputError(f"resolution must be an integer >= 32, got {resolution}")
    resolution = int(resolution)
    corner_uv = model.uvs[model.triangle_uvs].astype(np.float64)  # (T, 3, 2)
    # Rasterise only triangles that reach above the cut; the cut itself is made per pixel
    # (below), which gives a smooth edge where a per-triangle choice would leave teeth.
    above = corner_uv[..., 1] > jaw_cut_v(model, corner_uv[..., 0], neck_margin)
    kept = np.flatnonzero(above.any(axis=1))
    u_min, v_max = corner_uv[kept, :, 0].min(), corner_uv[kept, :, 1].max()
    u_max = corner_uv[kept, :, 0].max()
    v_min = jaw_cut_v(model, np.linspace(u_min, u_max, 1001), neck_margin).min()
    pad = padding(resolution)
    span = resolution - 1 - 2 * pad

    def to_pixels(uv: np.ndarray) -> np.ndarray:
        col = pad + (uv[..., 0] - u_min) / (u_max - u_min) * span
        row = pad + (v_max - uv[..., 1]) / (v_max - v_min) * span
        return np.stack([col, row], axis=-1)

    column_u = u_min + (np.arange(resolution) - pad) / span * (u_max - u_min)
    cut_rows = pad + (v_max - jaw_cut_v(model, column_u, neck_margin)) / (v_max - v_min) * span
    return UvLayout(resolution=resolution, kept_triangles=kept,
                    corner_pixels=to_pixels(corner_uv[kept]),
                    landmark_uv=to_pixels(vertex_uvs(model, model.landmark_indices)),
                    cut_rows=cut_rows, uv_box=(float(u_min), float(u_max), float(v_min),
                                               float(v_max)))


def grid_triangles(uv_mask: np.ndarray) -> np.ndarray:
    """Triangles over the valid pixels of a UV mask, indexing the dense vertex order.

    Dense vertex k is the k-th valid pixel in row-major order (``np.flatnonzero(uv_mask)``).
    Each 2x2 block of pixels gives two triangles when all four are valid and one when three
    are. With the map filled by a frontal face in image coordinates (columns ~ x, rows ~ y),
    every triangle is counter-clockwise as the viewer sees it, i.e. has negative signed area
    ``(x1-x0)*(y2-y0) - (x2-x0)*(y1-y0)`` in the y-down image frame.

    Returns:
        (T, 3) int32, in row-major order of the blocks' top-left pixel.
    """
    mask = np.asarray(uv_mask, dtype=bool)
    dense = np.full(mask.shape, -1, dtype=np.int64)
    dense[mask] = np.arange(int(mask.sum()))
    a, b = dense[:-1, :-1], dense[:-1, 1:]  # top-left, top-right
    c, d = dense[1:, :-1], dense[1:, 1:]  # bottom-left, bottom-right
    # Candidate triangles per block, each counter-clockwise on screen (down, then right):
    # the full-quad split (a, c, b) + (b, c, d); with one corner missing, the other three.
    candidates = [
        ((a, c, b), (a >= 0) & (b >= 0) & (c >= 0)),
        ((b, c, d), (b >= 0) & (c >= 0) & (d >= 0)),
        ((a, c, d), (a >= 0) & (c >= 0) & (d >= 0) & (b < 0)),
        ((a, d, b), (a >= 0) & (b >= 0) & (d >= 0) & (c < 0)),
    ]
    block_ids, rows = [], []
    for slot, (corners, valid) in enumerate(candidates):
        where = np.flatnonzero(valid)
        block_ids.append(where * 4 + slot)
        rows.append(np.stack([corner.ravel()[where] for corner in corners], axis=1))
    order = np.argsort(np.concatenate(block_ids), kind="stable")
    return np.concatenate(rows)[order].astype(np.int32)
