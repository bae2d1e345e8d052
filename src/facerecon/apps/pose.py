"""Head pose from dense vertices: a similarity (Umeyama) fit to the canonical frontal face.

Frame (see :mod:`facerecon.types`): image pixels, x right, y down, z in pixel scale with
larger z nearer the camera. The canonical frontal face uses the same axes: it looks at the
camera (nose tip towards +z), the top of the head towards -y, the subject's left towards +x.

A pose maps the canonical face to the observed one::

    observed = scale * R @ canonical + t        (camera_matrix = [scale * R | t], 3x4)

which is a scaled-orthographic camera: the image position of a canonical point is the
first two rows of ``camera_matrix @ [x, y, z, 1]``; the third row carries the depth.

Euler angles, degrees, ``R = Rz(roll) @ Ry(yaw) @ Rx(pitch)`` (pitch applied first), with
the usual right-hand-rule matrices written in the image frame::

    Rx(a) = [[1, 0, 0], [0, c, -s], [0, s, c]]
    Ry(a) = [[c, 0, s], [0, 1, 0], [-s, 0, c]]
    Rz(a) = [[c, -s, 0], [s, c, 0], [0, 0, 1]]

What the signs mean on screen (checked in tests/apps/test_pose.py)::

            -y (up)                 yaw   > 0: the nose moves towards +x (image right);
              |                              the subject turns to their own left.
     -x ------+------ +x            pitch > 0: the nose moves towards -y (image up);
              |                              chin up, the subject looks up.
            +y (down)               roll  > 0: the face turns clockwise on screen; the
                                             top of the head moves towards +x.
     z: out of the screen, towards the viewer

Ranges: yaw in [-90, 90], pitch and roll in (-180, 180]. Yaw, the middle angle, is the
singular one: at |yaw| = 90 only ``pitch - roll`` (yaw = +90) or ``pitch + roll``
(yaw = -90) is determined, and :func:`euler_from_rotation` then returns roll = 0 and puts
the whole in-plane angle into pitch. Near the singularity pitch and roll are individually
ill-conditioned (an error of d degrees in R can move them by about d / cos(yaw)), while R
itself stays exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facerecon.errors import InvalidInputError

# Below this |cos(yaw)| (|yaw| within ~6e-5 degrees of 90) roll is not separable from pitch
# in practice: its atan2 arguments are of the size of the noise of a float32 or fitted R.
_GIMBAL_COS = 1e-6
# A rotation given to Pose may carry float32 rounding; anything further off is a bug upstream.
_ORTHONORMAL_TOL = 1e-4


@dataclass(frozen=True, eq=False)
class Similarity:
    """A 3D similarity ``target = scale * rotation @ source + translation``.

    Attributes:
        scale: positive float.
        rotation: (3, 3) float64, orthonormal with det +1.
        translation: (3,) float64.
    """

    scale: float
    rotation: np.ndarray
    translation: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Map (N, 3) points (rows) from source to target; returns float64 (N, 3)."""
        points = _as_points(points, "points")
        return self.scale * points @ self.rotation.T + self.translation

    def inverse(self) -> Similarity:
        """The similarity mapping target back to source."""
        rotation = self.rotation.T
        return Similarity(1.0 / self.scale, rotation, -(rotation @ self.translation) / self.scale)


def _as_points(points, name: str) -> np.ndarray:
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 3:
        raise InvalidInputError(f"{name} must have shape (N, 3), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} holds NaN or infinite values")
    return array


def umeyama(source, target, weights=None, with_scale: bool = True) -> Similarity:
    """Least-squares similarity with ``target ~= scale * R @ source + t`` (Umeyama 1991).

    Minimises ``sum_i w_i * |target_i - (scale * R @ source_i + t)|^2`` over proper rotations
    (det R = +1: a best fit that would need a reflection is replaced by the best proper
    rotation, the reflection guard).

    Args:
        source: (N, 3) points, rows; any float dtype.
        target: (N, 3) points corresponding row by row to ``source``.
        weights: optional (N,) non-negative per-point weights (not all zero).
        with_scale: fit the scale; when False the scale is fixed at 1 (a rigid fit).

    Returns:
        :class:`Similarity` in float64.

    Raises:
        InvalidInputError: mismatched shapes, non-finite values, negative weights, or points
            that do not fix a rotation (fewer than three non-collinear weighted points).
    """
    return _CentredSource(source, weights).fit(target, with_scale)


class _CentredSource:
    """The source side of :func:`umeyama`, computed once for fits of many targets.

    The sums over the N points run on (3, N) copies with einsum: numpy's axis reductions
    of an (N, 3) array are ~5x slower, and a matrix product would wake numpy's BLAS
    threads, whose busy-waiting then slows the next network call several times over on a
    small CPU (a dense fit, N ~ 14k, runs once per face; docs/models.md, "Threads").
    """

    def __init__(self, source, weights=None):
        source = _as_points(source, "source")
        if weights is None:
            weights = np.ones(len(source))
        else:
            weights = np.asarray(weights, dtype=np.float64)
            if weights.shape != (len(source),) or not np.all(np.isfinite(weights)):
                raise InvalidInputError(
                    f"weights must be ({len(source)},) finite, got {weights.shape}")
            if np.any(weights < 0) or weights.sum() <= 0:
                raise InvalidInputError("weights must be non-negative and not all zero")
        self.count = len(source)
        self.weights = weights / weights.sum()
        source_rows = np.ascontiguousarray(source.T)
        self.mean = np.einsum("jn,n->j", source_rows, self.weights)
        centred = source_rows - self.mean[:, None]
        self.weighted_centred = centred * self.weights  # (3, N): w_i (s_i - s_mean)
        self.variance = np.einsum("jn,jn->", self.weighted_centred, centred)

    def fit(self, target, with_scale: bool = True) -> Similarity:
        """:func:`umeyama` of this source onto ``target`` ((N, 3), row by row)."""
        target = _as_points(target, "target")
        if target.shape != (self.count, 3):
            raise InvalidInputError(
                f"source ({self.count}, 3) and target {target.shape} differ")
        target_rows = np.ascontiguousarray(target.T)
        target_mean = np.einsum("jn,n->j", target_rows, self.weights)
        # sum_i w_i (t_i - t_mean)(s_i - s_mean)^T; the t_mean term drops out, as
        # sum_i w_i (s_i - s_mean) = 0, so the target need not be centred.
        covariance = np.einsum("jn,kn->jk", target_rows, self.weighted_centred)
        u, singular, vt = np.linalg.svd(covariance)
        # Rank < 2 (all points on one line) leaves a rotation about that line free.
        if not singular[1] > 1e-12 * max(singular[0], np.finfo(float).tiny):
            raise InvalidInputError(
                "points are collinear or coincident: rotation is undetermined")
        signs = np.ones(3)
        if np.linalg.det(u) * np.linalg.det(vt) < 0:
            signs[2] = -1.0
        rotation = (u * signs) @ vt
        if with_scale:
            scale = float(singular @ signs / self.variance)
            if not scale > 0:
                raise InvalidInputError(
                    "the best-fit scale is not positive: no proper similarity")
        else:
            scale = 1.0
        translation = target_mean - scale * rotation @ self.mean
        return Similarity(scale, rotation, translation)


def _axis_rotation(axis: int, degrees: float) -> np.ndarray:
    angle = np.deg2rad(degrees)
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    matrix = np.eye(3)
    matrix[i, i] = matrix[j, j] = c
    matrix[i, j] = -s
    matrix[j, i] = s
    return matrix


def rotation_from_euler(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """(3, 3) float64 ``R = Rz(roll) @ Ry(yaw) @ Rx(pitch)``, angles in degrees.

    Signs are those of the module docstring (positive yaw turns the nose towards +x,
    positive pitch lifts the chin, positive roll is clockwise on screen).

    >>> np.round(rotation_from_euler(90, 0, 0) @ [0, 0, 1], 6)  # nose tip goes to +x
    array([1., 0., 0.])
    """
    return _axis_rotation(2, roll) @ _axis_rotation(1, yaw) @ _axis_rotation(0, pitch)


def euler_from_rotation(rotation) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees with ``rotation = Rz(roll) @ Ry(yaw) @ Rx(pitch)``.

    yaw in [-90, 90], pitch and roll in (-180, 180]. At |yaw| = 90 (gimbal lock) roll is
    0 and pitch carries the in-plane angle; this branch is taken for |cos yaw| <= 1e-6
    (|yaw| within 6e-5 degrees of 90). ``rotation`` may be slightly non-orthogonal (float32
    rounding, a noisy fit): yaw comes from ``atan2`` of the third row rather than
    ``arcsin``, so no argument leaves its domain, and pitch is solved last so that the
    angles rebuild ``rotation`` to the accuracy it has.

    >>> [round(a, 6) + 0.0 for a in euler_from_rotation(rotation_from_euler(30, -20, 10))]
    [30.0, -20.0, 10.0]
    """
    r = np.asarray(rotation, dtype=np.float64)
    if r.shape != (3, 3) or not np.all(np.isfinite(r)):
        raise InvalidInputError(f"rotation must be a finite (3, 3) matrix, got shape {r.shape}")
    # Third row = (-sin yaw, cos yaw sin pitch, cos yaw cos pitch); atan2 needs no clipping.
    cos_yaw = np.hypot(r[2, 1], r[2, 2])
    yaw = np.arctan2(-r[2, 0], cos_yaw)
    if cos_yaw > _GIMBAL_COS:
        # First column = (cos roll cos yaw, sin roll cos yaw, -sin yaw).
        roll = np.arctan2(r[1, 0], r[0, 0])
    else:
        # Gimbal lock: only pitch - roll (yaw = +90) or pitch + roll (yaw = -90) is defined.
        yaw = np.copysign(np.pi / 2, yaw)
        roll = 0.0
    # Pitch from what is left after undoing roll and yaw, Ry(-yaw) Rz(-roll) R ~= Rx(pitch):
    # it absorbs whatever error roll carries near the singularity, so the three angles
    # always rebuild R (roll's own error grows like noise / cos yaw, the rebuilt R's does not).
    rest = _axis_rotation(1, -np.rad2deg(yaw)) @ _axis_rotation(2, -np.rad2deg(roll)) @ r
    pitch = np.arctan2(rest[2, 1] - rest[1, 2], rest[1, 1] + rest[2, 2])
    return tuple(float(_wrap_degrees(np.rad2deg(a))) for a in (yaw, pitch, roll))


def _wrap_degrees(angle: float) -> float:
    """Map to (-180, 180]; + 0.0 turns -0.0 into 0.0 for tidy JSON."""
    return -((-angle + 180.0) % 360.0 - 180.0) + 0.0


@dataclass(frozen=True, eq=False)
class Pose:
    """Head pose: ``observed = scale * rotation @ canonical + translation``.

    Conventions and angle signs: see the module docstring. Build it from ``scale``,
    ``rotation`` and ``translation``; the other fields are derived.

    Attributes:
        scale: float > 0, image pixels per canonical unit.
        rotation: (3, 3) float64, det +1, canonical -> image frame.
        translation: (3,) float64, image pixels (x, y, z).
        yaw, pitch, roll: degrees, ``rotation = Rz(roll) @ Ry(yaw) @ Rx(pitch)``.
        camera_matrix: (3, 4) float64 ``[scale * rotation | translation]``, the
            scaled-orthographic camera taking homogeneous canonical points to the image
            frame (rows 0-1: pixel x, y; row 2: depth z).
    """

    scale: float
    rotation: np.ndarray
    translation: np.ndarray
    yaw: float = field(init=False)
    pitch: float = field(init=False)
    roll: float = field(init=False)
    camera_matrix: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        scale = float(self.scale)
        rotation = np.array(self.rotation, dtype=np.float64)
        translation = np.array(self.translation, dtype=np.float64).reshape(-1)
        if not (np.isfinite(scale) and scale > 0):
            raise InvalidInputError(f"scale must be finite and positive, got {scale}")
        if rotation.shape != (3, 3) or translation.shape != (3,):
            raise InvalidInputError(
                f"rotation must be (3, 3) and translation (3,), got {rotation.shape} "
                f"and {translation.shape}")
        if not (np.all(np.isfinite(rotation)) and np.all(np.isfinite(translation))):
            raise InvalidInputError("rotation and translation must be finite")
        if (np.abs(rotation @ rotation.T - np.eye(3)).max() > _ORTHONORMAL_TOL
                or np.linalg.det(rotation) < 0):
            raise InvalidInputError("rotation must be orthonormal with det +1")
        camera = np.hstack([scale * rotation, translation[:, None]])
        for array in (rotation, translation, camera):
            array.setflags(write=False)
        yaw, pitch, roll = euler_from_rotation(rotation)
        for name, value in [("scale", scale), ("rotation", rotation),
                            ("translation", translation), ("yaw", yaw), ("pitch", pitch),
                            ("roll", roll), ("camera_matrix", camera)]:
            object.__setattr__(self, name, value)

    @classmethod
    def from_euler(cls, yaw: float, pitch: float, roll: float, scale: float = 1.0,
                   translation=(0.0, 0.0, 0.0)) -> Pose:
        """A pose from angles in degrees (module conventions), scale and translation."""
        return cls(scale, rotation_from_euler(yaw, pitch, roll), translation)

    @property
    def similarity(self) -> Similarity:
        """The canonical -> image similarity."""
        return Similarity(self.scale, self.rotation, self.translation)

    def project(self, canonical) -> np.ndarray:
        """Map (N, 3) canonical points to the image frame with the camera matrix (float64)."""
        points = _as_points(canonical, "canonical")
        return points @ self.camera_matrix[:, :3].T + self.camera_matrix[:, 3]

    def as_dict(self) -> dict:
        """Plain-Python form for JSON: angles, scale, rotation, translation, camera matrix."""
        return {"yaw": self.yaw, "pitch": self.pitch, "roll": self.roll, "scale": self.scale,
                "rotation": self.rotation.tolist(), "translation": self.translation.tolist(),
                "camera_matrix": self.camera_matrix.tolist()}


def estimate_pose(vertices, canonical, weights=None) -> Pose:
    """Pose of a face from its vertices by a similarity fit to the canonical frontal face.

    Args:
        vertices: (N, 3) observed vertices in the image frame (pixels, z nearer larger).
        canonical: (N, 3) the same N points of the canonical frontal face (same axes),
            row by row.
        weights: optional (N,) non-negative weights, e.g. to down-weight the neck or
            self-occluded vertices.

    Returns:
        :class:`Pose` with ``vertices ~= scale * R @ canonical + t`` in the least-squares
        sense (errors measured in image pixels).
    """
    return PoseFitter(canonical, weights)(vertices)


class PoseFitter:
    """:func:`estimate_pose` against one fixed canonical face, for many faces.

    The canonical side of the fit (weighted mean, centred points, variance) is computed once
    here, not once per face: ``PoseFitter(canonical, weights)(vertices)`` equals
    ``estimate_pose(vertices, canonical, weights)`` (the same arithmetic).

    Args:
        canonical: (N, 3) points of the canonical frontal face.
        weights: optional (N,) non-negative weights, as :func:`estimate_pose` takes them.
    """

    def __init__(self, canonical, weights=None):
        self._canonical = _CentredSource(canonical, weights)

    def __call__(self, vertices) -> Pose:
        """The :class:`Pose` of (N, 3) ``vertices``, as :func:`estimate_pose` returns it."""
        fit = self.similarity(vertices)
        return Pose(fit.scale, fit.rotation, fit.translation)

    def similarity(self, vertices) -> Similarity:
        """The canonical -> ``vertices`` similarity alone (no :class:`Pose` built: for a
        caller that needs one angle of it, :func:`euler_from_rotation`)."""
        return self._canonical.fit(vertices, with_scale=True)
