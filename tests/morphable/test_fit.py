"""ICT landmark fitting: synthetic faces projected at random poses are fitted back.

Bounds come from benchmarks/fit_accuracy.py (seeded, 1 px noise; see docs/fitting.md): the
dense vertex error over the face region, divided by the true 3D outer inter-ocular
distance, has median ~0.019 (3D input) / ~0.024 (2D input) and a maximum below 0.05 over
hundreds of faces; the rotation error stays below 4 degrees.
"""

from __future__ import annotations

import numpy as np
import pytest

from facerecon.apps.pose import Pose
from facerecon.data.synthetic import random_ict_face
from facerecon.errors import InvalidInputError
from facerecon.morphable.fit import FLIP_Y, FitResult, IctFitter
from facerecon.morphable.ict import load_ict
from facerecon.morphable.jaw_contour import select_silhouette


@pytest.fixture(scope="module")
def model(ict_dir):
    return load_ict(ict_dir)


@pytest.fixture(scope="module")
def fitter(model):
    return IctFitter(model)


def random_face(model, rng, yaw=None):
    """Truth for one synthetic photo: weights, pose and the (V, 3) image-frame vertices."""
    identity, expression, pose, canonical = random_ict_face(model, rng, yaw)
    return identity, expression, pose, pose.project(canonical)


def silhouette_vertices(fitter, model, identity, expression, pose):
    """iBUG landmark vertices with the jaw on the outline, as a 2D annotator would put it."""
    contours = fitter.contours
    canonical = model.shape(identity, expression)[contours.vertices].astype(np.float64) * FLIP_Y
    no_roll = Pose.from_euler(pose.yaw, pose.pitch, 0.0).rotation
    chosen = select_silhouette(contours, canonical @ no_roll[0])
    vertices = np.asarray(model.landmark_indices, dtype=np.int64).copy()
    vertices[contours.landmarks] = contours.vertices[chosen]
    return vertices


def rotation_error_deg(a, b):
    return float(np.rad2deg(np.arccos(np.clip((np.trace(a.T @ b) - 1) / 2, -1, 1))))


def dense_error(result, model, truth, match_depth):
    """Mean vertex distance (px) and its ratio to the true outer inter-ocular distance."""
    fitted = result.vertices(model).astype(np.float64)
    if match_depth:  # 2D input: depth offset unobservable
        fitted[:, 2] += np.mean(truth[:, 2] - fitted[:, 2])
    mean = float(np.linalg.norm(fitted - truth, axis=1).mean())
    eyes = truth[model.landmark_indices[[36, 45]]]
    return mean, mean / float(np.linalg.norm(eyes[0] - eyes[1]))


def test_3d_landmarks_fitted_back(model, fitter):
    rng = np.random.default_rng(7)
    ratios = []
    for _ in range(12):
        identity, expression, pose, truth = random_face(model, rng)
        landmarks = truth[model.landmark_indices] + rng.normal(size=(68, 3))
        result = fitter.fit(landmarks)
        assert rotation_error_deg(result.pose.rotation, pose.rotation) < 4.0
        assert abs(result.pose.yaw - pose.yaw) < 4.0
        assert abs(result.pose.scale / pose.scale - 1) < 0.1
        assert result.residual_px < 3.0
        pixels, ratio = dense_error(result, model, truth, match_depth=False)
        assert ratio < 0.05, (pixels, ratio)
        ratios.append(ratio)
    assert np.median(ratios) < 0.03


@pytest.mark.parametrize("yaw", [60.0, -60.0])
def test_2d_landmarks_with_silhouette_jaw_at_yaw_60(model, fitter, yaw):
    rng = np.random.default_rng(11 if yaw > 0 else 12)
    ratios = []
    for _ in range(6):
        identity, expression, pose, truth = random_face(model, rng, yaw=yaw)
        vertices = silhouette_vertices(fitter, model, identity, expression, pose)
        landmarks = truth[vertices, :2] + rng.normal(size=(68, 2))
        result = fitter.fit(landmarks)
        assert rotation_error_deg(result.pose.rotation, pose.rotation) < 4.0
        assert result.residual_px < 3.0
        # the jaw marched to the outline: most outline vertices found exactly
        assert np.sum(result.landmark_vertices[fitter.contours.landmarks]
                      == vertices[fitter.contours.landmarks]) >= 10
        pixels, ratio = dense_error(result, model, truth, match_depth=True)
        assert ratio < 0.05, (pixels, ratio)
        ratios.append(ratio)
        assert abs(result.landmarks[:, 2].mean()) < 1e-3  # depth centred for 2D input
    assert np.median(ratios) < 0.035


def test_not_mirrored(model, fitter):
    truth_pose = Pose.from_euler(0.0, 0.0, 0.0, scale=12.0, translation=(200.0, 220.0, 0.0))
    canonical = model.neutral.astype(np.float64) * FLIP_Y
    truth = truth_pose.project(canonical)
    for dims in (2, 3):
        result = fitter.fit(truth[model.landmark_indices, :dims])
        assert np.linalg.det(result.pose.rotation) == pytest.approx(1.0)
        assert rotation_error_deg(result.pose.rotation, np.eye(3)) < 3.0  # 2D: pitch ~1.8
        eyes = result.landmarks[[36, 45]]
        assert eyes[0, 0] < eyes[1, 0]  # subject's right eye left in the photo
        vertices = result.vertices(model)
        right_eye = vertices[model.landmark_indices[36:42]].mean(axis=0)
        left_eye = vertices[model.landmark_indices[42:48]].mean(axis=0)
        nose_tip = vertices[model.landmark_indices[30]]
        assert right_eye[0] < nose_tip[0] < left_eye[0]
        assert nose_tip[1] > right_eye[1]  # y down: nose below the eyes
        assert nose_tip[2] > right_eye[2]  # z nearer: nose towards the camera
        errors = np.abs(result.landmarks[:, :2] - truth[model.landmark_indices, :2])
        assert errors[17:].max() < 1.5  # the jaw may march along its outline (2D)
        assert errors.max() < 4.0


def test_yaw_sign_follows_pose_module(model, fitter):
    """Positive yaw moves the nose towards +x (apps.pose convention)."""
    canonical = model.neutral.astype(np.float64) * FLIP_Y
    truth = Pose.from_euler(40.0, 0.0, 0.0, scale=10.0, translation=(200, 200, 0)).project(
        canonical)
    result = fitter.fit(truth[model.landmark_indices])
    assert result.pose.yaw == pytest.approx(40.0, abs=2.0)
    nose, chin = result.landmarks[30], result.landmarks[8]
    assert nose[0] > result.landmarks[27:36, 0].min()  # nose tip right of the bridge line
    assert chin[1] > nose[1]


def test_result_fields(model, fitter, rng):
    _, _, _, truth = random_face(model, rng)
    landmarks = truth[model.landmark_indices].astype(np.float32)
    before = landmarks.copy()
    result = fitter.fit(landmarks)
    assert isinstance(result, FitResult)
    np.testing.assert_array_equal(landmarks, before)  # input not mutated
    assert result.identity.shape == (100,) and result.expression.shape == (53,)
    assert np.all(result.expression >= 0) and np.all(result.expression <= 1)
    assert result.landmarks.shape == (68, 3) and result.landmarks.dtype == np.float32
    assert result.landmark_vertices.shape == (68,)
    np.testing.assert_array_equal(result.landmark_vertices, model.landmark_indices)  # 3D: fixed
    assert result.point_errors_px.shape == (68,)
    assert result.residual_px == pytest.approx(np.sqrt(np.mean(result.point_errors_px**2)))
    box = np.ptp(landmarks[:, :2], axis=0)
    assert result.residual_nme == pytest.approx(result.residual_px / np.sqrt(box[0] * box[1]))
    vertices = result.vertices(model)
    assert vertices.shape == (model.vertex_count, 3) and vertices.dtype == np.float32
    np.testing.assert_allclose(vertices[result.landmark_vertices], result.landmarks, atol=1e-3)
    with pytest.raises(ValueError):
        result.expression[0] = 0.5  # read-only


def test_fewer_identity_modes(model):
    small = IctFitter(model, identity_count=20)
    rng = np.random.default_rng(3)
    _, _, pose, truth = random_face(model, rng)
    result = small.fit(truth[model.landmark_indices])
    assert np.all(result.identity[20:] == 0)
    assert rotation_error_deg(result.pose.rotation, pose.rotation) < 4.0


@pytest.mark.parametrize("landmarks", [np.zeros((68, 4)), np.zeros((5, 2)), np.zeros(68)])
def test_rejects_bad_shapes(fitter, landmarks):
    with pytest.raises(InvalidInputError):
        fitter.fit(landmarks)


@pytest.mark.parametrize("yaw", [40.0, -40.0])
def test_mixed_input_inner_points_3d_jaw_as_outline(model, fitter, yaw):
    """Inner points with z and a jaw outline without: the jaw marches to the silhouette and
    depth is observed (not centred); the face comes back as well as from 3D input."""
    rng = np.random.default_rng(21 if yaw > 0 else 22)
    for _ in range(4):
        identity, expression, pose, truth = random_face(model, rng, yaw=yaw)
        vertices = silhouette_vertices(fitter, model, identity, expression, pose)
        landmarks = truth[vertices] + rng.normal(size=(68, 3))
        landmarks[fitter.contours.landmarks, 2] = np.nan
        result = fitter.fit(landmarks)
        assert rotation_error_deg(result.pose.rotation, pose.rotation) < 4.0
        assert abs(result.pose.scale / pose.scale - 1) < 0.1
        assert result.residual_px < 3.0
        jaw = fitter.contours.landmarks
        assert np.sum(result.landmark_vertices[jaw] == vertices[jaw]) >= 10
        pixels, ratio = dense_error(result, model, truth, match_depth=False)
        assert ratio < 0.05, (pixels, ratio)


def test_mixed_input_jaw_depth_does_not_bend_the_face(model, fitter):
    """A jaw whose z lies in front of the face's (the teacher's jaw points are vertices of
    its own face model) bends a 3D fit's identity; left out as an outline (z NaN) it does
    not: the face comes back as from clean points."""
    rng = np.random.default_rng(23)
    for _ in range(3):
        _, _, pose, truth = random_face(model, rng, yaw=0.0)
        landmarks = truth[model.landmark_indices].astype(np.float64)
        landmarks[fitter.contours.landmarks, 2] += 0.3 * 8.9 * pose.scale  # 0.3 IOD forward
        bent = fitter.fit(landmarks)
        landmarks[fitter.contours.landmarks, 2] = np.nan
        outline = fitter.fit(landmarks)
        bent_ratio, outline_ratio = (dense_error(r, model, truth, False)[1]
                                     for r in (bent, outline))
        assert outline_ratio < 0.05 and bent_ratio > 2 * outline_ratio
        assert np.linalg.norm(outline.identity) < 0.5 * np.linalg.norm(bent.identity)


def test_mixed_input_needs_points_with_depth(model, fitter, rng):
    _, _, _, truth = random_face(model, rng)
    landmarks = truth[model.landmark_indices].astype(np.float64)
    landmarks[2:, 2] = np.nan  # two points with z are too few for a 3D pose
    with pytest.raises(InvalidInputError, match="at least 3"):
        fitter.fit(landmarks)
    landmarks[:, 2] = np.nan  # no z at all: plain 2D input
    assert fitter.fit(landmarks).residual_px < 3.0


def test_rejects_bad_values(model, fitter, rng):
    _, _, _, truth = random_face(model, rng)
    landmarks = truth[model.landmark_indices]
    broken = landmarks.copy()
    broken[3, 1] = np.nan
    with pytest.raises(InvalidInputError):
        fitter.fit(broken)
    with pytest.raises(InvalidInputError):
        fitter.fit(landmarks, weights=-np.ones(68))
    with pytest.raises(InvalidInputError):
        IctFitter(model, identity_count=0)


def test_points_of_weight_zero_stay_out_of_the_residual(model, fitter):
    """A point the fit ignores (weight 0) gets its error but does not enter the residual."""
    rng = np.random.default_rng(5)
    _, _, _, truth = random_face(model, rng)
    landmarks = truth[model.landmark_indices].copy()
    landmarks[:17, 0] += 40.0  # a jaw that is not this face's
    weights = np.ones(68)
    weights[:17] = 0.0
    result = fitter.fit(landmarks, weights)
    used = result.point_errors_px[17:]
    assert result.residual_px == pytest.approx(float(np.sqrt(np.mean(used**2))))
    assert result.point_errors_px[:17].mean() > 30.0 and result.residual_px < 5.0
    assert fitter.fit(landmarks).residual_px > 2 * result.residual_px


def test_mirrored_2d_landmarks_are_dropped(model, fitter):
    """A mirrored 2D annotation fits as well as the real one, but only facing away."""
    rng = np.random.default_rng(21)
    _, _, _, truth = random_face(model, rng, yaw=20.0)
    landmarks = truth[model.landmark_indices, :2]
    result = fitter.fit(landmarks)
    assert result.faces_camera and result.is_plausible()
    mirrored = landmarks * [-1.0, 1.0]
    flipped = fitter.fit(mirrored)
    assert np.linalg.det(flipped.pose.rotation) == pytest.approx(1.0)
    assert not flipped.faces_camera and not flipped.is_plausible()
    assert not result.is_plausible(max_residual_nme=0.1 * result.residual_nme)


def test_garbage_input_is_dropped_or_rejected(fitter):
    rng = np.random.default_rng(8)
    for dims in (2, 3):
        result = fitter.fit(rng.uniform(0, 200, size=(68, dims)))
        assert not result.is_plausible()
    with pytest.raises(InvalidInputError):
        fitter.fit(np.ones((68, 2)))  # all points coincide: no pose
