"""Data types and the coordinate conventions every module follows.

Conventions (tested in tests/test_types.py and where each is produced):

- Images are numpy ``uint8`` arrays of shape (H, W, 3) in **RGB** order. BGR exists only at
  the boundary of an OpenCV call.
- Boxes are ``xyxy`` float pixels: (x1, y1, x2, y2), x1 < x2, y1 < y2.
- Points and vertices are float32 arrays with one point per row: landmarks (68, 3),
  vertices (N, 3). Landmark order is the 68-point iBUG / Multi-PIE markup, 0-based.
- Face coordinates are image pixels: x to the right, y down, z in the same pixel scale with
  **larger z nearer the camera**. (This frame is left-handed; rotations between two frames
  of the same handedness are still proper, det(R) = +1.)
- Pose: ``R`` maps the canonical frontal face (same axes as above) to the observed face,
  ``observed = scale * R @ canonical + t``. Euler angles are in degrees with
  ``R = Rz(roll) @ Ry(yaw) @ Rx(pitch)``; see :mod:`facerecon.apps.pose` for the signs.
- Inputs are never mutated; failures raise :mod:`facerecon.errors` exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facerecon.errors import InvalidInputError


def _as_float_array(value, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    array = np.array(value, dtype=np.float32, copy=True)
    if array.shape[-len(shape_tail):] != shape_tail:
        raise InvalidInputError(f"{name} must have shape (..., {shape_tail}), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} holds NaN or infinite values")
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Detection:
    """One detected face.

    Attributes:
        box: (4,) float32 ``xyxy`` in image pixels.
        score: detector confidence; comparable only within one detector.
        keypoints: optional (5, 2) float32 (right eye, left eye, nose, right and left mouth
            corner, subject's side) or (68, 2) landmarks when the "detector" was given them.
    """

    box: np.ndarray
    score: float = 1.0
    keypoints: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        box = _as_float_array(self.box, (4,), "box").reshape(4)
        if not (box[2] > box[0] and box[3] > box[1]):
            raise InvalidInputError(f"box must be xyxy with x1 < x2 and y1 < y2, got {box}")
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "score", float(self.score))
        if self.keypoints is not None:
            keypoints = _as_float_array(self.keypoints, (2,), "keypoints")
            object.__setattr__(self, "keypoints", keypoints)
