"""Snap a fitted face onto its landmarks with a smooth, local displacement field.

A landmark fit (:mod:`facerecon.morphable.fit`) balances the landmarks against the model's
priors, so its landmark vertices stay a few pixels from the points it was given (build-v1:
median RMS 2.8 % of the landmark box), and part of that gap is systematic: ICT's landmark
vertices sit on a slightly different convention than the iBUG 68 points (on UTKFace teacher
labels the fitted eyes lie 1.3 % of the box below the labelled eyes, the brows 1.4 % above).
A network trained on position maps of such fits inherits the gap as an error floor.

:class:`LandmarkSnap` removes it. The residual ``r_k = target_k - fitted_k`` at the 68
landmark vertices is spread over the whole face by Gaussian radial basis functions on a
fixed **reference** face, ``n`` below (distances in ICT centimetres, so the field does not
depend on pose or identity; the reference is discussed at the end)::

    d(v) = sum_k w_k exp(-|n_v - n_k|^2 / (2 sigma^2)),     (K + ridge I) w = r

with ``K`` the kernel between the landmark vertices. The field is smooth, moves each landmark
vertex onto its target (up to the small ridge) and fades to zero a few ``sigma`` away from
the landmarks (forehead top, ears and neck stay where the fit put them). 2D targets (human
annotations) move x and y only; 3D targets (the teacher's) move z as well, its field
spread from the points that have a z (the teacher's jaw as an outline has none).

The kernel geometry. On the neutral face the mouth is closed: the inner-lip landmark vertices
of the upper and lower lip (iBUG 61-63 and 65-67) lie 0.08-0.12 cm apart, so no field this
smooth can move them apart, and a fit that closed a mouth the landmarks show open stays
closed (build v3: inner-mouth opening 1.40 % of the box in the labels against 4.03 % in the
landmarks; benchmarks/results/val_by_source.json). :meth:`LandmarkSnap.for_model` therefore
measures distances on the neutral face with the mouth opened by ICT's ``jawOpen`` expression
(``mouth_open`` = its weight): the lips are then 3.2-3.9 cm apart at weight 1 and each lip's
residual moves its own lip. The field is still a function of the fixed reference alone.
"""

from __future__ import annotations

import numpy as np

from facerecon.errors import InvalidInputError
from facerecon.morphable.fit import landmark_targets
from facerecon.morphable.ict import IctModel

# Kernel width (ICT centimetres; the neutral outer inter-ocular distance is 8.9 cm) and ridge
# (relative to the kernel's diagonal, 1), chosen on 1,100 real build photos (UTKFace teacher
# labels, 300-W human labels; benchmarks/results/landmark_snap.json): sigma 2.0 / ridge 0.02
# leaves 0.36-0.39 % box-NME of the 2.3-2.5 % fit gap but moves some vertex up to 1.87x
# further than the largest landmark residual (overshoot between close points with opposing
# residuals, e.g. inner and outer lips 0.5 cm apart); 1.5 / 0.1 leaves 0.43 % with at most
# 1.25x.
DEFAULT_SIGMA_CM = 1.5
DEFAULT_RIDGE = 0.1
#: Weight of ICT's ``jawOpen`` in the kernel geometry of :meth:`LandmarkSnap.for_model`
#: (module docstring). Chosen on the same 1,100 photos (build v3, landmark_snap.json): the
#: inner-lip error of the teacher labels falls 1.47 -> 0.72 % of the box from weight 0 to 1
#: (0.25: 1.03, 0.5: 0.78, 0.75: 0.73) and all 68 points 0.43 -> 0.33 %, with the same
#: overshoot (1.25x) and less flipped area; the human labels' 0.43 -> 0.40 %.
DEFAULT_MOUTH_OPEN = 1.0
MOUTH_OPEN_EXPRESSION = "jawOpen"


class LandmarkSnap:
    """Moves fitted faces onto their landmark targets; build once per model.

    Args:
        reference: (V, 3) face-region vertices on which kernel distances are measured (ICT
            frame, centimetres): the neutral face, or the opened-mouth face of
            :meth:`for_model` (the build's choice).
        sigma_cm: Gaussian kernel width.
        ridge: Tikhonov term added to the kernel matrix (its diagonal is 1).
    """

    def __init__(self, reference: np.ndarray, sigma_cm: float = DEFAULT_SIGMA_CM,
                 ridge: float = DEFAULT_RIDGE):
        reference = np.asarray(reference, dtype=np.float64)
        if reference.ndim != 2 or reference.shape[1] != 3:
            raise InvalidInputError(f"reference must be (V, 3), got {reference.shape}")
        if not (sigma_cm > 0 and ridge >= 0):
            raise InvalidInputError("sigma_cm must be > 0 and ridge >= 0")
        self.reference = reference
        self.sigma = float(sigma_cm)
        self.ridge = float(ridge)

    @classmethod
    def for_model(cls, model: IctModel, mouth_open: float = DEFAULT_MOUTH_OPEN,
                  sigma_cm: float = DEFAULT_SIGMA_CM, ridge: float = DEFAULT_RIDGE
                  ) -> LandmarkSnap:
        """The snap of an :class:`facerecon.morphable.ict.IctModel`, its kernel measured on
        the neutral face with ``jawOpen`` at weight ``mouth_open`` in [0, 1] (module
        docstring).

        Raises:
            InvalidInputError: ``mouth_open`` outside [0, 1] or the model has no ``jawOpen``.
        """
        if not 0.0 <= mouth_open <= 1.0:
            raise InvalidInputError(f"mouth_open must lie in [0, 1], got {mouth_open}")
        if MOUTH_OPEN_EXPRESSION not in model.expression_names:
            raise InvalidInputError(f"the ICT model has no {MOUTH_OPEN_EXPRESSION} expression")
        delta = model.expression_deltas[model.expression_names.index(MOUTH_OPEN_EXPRESSION)]
        reference = model.neutral.astype(np.float64) + mouth_open * delta.astype(np.float64)
        return cls(reference, sigma_cm, ridge)

    def _kernel(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        squared = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return np.exp(-squared / (2.0 * self.sigma**2))

    def displacement(self, landmark_vertices: np.ndarray, residual: np.ndarray) -> np.ndarray:
        """(V, D) displacement of every vertex for a (K, D) residual at ``landmark_vertices``.

        Args:
            landmark_vertices: (K,) region vertex of each landmark (repeats allowed: a vertex
                used twice gets the mean of its residuals).
            residual: (K, D) target minus fitted position, image units (D = 1, 2 or 3).
        """
        vertices = np.asarray(landmark_vertices, dtype=np.int64)
        residual = np.asarray(residual, dtype=np.float64)
        if vertices.ndim != 1 or residual.shape[:1] != vertices.shape or residual.ndim != 2:
            raise InvalidInputError("landmark_vertices (K,) and residual (K, D) must match")
        unique, inverse = np.unique(vertices, return_inverse=True)
        counts = np.bincount(inverse).astype(np.float64)
        mean_residual = np.zeros((unique.size, residual.shape[1]))
        np.add.at(mean_residual, inverse, residual)
        mean_residual /= counts[:, None]
        centres = self.reference[unique]
        kernel = self._kernel(centres, centres) + self.ridge * np.eye(unique.size)
        weights = np.linalg.solve(kernel, mean_residual)
        return self._kernel(self.reference, centres) @ weights

    def snap(self, vertices: np.ndarray, landmark_vertices: np.ndarray,
             targets: np.ndarray) -> np.ndarray:
        """Fitted vertices moved onto the targets.

        Args:
            vertices: (V, 3) fitted face-region vertices, image coordinates.
            landmark_vertices: (68,) region vertex of each landmark (the fit's own choice,
                e.g. :attr:`FitResult.landmark_vertices`, jaw outline vertices for 2D input).
            targets: (68, 2) or (68, 3) landmark targets, image coordinates; a point whose
                z is NaN moves the face in x, y only (z is then spread from the points with
                depth alone); an all-NaN z column counts as 2D.

        Returns:
            (V, 3) float32 snapped vertices.
        """
        vertices = np.asarray(vertices, dtype=np.float64)
        if vertices.shape != self.reference.shape:
            raise InvalidInputError(
                f"vertices must be {self.reference.shape}, got {vertices.shape}")
        targets, has_depth = landmark_targets(targets, "targets")
        dims = targets.shape[1]
        landmark_vertices = np.asarray(landmark_vertices, dtype=np.int64)
        residual = targets - vertices[landmark_vertices, :dims]
        snapped = vertices.copy()
        if dims == 2 or has_depth.all():
            snapped[:, :dims] += self.displacement(landmark_vertices, residual)
        else:  # mixed: x, y from every point, z spread from the points with depth alone
            snapped[:, :2] += self.displacement(landmark_vertices, residual[:, :2])
            snapped[:, 2:] += self.displacement(landmark_vertices[has_depth],
                                                residual[has_depth, 2:])
        return snapped.astype(np.float32)
