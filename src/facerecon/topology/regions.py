"""Region masks and the loss-weight mask of the UV position map, from the 68 landmark UVs.

All masks are (R, R) bool over UV pixels and lie inside ``uv_mask``. They are drawn in UV
pixel space around the UV positions of ICT's landmark vertices, so they follow the same
surface points as those vertices on every face:

- ``face``: between the jaw ends (landmarks 0 and 16) and above the jaw contour (landmarks
  0-16, linear between them), up to the top of the map: forehead to chin, cheek to cheek.
- ``eye_right`` / ``eye_left`` (the subject's right, landmarks 36-41 / left, 42-47): the
  eye outline's convex hull grown by :data:`EYE_GROWTH` times the eye width (lids and corners).
- ``nose`` (27-35): the hull grown by :data:`NOSE_GROWTH` times the nostril width (31-35),
  which takes in the alae and the bridge.
- ``mouth`` (48-59, outer lip contour): the hull grown by :data:`MOUTH_GROWTH` times the
  mouth width (48-54).
- ``outer``: ``uv_mask`` outside ``face``: ears, temples behind the jaw contour, the strip of
  skin under the jaw.

Weights follow PRN's ratio, unnormalised: 16 on the (up to four) valid pixels that the
bilinear landmark lookup reads, 4 on eyes, nose and mouth, 3 on the rest of ``face``, 1 on
``outer`` (ears and under-jaw skin are often hidden by hair or missing from real labels, so
they get a low weight, not zero, to keep the mesh closed), 0 outside ``uv_mask``.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull

from facerecon.errors import InvalidInputError

EYE_GROWTH = 0.35
NOSE_GROWTH = 0.2
MOUTH_GROWTH = 0.1
WEIGHT_LANDMARK, WEIGHT_FEATURE, WEIGHT_FACE, WEIGHT_OUTER = 16.0, 4.0, 3.0, 1.0

RIGHT_EYE, LEFT_EYE = tuple(range(36, 42)), tuple(range(42, 48))
NOSE, OUTER_LIPS, JAW = tuple(range(27, 36)), tuple(range(48, 60)), tuple(range(0, 17))


def _pixel_centres(resolution: int) -> np.ndarray:
    rows, cols = np.mgrid[0:resolution, 0:resolution]
    return np.stack([cols, rows], axis=-1).astype(np.float64)  # (R, R, 2) as (x=col, y=row)


def grown_hull(points: np.ndarray, growth: float, resolution: int) -> np.ndarray:
    """(R, R) bool: pixel centres within ``growth`` pixels of the convex hull of ``points``."""
    hull = points[ConvexHull(points).vertices]  # counter-clockwise in (col, row) axes
    centres = _pixel_centres(resolution)
    start, end = hull, np.roll(hull, -1, axis=0)
    edge = end - start
    relative = centres[:, :, None, :] - start  # (R, R, E, 2)
    # Inside: on the same side of every edge (cross product sign of the hull's orientation).
    cross = edge[:, 0] * relative[..., 1] - edge[:, 1] * relative[..., 0]
    inside = np.all(cross >= 0, axis=-1) | np.all(cross <= 0, axis=-1)
    along = np.clip(np.sum(relative * edge, axis=-1) / np.sum(edge * edge, axis=-1), 0, 1)
    nearest = start + along[..., None] * edge
    distance = np.min(np.linalg.norm(centres[:, :, None, :] - nearest, axis=-1), axis=-1)
    return inside | (distance <= growth)


def face_mask(landmark_uv: np.ndarray, resolution: int) -> np.ndarray:
    """(R, R) bool: between jaw landmarks 0 and 16 and above the jaw contour through 0-16."""
    jaw = landmark_uv[list(JAW)]
    if np.any(np.diff(jaw[:, 0]) <= 0):
        raise InvalidInputError("jaw landmarks 0-16 must run left to right in the UV layout")
    centres = _pixel_centres(resolution)
    col, row = centres[..., 0], centres[..., 1]
    contour_row = np.interp(col, jaw[:, 0], jaw[:, 1])
    return (col >= jaw[0, 0]) & (col <= jaw[-1, 0]) & (row <= contour_row)


def region_masks(uv_mask: np.ndarray, landmark_uv: np.ndarray) -> dict[str, np.ndarray]:
    """The named region masks (module docstring), each (R, R) bool inside ``uv_mask``."""
    resolution = uv_mask.shape[0]

    def width(first: int, second: int) -> float:
        return float(np.linalg.norm(landmark_uv[first] - landmark_uv[second]))

    face = face_mask(landmark_uv, resolution) & uv_mask
    masks = {
        "face": face,
        "eye_right": grown_hull(landmark_uv[list(RIGHT_EYE)], EYE_GROWTH * width(36, 39),
                                resolution),
        "eye_left": grown_hull(landmark_uv[list(LEFT_EYE)], EYE_GROWTH * width(42, 45),
                               resolution),
        "nose": grown_hull(landmark_uv[list(NOSE)], NOSE_GROWTH * width(31, 35), resolution),
        "mouth": grown_hull(landmark_uv[list(OUTER_LIPS)], MOUTH_GROWTH * width(48, 54),
                            resolution),
    }
    masks = {name: mask & uv_mask for name, mask in masks.items()}
    masks["outer"] = uv_mask & ~face
    return masks


def weight_mask(uv_mask: np.ndarray, masks: dict[str, np.ndarray],
                landmark_sample_index: np.ndarray, landmark_sample_weight: np.ndarray
                ) -> np.ndarray:
    """(R, R) float32 loss weights (module docstring); 0 outside ``uv_mask``.

    ``landmark_sample_index`` / ``_weight`` (68, 4) are the flat pixels and weights of the
    bilinear landmark lookup; pixels with weight 0 there do not count as landmark pixels.
    """
    weights = np.zeros(uv_mask.shape, dtype=np.float32)
    weights[masks["outer"]] = WEIGHT_OUTER
    weights[masks["face"]] = WEIGHT_FACE
    features = masks["eye_right"] | masks["eye_left"] | masks["nose"] | masks["mouth"]
    weights[features] = WEIGHT_FEATURE
    landmark_pixels = landmark_sample_index[landmark_sample_weight > 0]
    weights.reshape(-1)[landmark_pixels] = WEIGHT_LANDMARK
    return weights
