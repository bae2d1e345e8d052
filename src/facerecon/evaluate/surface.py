"""How well a position map's surface is shaped: the angle between its normals and the truth's.

Landmark and vertex errors hardly see a rough surface: ridges a pixel high move no vertex
far but turn the normals, which is what shading, relighting and every rendered view show.
The metric here compares facet normals of the UV grid: for the pixel (v, u) with its right
and lower neighbours all inside ``uv_mask``,

    n = (P[v, u+1] - P[v, u]) x (P[v+1, u] - P[v, u])

(any consistent winding: the same formula is applied to both maps), and the error is the
angle between the predicted and the true ``n``, averaged over those pixels of each face. A
facet with no normal (zero area, e.g. a collapsed prediction) counts as 90 degrees off.
Pure numpy; maps are (R, R, 3) or (B, R, R, 3) in any common frame (crop or image pixels).

>>> import numpy as np
>>> yy, xx = np.mgrid[0:8, 0:8].astype(float)
>>> plane = np.stack([xx, yy, np.zeros_like(xx)], axis=-1)
>>> tilted = np.stack([xx, yy, xx], axis=-1)  # z rises 1 per pixel in x: 45 degrees
>>> round(normal_error_deg(tilted, plane, np.ones((8, 8), bool)), 6)
45.0
"""

from __future__ import annotations

import numpy as np

from facerecon.errors import InvalidInputError


def facet_normals(posmaps: np.ndarray) -> np.ndarray:
    """(..., R-1, R-1, 3) unnormalised normals of the UV grid's facets (module docstring)."""
    maps = np.asarray(posmaps, dtype=np.float64)
    along_u = maps[..., :-1, 1:, :] - maps[..., :-1, :-1, :]
    along_v = maps[..., 1:, :-1, :] - maps[..., :-1, :-1, :]
    return np.cross(along_u, along_v)


def normal_error_deg(pred, true, uv_mask):
    """Mean angle in degrees between predicted and true facet normals: (B,) or a float.

    Args:
        pred: (R, R, 3) or (B, R, R, 3) predicted position maps.
        true: the true maps, same shape and frame.
        uv_mask: (R, R) bool, the topology's face pixels.

    Raises:
        InvalidInputError: mismatched shapes, or no pixel whose neighbours are in the mask.
    """
    pred = np.asarray(pred, dtype=np.float64)
    true = np.asarray(true, dtype=np.float64)
    mask = np.asarray(uv_mask, dtype=bool)
    if pred.shape != true.shape or pred.shape[-3:] != (*mask.shape, 3):
        raise InvalidInputError(
            f"pred {pred.shape} and true {true.shape} must be (B, R, R, 3) with R x R = "
            f"uv_mask {mask.shape}")
    valid = mask[:-1, :-1] & mask[:-1, 1:] & mask[1:, :-1]
    if not valid.any():
        raise InvalidInputError("uv_mask holds no pixel with its right and lower neighbours")
    normals_pred = facet_normals(pred)[..., valid, :]
    normals_true = facet_normals(true)[..., valid, :]
    sine = np.linalg.norm(np.cross(normals_pred, normals_true), axis=-1)
    cosine = (normals_pred * normals_true).sum(axis=-1)
    angles = np.degrees(np.arctan2(sine, cosine))
    degenerate = (np.linalg.norm(normals_pred, axis=-1) == 0) | (
        np.linalg.norm(normals_true, axis=-1) == 0)
    errors = np.where(degenerate, 90.0, angles).mean(axis=-1)
    return float(errors) if errors.ndim == 0 else errors
