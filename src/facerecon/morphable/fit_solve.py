"""Numerical pieces of the landmark fit: scaled-orthographic pose from 2D points, and the
bounded ridge problem for the identity and expression weights.

Both work in the pose module's canonical frame (image axes: x right, y down, z towards the
viewer); see :mod:`facerecon.morphable.fit` for the camera model.
"""

from __future__ import annotations

import numba
import numpy as np

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


@numba.njit(cache=True, nogil=True, fastmath=True)
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


@numba.njit(cache=True, nogil=True, fastmath=True)
def _cholesky_solve_columns(lower, columns):
    """Solve ``L L' X = columns`` in place for a lower-triangular Cholesky factor L."""
    size, count = columns.shape
    for c in range(count):
        for i in range(size):
            total = columns[i, c]
            for j in range(i):
                total -= lower[i, j] * columns[j, c]
            columns[i, c] = total / lower[i, i]
        for i in range(size - 1, -1, -1):
            total = columns[i, c]
            for j in range(i + 1, size):
                total -= lower[j, i] * columns[j, c]
            columns[i, c] = total / lower[i, i]


@numba.njit(cache=True, nogil=True, fastmath=True)
def _solve_bounded_least_squares(jacobian, weights, residual, prior, linear_prior, free_count,
                                 bounded_start, sweeps, tolerance):
    rows, size = jacobian.shape
    normal = np.diag(prior.copy())
    rhs = linear_prior.copy()
    for n in range(rows):
        weight = weights[n]
        if weight == 0.0:
            continue
        for i in range(size):
            scaled = weight * jacobian[n, i]
            rhs[i] += scaled * residual[n]
            for j in range(i + 1):
                normal[i, j] += scaled * jacobian[n, j]
    for i in range(size):
        for j in range(i):
            normal[j, i] = normal[i, j]
    k = free_count
    lower = np.zeros((k, k))
    for i in range(k):  # Cholesky of the free block (positive definite through the priors)
        for j in range(i + 1):
            total = normal[i, j]
            for m in range(j):
                total -= lower[i, m] * lower[j, m]
            lower[i, j] = np.sqrt(total) if i == j else total / lower[j, j]
    bounded = size - k
    coupling = np.empty((k, bounded + 1))
    coupling[:, :bounded] = normal[:k, k:]
    coupling[:, bounded] = rhs[:k]
    _cholesky_solve_columns(lower, coupling)
    reduced = normal[k:, k:].copy()
    reduced_rhs = rhs[k:].copy()
    for i in range(bounded):
        for m in range(k):
            reduced_rhs[i] -= normal[k + i, m] * coupling[m, bounded]
        for j in range(bounded):
            total = 0.0
            for m in range(k):
                total += normal[k + i, m] * coupling[m, j]
            reduced[i, j] -= total
    expression = _box_coordinate_descent(reduced, reduced_rhs, np.zeros(bounded),
                                         np.ones(bounded), bounded_start, sweeps, tolerance)
    solution = np.empty(size)
    for m in range(k):
        total = coupling[m, bounded]
        for j in range(bounded):
            total -= coupling[m, j] * expression[j]
        solution[m] = total
    solution[k:] = expression
    return solution


def solve_bounded_least_squares(jacobian: np.ndarray, weights: np.ndarray,
                                residual: np.ndarray, prior: np.ndarray,
                                linear_prior: np.ndarray, free_count: int,
                                bounded_start: np.ndarray, sweeps: int = 200,
                                tolerance: float = 1e-5) -> np.ndarray:
    """Minimise ``0.5 |J x - r|^2_W + 0.5 x' diag(prior) x - linear_prior' x`` with the first
    ``free_count`` variables unbounded and the rest in [0, 1].

    The free block (pose increments and identity weights) is eliminated exactly (Cholesky of
    its block of the normal matrix, definite through the priors), leaving a box-constrained
    quadratic in the bounded (expression) variables that projected Gauss-Seidel solves,
    warm-started from ``bounded_start``. Written as plain loops in numba: the matrices are
    ~200 x 160, small enough that a multi-threaded BLAS spends far longer synchronising its
    threads than computing (measured 40x slower with two OpenBLAS threads on a busy machine).

    Args:
        jacobian: (N, M) rows of the linear model; weights: (N,) non-negative row weights;
        residual: (N,) targets r; prior: (M,) positive ridge weights; linear_prior: (M,)
        linear term; free_count: K < M; bounded_start: (M - K,) start in [0, 1].

    Returns:
        (M,) float64 solution.
    """
    return _solve_bounded_least_squares(
        np.ascontiguousarray(jacobian, dtype=np.float64), np.asarray(weights, dtype=np.float64),
        np.asarray(residual, dtype=np.float64), np.asarray(prior, dtype=np.float64),
        np.asarray(linear_prior, dtype=np.float64), int(free_count),
        np.clip(np.asarray(bounded_start, dtype=np.float64), 0.0, 1.0), int(sweeps),
        float(tolerance))


def rotation_increment(omega: np.ndarray) -> np.ndarray:
    """(3, 3) rotation ``exp([omega]_x)`` (Rodrigues), omega an axis-angle (3,) in radians."""
    angle = float(np.linalg.norm(omega))
    if angle < 1e-12:
        return np.eye(3)
    axis = omega / angle
    cross = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]],
                      [-axis[1], axis[0], 0.0]])
    return np.eye(3) + np.sin(angle) * cross + (1.0 - np.cos(angle)) * cross @ cross
