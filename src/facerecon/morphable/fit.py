"""Fit the ICT-FaceKit face model (identity, expression, scaled-orthographic pose) to 68
landmarks in image coordinates.

Camera model. ICT's frame is right-handed (+Y up, +Z towards the viewer); the image frame is
x right, y down, z in pixels with larger z nearer the camera (:mod:`facerecon.types`). A
model point ``p`` (ICT frame) maps to the image as::

    image = scale * R @ (F @ p) + t,        F = diag(1, -1, 1)

``F @ p`` is the pose module's canonical frontal face (same axes as the image, face looking at
the camera) and ``(scale, R, t)`` is a :class:`facerecon.apps.pose.Pose` with a proper
rotation (det R = +1): the only reflection is the fixed y flip ``F``, which converts ICT's
y-up axes into image axes and mirrors nothing on the face. In a frontal view (R = I) the
subject's right eye (ICT x < 0, iBUG 36-41) lands at smaller image x than the left eye, as in
a photo of a person facing the camera. The camera is scaled orthographic: pixel x, y are the
first two rows; z is depth in pixel units. For 2D input depth is unobserved and ``t`` z is set
so that the 68 fitted landmarks have mean z = 0.

Model: ``p = neutral + sum_k a_k D_k + sum_j e_j X_j`` with identity weights ``a`` (up to 100,
prior N(0, 1)) and expression weights ``e`` (53, bounded to [0, 1], with an L2 prior and a
sparsity prior: ``sum(e)`` is an L1 norm since e >= 0). Objective, minimised in canonical
units (ICT centimetres, image error divided by the scale)::

    0.5 * sum_i w_i |y_i - P R F p_i|^2 / sigma^2 + 0.5 * |a|^2
        + 0.5 * expression_l2 * |e|^2 + expression_l1 * sum(e)

where ``P`` keeps x, y (2D input) or all three axes (3D input, e.g. the 3DDFA teacher; in
mixed input, per point: x, y for the points without a z) and
``sigma = landmark_sigma * IOD`` with IOD the neutral face's outer inter-ocular distance.

Method: start the pose on the neutral face (3D: Umeyama; 2D: affine camera rounded to a
scaled rotation, then orthographic Procrustes; :mod:`facerecon.morphable.fit_solve`), then
``iterations`` rounds of (1) the jaw outline vertices under the current pose (2D jaw points only,
:mod:`facerecon.morphable.jaw_contour`) and (2) one joint Gauss-Newton step: the pose is
linearised (rotation, scale and translation increments), the weights enter exactly (the
model is linear in them), and the resulting bounded ridge problem is solved exactly
(identity and pose block eliminated, expressions by projected Gauss-Seidel). Plain
alternation of pose and shape converged far more slowly on 2D input (rotation error 3.3
versus 0.8 degrees median after 6 rounds, synthetic faces, landmark_sigma 0.02); the joint
step converges in about three rounds. Only the landmark vertices and the jaw candidates enter,
so one fit costs a few milliseconds of CPU (numbers in docs/fitting.md).

A 2D fit cannot tell a face from its mirror image seen from behind (same projection); check
:attr:`FitResult.faces_camera`, or :meth:`FitResult.is_plausible` for the whole drop rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facerecon.apps.pose import (
    Pose,
    Similarity,
    euler_from_rotation,
    rotation_from_euler,
    umeyama,
)
from facerecon.errors import InvalidInputError
from facerecon.morphable.fit_solve import (
    affine_pose,
    orthographic_pose,
    rotation_increment,
    solve_bounded_least_squares,
)
from facerecon.morphable.ict import IctModel
from facerecon.morphable.jaw_contour import build_jaw_contours, select_silhouette

FLIP_Y = np.array([1.0, -1.0, 1.0])  # ICT (y up) -> image axes (y down); see module docstring
_EYE_CORNERS = (36, 45)  # outer eye corners, iBUG 0-based
# Drop rule (docs/fitting.md): Tukey's far-out fence, Q3 + 3 IQR, of residual_nme over the
# 1,207 human-annotated 300-W faces (HELEN train + AFW) in shared/data, measured by
# benchmarks/fit_accuracy.py; one of them lies above it.
DROP_RESIDUAL_NME = 0.046
# Ridge on the pose increments: only keeps the normal matrix definite, never binds.
_POSE_DAMPING = 1e-9


@dataclass(frozen=True, eq=False)
class FitResult:
    """One landmark fit.

    Attributes:
        identity: (100,) float64 identity weights (zeros beyond the fitted count).
        expression: (53,) float64 expression weights in [0, 1], ICT's order.
        pose: model-to-image pose, ``image = scale * R @ (F @ ict) + t`` (module docstring);
            ``pose.yaw/pitch/roll`` follow :mod:`facerecon.apps.pose`.
        landmark_vertices: (68,) int64 region vertex used for each landmark (2D input, or a
            jaw without z: the jaw points 0-7 and 9-16 are the chosen outline vertices).
        landmarks: (68, 3) float32 fitted landmarks in image coordinates.
        point_errors_px: (68,) float64 image-plane (x, y) distance to the input, pixels.
        residual_px: RMS of ``point_errors_px`` over the points the fit used (non-zero weight).
        residual_nme: ``residual_px / sqrt(w * h)`` of the input landmarks' x, y box (the
            AFLW2000-3D normaliser; unlike the inter-ocular distance it does not shrink at
            large yaw). The drop rule in docs/fitting.md uses this value.
    """

    identity: np.ndarray
    expression: np.ndarray
    pose: Pose
    landmark_vertices: np.ndarray
    landmarks: np.ndarray
    point_errors_px: np.ndarray
    residual_px: float
    residual_nme: float

    @property
    def faces_camera(self) -> bool:
        """Whether the fitted face looks towards the camera (its +z axis has image z > 0).

        A scaled-orthographic 2D fit cannot tell a face from its mirror image seen from
        behind: mirrored 2D landmarks (a flipped photo with unflipped labels) fit exactly as
        well, with the face turned away. Such a fit is never a real photo of a face.
        """
        return bool(self.pose.rotation[2, 2] > 0)

    def is_plausible(self, max_residual_nme: float = DROP_RESIDUAL_NME) -> bool:
        """The drop rule: keep a fit that faces the camera and has a small residual."""
        return self.faces_camera and self.residual_nme <= max_residual_nme

    def vertices(self, model: IctModel) -> np.ndarray:
        """(V, 3) float32 region vertices of the fitted face in image coordinates."""
        if model.identity_deltas.shape[0] != self.identity.shape[0]:
            raise InvalidInputError("this fit was made with a different ICT model")
        shape = model.shape(self.identity, self.expression).astype(np.float64) * FLIP_Y
        return self.pose.project(shape).astype(np.float32)


class IctFitter:
    """Fits :class:`IctModel` faces to 68 landmarks; build once per model, call :meth:`fit`.

    Args:
        model: the ICT face region model.
        identity_count: identity modes to fit (1-100).
        landmark_sigma: landmark noise as a fraction of the neutral outer inter-ocular
            distance; smaller trusts the landmarks more against the priors.
        expression_l2, expression_l1: expression prior weights (see module docstring).
        iterations: rounds of jaw outline choice and joint Gauss-Newton step.
        pose_steps: orthographic Procrustes refinement steps of the starting pose (2D input).
    """

    def __init__(self, model: IctModel, identity_count: int = 100, landmark_sigma: float = 0.05,
                 expression_l2: float = 3.0, expression_l1: float = 3.0, iterations: int = 4,
                 pose_steps: int = 3):
        total_identity = model.identity_deltas.shape[0]
        if not 1 <= identity_count <= total_identity:
            raise InvalidInputError(f"identity_count must be in 1..{total_identity}")
        if not (landmark_sigma > 0 and expression_l2 >= 0 and expression_l1 >= 0
                and iterations >= 1 and pose_steps >= 1):
            raise InvalidInputError("landmark_sigma must be > 0, priors >= 0, iterations >= 1")
        self.identity_total = total_identity
        self.identity_count = identity_count
        self.expression_count = model.expression_deltas.shape[0]
        self.iterations = iterations
        self.pose_steps = pose_steps
        landmark_vertices = np.asarray(model.landmark_indices, dtype=np.int64)
        self.contours = build_jaw_contours(model.neutral, model.triangles, landmark_vertices,
                                           model.jawlines)
        rows, inverse = np.unique(np.concatenate([landmark_vertices, self.contours.vertices]),
                                  return_inverse=True)
        self.row_vertices = rows  # region vertex of each row of mean/basis
        self.landmark_rows = inverse[:68]
        self.candidate_rows = inverse[68:]
        # Everything restricted to the rows in use, in canonical (image-axes) units.
        self.mean = model.neutral[rows].astype(np.float64) * FLIP_Y
        deltas = np.concatenate([model.identity_deltas[:identity_count, rows],
                                 model.expression_deltas[:, rows]]).astype(np.float64)
        self.basis = np.ascontiguousarray(np.moveaxis(deltas * FLIP_Y, 0, -1))  # (R, 3, M)
        iod = np.linalg.norm(np.subtract(*model.neutral[landmark_vertices[list(_EYE_CORNERS)]]))
        self.inverse_variance = 1.0 / (landmark_sigma * float(iod)) ** 2
        self.prior = np.concatenate([np.ones(identity_count),
                                     np.full(self.expression_count, expression_l2)])
        self.linear_prior = np.concatenate([np.zeros(identity_count),
                                            np.full(self.expression_count, -expression_l1)])

    def fit(self, landmarks, weights=None) -> FitResult:
        """Fit to (68, 3) landmarks (x, y, z: uses depth) or (68, 2) (x, y: jaw silhouette).

        A (68, 3) input may leave some points' z NaN: those points are fitted in x, y only,
        and those of the jaw outline (iBUG 0-7, 9-16) follow the silhouette as in 2D input
        (e.g. the teacher's inner points in 3D with its jaw as an outline). All z NaN is 2D.

        Args:
            landmarks: image coordinates (x right, y down, z nearer larger), iBUG order.
            weights: optional (68,) non-negative per-landmark weights; a point of weight 0
                still gets its ``point_errors_px`` but does not enter the residual.

        Raises:
            InvalidInputError: wrong shape, non-finite x, y, or bad weights, or fewer than
                three weighted points with depth in mixed input.
        """
        target, has_depth = landmark_targets(landmarks)
        point_weights = _point_weights(weights)
        if target.shape[1] == 3 and np.count_nonzero(has_depth & (point_weights > 0)) < 3:
            raise InvalidInputError("mixed landmarks need at least 3 weighted points with z")
        target = np.nan_to_num(target)  # an unknown z gets weight 0 in that axis
        axis_weights = np.repeat(point_weights[:, None], target.shape[1], axis=1)
        if target.shape[1] == 3:
            axis_weights[:, 2] *= has_depth
        outline = np.isin(np.arange(68), self.contours.landmarks) & ~has_depth
        coefficients = np.zeros(self.basis.shape[2])
        rows = self.landmark_rows
        # the starting pose: Umeyama on the points with depth (3D input), else all (2D)
        pose = self._initial_pose(self.mean[rows], target, axis_weights[:, -1])
        for _ in range(self.iterations):
            shape = self._shape(coefficients)
            if outline.any():
                rows = self._silhouette_rows(shape, pose, outline)
            pose, coefficients = self._gauss_newton_step(rows, shape[rows], target,
                                                         axis_weights, pose, coefficients)
        shape = self._shape(coefficients)
        return self._result(shape, rows, pose, coefficients, target, point_weights > 0)

    def _shape(self, coefficients: np.ndarray) -> np.ndarray:
        # einsum, not matmul: no multi-threaded BLAS call for a product this small
        return self.mean + np.einsum("ncm,m->nc", self.basis, coefficients)

    def _initial_pose(self, model_points, target, point_weights) -> Similarity:
        if target.shape[1] == 3:
            return umeyama(model_points, target, weights=point_weights)
        start = affine_pose(model_points, target, point_weights)
        return orthographic_pose(model_points, target, point_weights, start, self.pose_steps)

    def _silhouette_rows(self, shape: np.ndarray, pose: Similarity,
                         outline: np.ndarray) -> np.ndarray:
        """Rows of the 68 points with the jaw points marked in ``outline`` (68,) bool moved
        to the silhouette vertices under ``pose``."""
        yaw, pitch, _ = euler_from_rotation(pose.rotation)
        row_x = rotation_from_euler(yaw, pitch, 0.0)[0]
        chosen = select_silhouette(self.contours, shape[self.candidate_rows] @ row_x)
        rows = self.landmark_rows.copy()
        moved = outline[self.contours.landmarks]
        rows[self.contours.landmarks[moved]] = self.candidate_rows[chosen][moved]
        return rows

    def _gauss_newton_step(self, rows, current, target, axis_weights, pose, coefficients):
        """One joint step: pose linearised (rotation, scale, translation increments), the
        weights solved exactly (the model is linear in them) under priors and bounds.
        ``axis_weights`` (68, D): each point's weight per image axis (0 for an unknown z)."""
        dims = target.shape[1]
        projection = pose.rotation[:dims]
        observed = (target - pose.translation[:dims]) / pose.scale  # canonical units
        residual = observed - self.mean[rows] @ projection.T
        rotated = current @ pose.rotation.T  # (68, 3) current shape, rotated
        # Image motion of each point per unit increment (divided by the scale): the rotation
        # R <- exp([w]x) R moves a rotated point u by w x u; the scale s <- s (1 + d) by d u;
        # the translation by its own axes.
        axes = np.eye(3)
        pose_columns = [np.cross(axes[k], rotated)[:, :dims] for k in range(3)]
        pose_columns.append(rotated[:, :dims])
        pose_columns += [np.broadcast_to(axes[k, :dims], (68, dims)) for k in range(dims)]
        pose_jacobian = np.stack(pose_columns, axis=-1)
        shape_jacobian = np.einsum("dc,ncm->ndm", projection, self.basis[rows])
        jacobian = np.concatenate([pose_jacobian, shape_jacobian], axis=2)
        pose_count = pose_jacobian.shape[2]
        free = pose_count + self.identity_count
        solution = solve_bounded_least_squares(
            jacobian.reshape(68 * dims, -1), (axis_weights * self.inverse_variance).reshape(-1),
            residual.reshape(-1), np.concatenate([np.full(pose_count, _POSE_DAMPING), self.prior]),
            np.concatenate([np.zeros(pose_count), self.linear_prior]), free,
            coefficients[self.identity_count:])
        increment = solution[:pose_count]
        coefficients = solution[pose_count:]
        rotation = rotation_increment(increment[:3]) @ pose.rotation
        scale = pose.scale * (1.0 + increment[3])
        translation = pose.translation.copy()
        translation[:dims] += pose.scale * increment[4:]
        return Similarity(scale, rotation, translation), coefficients

    def _result(self, shape, rows, similarity, coefficients, target, used) -> FitResult:
        fitted = similarity.apply(shape[rows])
        translation = similarity.translation.copy()
        if target.shape[1] == 2:
            translation[2] -= fitted[:, 2].mean()  # depth is unobserved: centre it
            fitted[:, 2] -= fitted[:, 2].mean()
        pose = Pose(similarity.scale, similarity.rotation, translation)
        errors = np.linalg.norm(fitted[:, :2] - target[:, :2], axis=1)
        box = target[:, :2].max(axis=0) - target[:, :2].min(axis=0)
        residual = float(np.sqrt(np.mean(errors[used] ** 2)))
        identity = np.zeros(self.identity_total)
        identity[:self.identity_count] = coefficients[:self.identity_count]
        landmark_vertices = self.row_vertices[rows]
        for array in (identity, landmark_vertices, errors):
            array.setflags(write=False)
        expression = coefficients[self.identity_count:].copy()
        expression.setflags(write=False)
        points = fitted.astype(np.float32)
        points.setflags(write=False)
        return FitResult(identity=identity, expression=expression, pose=pose,
                         landmark_vertices=landmark_vertices, landmarks=points,
                         point_errors_px=errors, residual_px=residual,
                         residual_nme=residual / float(np.sqrt(max(box[0] * box[1], 1e-12))))



def landmark_targets(points, name: str = "landmarks") -> tuple[np.ndarray, np.ndarray]:
    """Checked landmarks and which of them have a depth.

    Args:
        points: (68, 2) or (68, 3) image coordinates; in (68, 3) a NaN z marks a 2D point,
            and a z column that is NaN everywhere makes the input 2D.
        name: what the caller calls them, for the error message.

    Returns:
        (target, has_depth): (68, 2) or (68, 3) float64 (NaN z kept) and (68,) bool, all
        False for 2D input.

    Raises:
        InvalidInputError: wrong shape, a NaN x or y, or an infinite value.
    """
    target = np.asarray(points, dtype=np.float64)
    if target.ndim != 2 or target.shape[0] != 68 or target.shape[1] not in (2, 3):
        raise InvalidInputError(f"{name} must be (68, 2) or (68, 3), got {target.shape}")
    if target.shape[1] == 3 and np.isnan(target[:, 2]).all():
        target = target[:, :2]
    if not np.all(np.isfinite(target[:, :2])) or np.isinf(target).any():
        raise InvalidInputError(f"{name} hold NaN or infinite values")
    has_depth = np.isfinite(target[:, 2]) if target.shape[1] == 3 else np.zeros(68, bool)
    return target, has_depth


def _point_weights(weights) -> np.ndarray:
    if weights is None:
        return np.ones(68)
    array = np.asarray(weights, dtype=np.float64)
    if array.shape != (68,) or not np.all(np.isfinite(array)) or np.any(array < 0) \
            or array.sum() <= 0:
        raise InvalidInputError("weights must be (68,) finite, non-negative, not all zero")
    return array
