"""Landmark snap: fitted faces moved onto their landmark targets by a smooth local field."""

from __future__ import annotations

import numpy as np
import pytest

from facerecon.data.synthetic import random_ict_face
from facerecon.errors import InvalidInputError
from facerecon.morphable.fit import IctFitter
from facerecon.morphable.ict import load_ict
from facerecon.morphable.snap import LandmarkSnap


@pytest.fixture
def grid_face():
    """A flat 41 x 41 grid (1 cm spacing) as 'neutral', 68 landmarks 2 cm apart (17 x 4)."""
    ys, xs = np.mgrid[0:41, 0:41].astype(np.float64)
    neutral = np.stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)], axis=1)
    landmarks = np.array([(4 + 2 * c) + 41 * (16 + 2 * r) for r in range(4) for c in range(17)])
    return neutral, landmarks


def test_snap_moves_landmarks_onto_targets_and_leaves_far_vertices(grid_face, rng):
    neutral, landmarks = grid_face
    vertices = neutral * 10.0  # "image" = 10 px per cm
    targets = vertices[landmarks] + rng.normal(0, 3.0, (68, 3))
    snapped = LandmarkSnap(neutral, sigma_cm=2.0, ridge=1e-6).snap(vertices, landmarks, targets)
    assert snapped.dtype == np.float32 and snapped.shape == vertices.shape
    np.testing.assert_allclose(snapped[landmarks], targets, atol=1e-3)
    # 12 cm (6 sigma) from every landmark: untouched.
    distance = np.min(np.linalg.norm(neutral[:, None] - neutral[landmarks][None], axis=2), axis=1)
    far = distance > 12.0
    assert far.sum() > 100
    np.testing.assert_allclose(snapped[far], vertices[far], atol=1e-3)


def test_ridge_trades_exactness_for_smoothness(grid_face, rng):
    neutral, landmarks = grid_face
    vertices = neutral * 10.0
    # Opposite residuals on neighbouring landmarks: exact interpolation overshoots.
    residual = np.zeros((68, 2))
    residual[::2, 0], residual[1::2, 0] = 4.0, -4.0
    targets = vertices[landmarks, :2] + residual
    exact = LandmarkSnap(neutral, 2.0, 1e-9).snap(vertices, landmarks, targets)
    smooth = LandmarkSnap(neutral).snap(vertices, landmarks, targets)  # the defaults
    overshoot = lambda v: np.abs(v[:, 0] - vertices[:, 0]).max()  # noqa: E731
    assert overshoot(exact) > 4.0 * 2 and overshoot(smooth) <= 4.0 * 1.5


def test_2d_targets_keep_depth_and_nan_depth_counts_as_2d(grid_face, rng):
    neutral, landmarks = grid_face
    vertices = neutral * 10.0 + np.array([0.0, 0.0, 5.0])
    targets = np.full((68, 3), np.nan)
    targets[:, :2] = vertices[landmarks, :2] + rng.normal(0, 2.0, (68, 2))
    snap = LandmarkSnap(neutral, 2.0, 1e-6)
    snapped = snap.snap(vertices, landmarks, targets)
    np.testing.assert_allclose(snapped[:, 2], vertices[:, 2])
    np.testing.assert_allclose(snapped[landmarks, :2], targets[:, :2], atol=1e-3)
    np.testing.assert_array_equal(snapped, snap.snap(vertices, landmarks, targets[:, :2]))


def test_points_without_depth_move_x_y_and_their_z_follows_the_others(grid_face, rng):
    """A target row with z NaN (the teacher's jaw as an outline) is matched in x, y; z is
    spread from the points with depth alone, so those points still land in 3D."""
    neutral, landmarks = grid_face
    vertices = neutral * 10.0
    targets = vertices[landmarks] + rng.normal(0, 2.0, (68, 3))
    outline = np.arange(68) < 17  # the first row of landmarks
    targets[outline, 2] = np.nan
    snapped = LandmarkSnap(neutral, 2.0, 1e-6).snap(vertices, landmarks, targets)
    np.testing.assert_allclose(snapped[landmarks, :2], targets[:, :2], atol=1e-3)
    np.testing.assert_allclose(snapped[landmarks[~outline]], targets[~outline], atol=1e-3)
    assert np.all(np.isfinite(snapped))
    depth_only = LandmarkSnap(neutral, 2.0, 1e-6).displacement(landmarks[~outline],
                                                               (targets - vertices[landmarks])
                                                               [~outline, 2:])
    np.testing.assert_allclose(snapped[:, 2], vertices[:, 2] + depth_only[:, 0], atol=1e-4)


def test_a_vertex_used_twice_gets_the_mean_residual(grid_face):
    neutral, landmarks = grid_face
    landmarks = landmarks.copy()
    landmarks[1] = landmarks[0]
    vertices = neutral * 10.0
    residual = np.zeros((68, 2))
    residual[0], residual[1] = (2.0, 0.0), (4.0, 0.0)
    snapped = LandmarkSnap(neutral, 2.0, 1e-6).snap(vertices, landmarks, vertices[landmarks, :2]
                                                    + residual)
    np.testing.assert_allclose(snapped[landmarks[0], :2] - vertices[landmarks[0], :2], (3.0, 0.0),
                               atol=1e-3)


@pytest.mark.parametrize("bad", [np.zeros((67, 2)), np.zeros((68, 4)),
                                 np.full((68, 2), np.nan), np.zeros(68)])
def test_bad_targets_are_refused(grid_face, bad):
    neutral, landmarks = grid_face
    with pytest.raises(InvalidInputError):
        LandmarkSnap(neutral).snap(neutral, landmarks, bad)


def test_bad_settings_and_vertices_are_refused(grid_face):
    neutral, landmarks = grid_face
    with pytest.raises(InvalidInputError):
        LandmarkSnap(neutral, sigma_cm=0.0)
    with pytest.raises(InvalidInputError):
        LandmarkSnap(neutral[:, :2])
    with pytest.raises(InvalidInputError):
        LandmarkSnap(neutral).snap(neutral[:-1], landmarks, neutral[landmarks])


def test_snap_closes_the_fit_gap_on_ict_faces(ict_dir, rng):
    """Fits to noisy landmarks keep a gap the priors leave; the default snap closes much of it
    (independent noise on lip points 0.5 cm apart is partly left to the ridge; on real build
    labels, whose residuals are smoother, it leaves 15 %, docs/data.md) and moves no vertex
    much further than the largest landmark residual."""
    model = load_ict(ict_dir)
    fitter, snap = IctFitter(model), LandmarkSnap(model.neutral)
    for yaw in (-40.0, 0.0, 25.0):
        _, _, pose, canonical = random_ict_face(model, rng, yaw)
        truth = pose.project(canonical)[model.landmark_indices]
        targets = truth + rng.normal(0, 0.02 * pose.scale * 9.0, truth.shape)  # ~2 % of IOD
        fit = fitter.fit(targets)
        vertices = fit.vertices(model)
        snapped = snap.snap(vertices, fit.landmark_vertices, targets)
        before = np.linalg.norm(vertices[fit.landmark_vertices] - targets, axis=1)
        after = np.linalg.norm(snapped[fit.landmark_vertices] - targets, axis=1)
        assert after.mean() < 0.5 * before.mean()
        moved = np.linalg.norm(snapped - vertices, axis=1)
        assert moved.max() < 2.0 * before.max()


def test_kernel_on_an_opened_mouth_parts_lips_the_fit_closed(ict_dir):
    """On the neutral face the inner lips touch (0.1 cm apart), so a field measured there
    cannot move them apart; measured with jawOpen applied (for_model) it can, and the rest of
    the face still follows its own residuals."""
    model = load_ict(ict_dir)
    vertices = model.neutral.astype(np.float64) * np.array([10.0, -10.0, 10.0])  # image axes
    landmarks = np.asarray(model.landmark_indices)
    targets = vertices[landmarks, :2].copy()
    targets[61:64, 1] -= 4.0  # inner upper lip 4 px up, inner lower lip 4 px down
    targets[65:68, 1] += 4.0

    def lip_gap(points):
        return float(points[65:68, 1].mean() - points[61:64, 1].mean())

    def opening(snap):  # how far the snap parted the lips, pixels
        return lip_gap(snap.snap(vertices, landmarks, targets)[landmarks]) - lip_gap(
            vertices[landmarks])

    assert abs(opening(LandmarkSnap(model.neutral))) < 1.0  # wanted: 8 px
    assert opening(LandmarkSnap.for_model(model, 0.0)) == pytest.approx(
        opening(LandmarkSnap(model.neutral)), abs=1e-6)
    assert opening(LandmarkSnap.for_model(model)) > 6.5  # the default kernel geometry
    with pytest.raises(InvalidInputError, match="mouth_open"):
        LandmarkSnap.for_model(model, 1.2)
