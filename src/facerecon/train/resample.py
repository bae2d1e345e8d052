"""Resample a position map from one UV topology resolution to another.

Every resolution R of :mod:`facerecon.topology` lays out the same ICT UV box onto the pixel
centres ``pad .. R-1-pad`` (u along columns, v along rows; ``metadata["padding_px"]``), so a
UV point sits at ``pad_s + (p_t - pad_t) * (R_s - 1 - 2 pad_s) / (R_t - 1 - 2 pad_t)`` in the
source map when it sits at ``p_t`` in the target (per axis). Each target pixel takes the
bilinear interpolation of the source map there, renormalised over the *valid* source pixels
(pixels outside ``uv_mask`` hold 0 and must not pull the surface toward the origin); a target
pixel with no valid source neighbour takes its nearest valid source pixel. The surface is
piecewise linear in UV, so the error is second order in the source pixel size.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
from scipy import ndimage

from facerecon.errors import InvalidInputError
from facerecon.topology import load_topology


@functools.lru_cache(maxsize=8)
def _plan(source_resolution: int, target_resolution: int):
    source = load_topology(source_resolution)
    target = load_topology(target_resolution)
    if source.metadata.get("uv_box") != target.metadata.get("uv_box"):
        raise InvalidInputError(
            f"topologies {source_resolution} and {target_resolution} lay out different UV "
            "boxes; rebuild the data at the model's output size")
    pad_s = float(source.metadata["padding_px"])
    pad_t = float(target.metadata["padding_px"])
    ratio = (source_resolution - 1 - 2 * pad_s) / (target_resolution - 1 - 2 * pad_t)
    axis = (pad_s + (np.arange(target_resolution, dtype=np.float64) - pad_t) * ratio)
    map_x = np.broadcast_to(axis[None, :], (target_resolution,) * 2).astype(np.float32)
    map_y = np.broadcast_to(axis[:, None], (target_resolution,) * 2).astype(np.float32)
    weight = cv2.remap(source.uv_mask.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    # Nearest valid source pixel of every target pixel, for those with no valid neighbour.
    _, (near_r, near_c) = ndimage.distance_transform_edt(~source.uv_mask, return_indices=True)
    rows = np.clip(np.rint(map_y).astype(np.int64), 0, source_resolution - 1)
    cols = np.clip(np.rint(map_x).astype(np.int64), 0, source_resolution - 1)
    fallback = (near_r[rows, cols], near_c[rows, cols])
    return map_x, map_y, weight, fallback, source.uv_mask, target.uv_mask


def resample_posmap(posmap: np.ndarray, target_resolution: int) -> np.ndarray:
    """(R_s, R_s, 3) position map of topology R_s -> (R_t, R_t, 3) of topology R_t.

    Values (crop pixels) are unchanged; 0 outside the target ``uv_mask``. Returns a new
    float32 array; ``posmap`` is not modified.

    Raises:
        InvalidInputError: not a square 3-channel map of a packaged topology resolution.
    """
    values = np.asarray(posmap, dtype=np.float32)
    if values.ndim != 3 or values.shape[0] != values.shape[1] or values.shape[2] != 3:
        raise InvalidInputError(f"posmap must be (R, R, 3), got {values.shape}")
    source_resolution = values.shape[0]
    if source_resolution == target_resolution:
        return values.copy()
    map_x, map_y, weight, fallback, source_mask, target_mask = _plan(
        source_resolution, target_resolution)
    masked = values * source_mask[..., None]
    summed = cv2.remap(masked, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=0)
    covered = weight > 1e-6
    result = np.where(covered[..., None], summed / np.maximum(weight, 1e-6)[..., None],
                      values[fallback])
    result[~target_mask] = 0
    return result.astype(np.float32)
