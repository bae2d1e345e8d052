"""Numerical pieces of the landmark fit: scaled-orthographic pose from 2D points, and the
bounded ridge problem for the identity and expression weights.

Both work in the pose module's canonical frame (image axes: x right, y down, z towards the
viewer); see :mod:`facerecon.morphable.fit` for the camera model.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.linalg import cho_factor, cho_solve

from facerecon.apps.pose import Similarity, umeyama


def affine_pose(model: np.ndarray, target: np.ndarray, weights: np.ndarray) -> Similarity:
    """Scaled-orthographic pose from a weighted affine camera fit (closed form, approximate).

    Fits the 2x3 affine camera ``target ~= M @ model + b`` by least squares and rounds ``M``
    to the nearest ``scale * (first two rows of a rotation)`` (SVD, equal singular values);
    the third row is the cross product of the first two, so det R = +1. Used to start the
    exact orthographic fit of :func:`orthographic_pose`.

    Args:
        model: (N, 3) canonical model points; target: (N, 2) image points; weights: (N,).

    Returns:
        Similarity with translation z = 0.
    """
    w = weights / weights.sum()
    model_mean = w @ model
    target_mean = w @ target
    centred = model - model_mean
    moments = (centred * w[:, None]).T @ centred
    cross = ((target - target_mean) * w[:, None]).T @ centred
    camera = np.linalg.solve(moments, cross.T).T  # (2, 3), moments is symmetric
    u, singular, vt = np.linalg.svd(camera, full_matrices=False)
    rows = u @ vt
    rotation = np.vstack([rows, np.cross(rows[0], rows[1])])
    scale = float(singular.mean())
    translation = np.append(target_mean - scale * rotation[:2] @ model_mean, 0.0)
    return Similarity(scale, rotation, translation)


def orthographic_pose(model: np.ndarray, target: np.ndarray, weights: np.ndarray,
                      start: Similarity, steps: int) -> Similarity:
    """Refine a scaled-orthographic pose: minimise the weighted 2D error over proper rotations.

    Alternates between giving every target the depth the current pose predicts and a 3D
    Umeyama fit; each step cannot increase the 2D error (the depths are free variables of
    the same objective), and the result keeps translation z from the depths it filled in.

    Args:
        model: (N, 3) canonical points; target: (N, 2); weights: (N,) non-negative.
        start: initial pose (e.g. :func:`affine_pose` or the previous iteration's).
        steps: number of depth-fill / Umeyama rounds.
    """
    pose = start
    filled = np.empty((len(target), 3))
    filled[:, :2] = target
    for _ in range(steps):
        filled[:, 2] = pose.apply(model)[:, 2]
        pose = umeyama(model, filled, weights=weights)
    return pose


@numba.njit(cache=True, nogil=True)
def _box_coordinate_descent(matrix, vector, lower, upper, start, sweeps, tolerance):
    """min 0.5 x'Ax - b'x, lower <= x <= upper, by projected Gauss-Seidel (A SPD)."""
    x = start.copy()
    gradient = matrix @ x - vector
    size = x.shape[0]
    for _ in range(sweeps):
        largest_step = 0.0
        for i in range(size):
            value = x[i] - gradient[i] / matrix[i, i]
            value = min(max(value, lower[i]), upper[i])
            step = value - x[i]
            if step != 0.0:
                x[i] = value
                for j in range(size):
                    gradient[j] += matrix[j, i] * step
                largest_step = max(largest_step, abs(step))
        if largest_step < tolerance:
            break
    return x


def solve_bounded(normal: np.ndarray, rhs: np.ndarray, free_count: int,
                  bounded_start: np.ndarray, sweeps: int = 200,
                  tolerance: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``0.5 w' H w - g' w`` with the first variables free and the rest in [0, 1].

    The free block (pose increments and identity weights) is eliminated exactly (Cholesky
    of its SPD block, made definite by the priors), leaving a box-constrained quadratic in
    the expression weights that projected Gauss-Seidel solves, warm-started from
    ``bounded_start``.

    Args:
        normal: (K + E, K + E) SPD matrix H (data normal equations plus priors).
        rhs: (K + E,) vector g (includes the linear sparsity term of the expressions).
        free_count: K, the number of leading unbounded variables.
        bounded_start: (E,) starting values in [0, 1] of the bounded variables.

    Returns:
        (free (K,), bounded (E,)) float64.
    """
    k = free_count
    factor = cho_factor(normal[:k, :k])
    coupling = cho_solve(factor, np.hstack([normal[:k, k:], rhs[:k, None]]))
    reduced = normal[k:, k:] - normal[k:, :k] @ coupling[:, :-1]
    reduced_rhs = rhs[k:] - normal[k:, :k] @ coupling[:, -1]
    size = len(reduced_rhs)
    expression = _box_coordinate_descent(reduced, reduced_rhs, np.zeros(size), np.ones(size),
                                         np.clip(bounded_start, 0.0, 1.0), sweeps, tolerance)
    free = coupling[:, -1] - coupling[:, :-1] @ expression
    return free, expression


def rotation_increment(omega: np.ndarray) -> np.ndarray:
    """(3, 3) rotation ``exp([omega]_x)`` (Rodrigues), omega an axis-angle (3,) in radians."""
    angle = float(np.linalg.norm(omega))
    if angle < 1e-12:
        return np.eye(3)
    axis = omega / angle
    cross = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]],
                      [-axis[1], axis[0], 0.0]])
    return np.eye(3) + np.sin(angle) * cross + (1.0 - np.cos(angle)) * cross @ cross
