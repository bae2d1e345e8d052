"""Front views: undo the head pose so that every face lands in one common, aligned frame.

Given a :class:`~facerecon.apps.pose.Pose` (``observed = scale * R @ canonical + t``):

- :func:`frontalize` maps observed vertices into the **canonical frame**: frontal, at the
  canonical face's scale and position. Faces from different photos (or different faces in
  one photo) then lie on top of each other and can be compared vertex by vertex, averaged or
  exported side by side; this is the "front view" mesh.
- :func:`derotate` removes only the rotation and keeps the face's image scale and
  placement (``scale * canonical + t``): a front view that can be drawn or rendered over
  the original image at its size, centred where the face was.
- :func:`align_to_canonical` fits the pose and frontalizes in one call.

All functions take (N, 3) points as rows in the image frame (x right, y down, z nearer
larger), return float32 (N, 3) in the same axes, and never modify their input. Triangle
winding is unchanged by these proper similarities (det R = +1, scale > 0).
"""

from __future__ import annotations

import numpy as np

from facerecon.apps.pose import Pose, _as_points, estimate_pose


def frontalize(vertices, pose: Pose) -> np.ndarray:
    """Map observed vertices to the canonical frontal frame: ``R.T @ (v - t) / scale``.

    Args:
        vertices: (N, 3) vertices in the image frame, any float dtype.
        pose: the pose of these vertices (e.g. from :func:`estimate_pose`).

    Returns:
        (N, 3) float32 in canonical units; equals the canonical face up to the fit residual
        (expression and identity differences remain, rigid motion is gone).
    """
    points = _as_points(vertices, "vertices")
    return ((points - pose.translation) @ pose.rotation / pose.scale).astype(np.float32)


def derotate(vertices, pose: Pose) -> np.ndarray:
    """Remove the rotation only: ``R.T @ (v - t) + t`` (image scale and placement kept).

    Args:
        vertices: (N, 3) vertices in the image frame.
        pose: their pose.

    Returns:
        (N, 3) float32 image-frame vertices of the face seen from the front, with the
        canonical origin still at ``pose.translation`` and sizes still in image pixels.
    """
    points = _as_points(vertices, "vertices")
    return ((points - pose.translation) @ pose.rotation + pose.translation).astype(np.float32)


def align_to_canonical(vertices, canonical, weights=None) -> tuple[np.ndarray, Pose]:
    """Fit the pose of ``vertices`` to ``canonical`` and frontalize them.

    Args:
        vertices: (N, 3) observed vertices in the image frame.
        canonical: (N, 3) corresponding canonical frontal vertices.
        weights: optional (N,) non-negative fit weights (see :func:`estimate_pose`).

    Returns:
        ``(front, pose)``: front is (N, 3) float32 in the canonical frame, pose the fit.
    """
    pose = estimate_pose(vertices, canonical, weights=weights)
    return frontalize(vertices, pose), pose
