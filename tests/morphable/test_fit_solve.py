"""Numerical pieces of the landmark fit, checked against scipy and known geometry."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import lsq_linear
from scipy.spatial.transform import Rotation

from facerecon.apps.pose import Similarity, rotation_from_euler
from facerecon.morphable.fit_solve import (
    affine_pose,
    orthographic_pose,
    rotation_increment,
    solve_bounded_least_squares,
)
from facerecon.morphable.ict import load_ict
from facerecon.morphable.jaw_contour import JawContours, build_jaw_contours, select_silhouette


def test_bounded_least_squares_matches_scipy(rng):
    rows, free, bounded = 60, 12, 9
    size = free + bounded
    jacobian = rng.normal(size=(rows, size))
    weights = rng.uniform(0.5, 2.0, size=rows)
    residual = rng.normal(size=rows) * 3
    prior = rng.uniform(0.1, 2.0, size=size)
    linear = np.concatenate([np.zeros(free), -rng.uniform(0, 1, size=bounded)])
    ours = solve_bounded_least_squares(jacobian, weights, residual, prior, linear, free,
                                       np.zeros(bounded), sweeps=5000, tolerance=1e-12)
    # Same objective as one stacked least-squares system: the prior rows complete the
    # squares 0.5 p x^2 - l x = 0.5 (sqrt(p) x - l / sqrt(p))^2 + const.
    root = np.sqrt(weights)[:, None]
    system = np.vstack([jacobian * root, np.diag(np.sqrt(prior))])
    target = np.concatenate([residual * root[:, 0], linear / np.sqrt(prior)])
    lower = np.concatenate([np.full(free, -np.inf), np.zeros(bounded)])
    upper = np.concatenate([np.full(free, np.inf), np.ones(bounded)])
    reference = lsq_linear(system, target, bounds=(lower, upper), tol=1e-12).x
    assert np.any(ours[free:] == 0) or np.any(ours[free:] == 1)  # a bound is active
    np.testing.assert_allclose(ours, reference, atol=1e-6)


def test_affine_pose_exact_without_noise(rng):
    points = rng.normal(size=(40, 3)) * [5, 6, 3]
    rotation = rotation_from_euler(35, -20, 10)
    image = 7.0 * points @ rotation.T + [100, 120, 0]
    pose = affine_pose(points, image[:, :2], np.ones(40))
    np.testing.assert_allclose(pose.rotation, rotation, atol=1e-9)
    assert pose.scale == pytest.approx(7.0)
    assert np.linalg.det(pose.rotation) == pytest.approx(1.0)


def test_orthographic_pose_reduces_2d_error(rng):
    points = rng.normal(size=(40, 3)) * [5, 6, 3]
    rotation = rotation_from_euler(50, 15, -5)
    image = 7.0 * points @ rotation.T + [100, 120, 0] + rng.normal(size=(40, 3)) * 0.5
    start = Similarity(6.0, rotation_from_euler(40, 10, 0), np.array([95.0, 125.0, 0.0]))

    def error(pose):
        return np.linalg.norm(pose.apply(points)[:, :2] - image[:, :2])

    refined = orthographic_pose(points, image[:, :2], np.ones(40), start, steps=30)
    assert error(refined) < 0.2 * error(start)
    angle = Rotation.from_matrix(refined.rotation.T @ rotation).magnitude()
    assert np.rad2deg(angle) < 1.0


def test_rotation_increment_is_rodrigues(rng):
    for _ in range(5):
        vector = rng.normal(size=3)
        np.testing.assert_allclose(rotation_increment(vector),
                                   Rotation.from_rotvec(vector).as_matrix(), atol=1e-12)
    np.testing.assert_array_equal(rotation_increment(np.zeros(3)), np.eye(3))


def test_select_silhouette_takes_outermost_per_chain():
    contours = JawContours(landmarks=np.array([0, 9]), outward=np.array([-1.0, 1.0]),
                           vertices=np.array([10, 11, 12, 20, 21]), starts=np.array([0, 3]))
    chosen = select_silhouette(contours, np.array([-3.0, -5.0, -4.0, 2.0, 2.0]))
    np.testing.assert_array_equal(chosen, [1, 3])  # min x on the right, max x (first) left


def test_jaw_contours_of_ict(ict_dir):
    model = load_ict(ict_dir)
    contours = build_jaw_contours(model.neutral, model.triangles, model.landmark_indices,
                                  model.jawlines)
    np.testing.assert_array_equal(contours.landmarks, [*range(8), *range(9, 17)])
    ends = np.append(contours.starts[1:], len(contours.vertices))
    profile = np.concatenate([model.jawlines["right"], model.jawlines["left"]])
    for row, (start, end) in enumerate(zip(contours.starts, ends, strict=True)):
        chain = contours.vertices[start:end]
        assert chain[0] == profile[row]  # chains run from the profile jawline inwards
        assert model.landmark_indices[contours.landmarks[row]] in chain
        assert len(set(chain.tolist())) == len(chain)
        # inward: the chain ends nearer the midline than the contour vertex
        assert abs(model.neutral[chain[-1], 0]) < abs(
            model.neutral[model.landmark_indices[contours.landmarks[row]], 0])
