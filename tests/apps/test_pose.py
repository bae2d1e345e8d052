import doctest
import json

import numpy as np
import pytest

from facerecon.apps import pose as pose_module
from facerecon.apps.pose import (
    Pose,
    PoseFitter,
    estimate_pose,
    euler_from_rotation,
    rotation_from_euler,
    umeyama,
)
from facerecon.errors import InvalidInputError


def wrap(angle):
    return (np.asarray(angle) + 180.0) % 360.0 - 180.0


def rotation_angle_deg(a, b):
    """Geodesic distance between two rotations, degrees."""
    cos = np.clip((np.trace(a.T @ b) - 1.0) / 2.0, -1.0, 1.0)
    return float(np.rad2deg(np.arccos(cos)))


def random_rotation(rng):
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def test_docstring_examples():
    result = doctest.testmod(pose_module)
    assert result.attempted >= 2 and result.failed == 0


def test_zero_angles_are_positive_zero():
    assert [str(a) for a in euler_from_rotation(np.eye(3))] == ["0.0", "0.0", "0.0"]


# --- Euler conventions: what the signs mean on screen ---------------------------------------

def test_axis_order_is_roll_yaw_pitch():
    rx = rotation_from_euler(0, 40, 0)
    ry = rotation_from_euler(25, 0, 0)
    rz = rotation_from_euler(0, 0, -70)
    np.testing.assert_allclose(rotation_from_euler(25, 40, -70), rz @ ry @ rx, atol=1e-12)
    # Known values: Rz(90) takes +x to +y; Ry(90) takes +z to +x; Rx(90) takes +z to -y.
    np.testing.assert_allclose(rotation_from_euler(0, 0, 90) @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(rotation_from_euler(90, 0, 0) @ [0, 0, 1], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(rotation_from_euler(0, 90, 0) @ [0, 0, 1], [0, -1, 0], atol=1e-12)


def test_positive_yaw_moves_the_nose_to_image_right(canonical_face):
    nose = int(np.argmax(canonical_face[:, 2]))
    centre = canonical_face.mean(axis=0)
    seen = Pose.from_euler(30, 0, 0).project(canonical_face)
    assert seen[nose, 0] - seen.mean(axis=0)[0] > 0.3 * (canonical_face[nose, 2] - centre[2])
    assert abs(seen[nose, 1] - canonical_face[nose, 1]) < 1e-4  # yaw keeps image height


def test_positive_pitch_lifts_the_chin(canonical_face):
    nose = int(np.argmax(canonical_face[:, 2]))
    chin = int(np.argmax(canonical_face[:, 1]))
    seen = Pose.from_euler(0, 30, 0).project(canonical_face)
    assert seen[nose, 1] < canonical_face[nose, 1] - 10  # nose goes up the image (-y)
    assert seen[chin, 2] > canonical_face[chin, 2]  # chin comes towards the camera


def test_positive_roll_is_clockwise_on_screen(canonical_face):
    top = int(np.argmin(canonical_face[:, 1]))
    seen = Pose.from_euler(0, 0, 20).project(canonical_face)
    assert seen[top, 0] > canonical_face[top, 0] + 10  # top of the head moves to +x
    # Clockwise for a viewer of a y-down image: the 2D cross product (x1*y2 - y1*x2) of a
    # vector before and after the rotation is positive.
    before, after = canonical_face[top, :2], seen[top, :2]
    assert before[0] * after[1] - before[1] * after[0] > 0


# --- Euler round trips over the whole sphere -------------------------------------------------

def test_random_angles_round_trip(rng):
    yaw = rng.uniform(-90, 90, 2000)
    pitch = rng.uniform(-180, 180, 2000)
    roll = rng.uniform(-180, 180, 2000)
    for angles in zip(yaw, pitch, roll, strict=True):
        got = euler_from_rotation(rotation_from_euler(*angles))
        assert np.abs(wrap(np.subtract(got, angles))).max() < 1e-4, (angles, got)


def test_random_rotations_give_valid_ranges_and_rebuild(rng):
    for _ in range(500):
        rotation = random_rotation(rng)
        yaw, pitch, roll = euler_from_rotation(rotation)
        assert -90 <= yaw <= 90 and -180 < pitch <= 180 and -180 < roll <= 180
        np.testing.assert_allclose(rotation_from_euler(yaw, pitch, roll), rotation, atol=1e-10)


@pytest.mark.parametrize("yaw", [-89.9, -45.0, 0.0, 60.0, 89.9])
@pytest.mark.parametrize("pitch", [-90.0, -89.9, 89.9, 90.0, 180.0])
@pytest.mark.parametrize("roll", [-135.0, 0.0, 30.0])
def test_large_pitch_and_near_singular_yaw_round_trip(yaw, pitch, roll):
    got = euler_from_rotation(rotation_from_euler(yaw, pitch, roll))
    assert np.abs(wrap(np.subtract(got, (yaw, pitch, roll)))).max() < 1e-4, got


@pytest.mark.parametrize("yaw", [-90.0, 90.0])
@pytest.mark.parametrize("pitch,roll", [(0, 0), (30, 0), (0, 30), (50, -20), (170, 120),
                                        (-89.9, 45), (90, 90)])
def test_gimbal_lock_branch(yaw, pitch, roll):
    rotation = rotation_from_euler(yaw, pitch, roll)
    got_yaw, got_pitch, got_roll = euler_from_rotation(rotation)
    assert got_yaw == yaw and got_roll == 0.0
    # Only pitch - roll (yaw +90) or pitch + roll (yaw -90) is determined; it goes to pitch.
    combined = pitch - roll if yaw > 0 else pitch + roll
    assert abs(wrap(got_pitch - combined)) < 1e-9
    np.testing.assert_allclose(rotation_from_euler(got_yaw, got_pitch, got_roll), rotation,
                               atol=1e-12)


def test_slightly_non_orthogonal_rotations_stay_finite(rng):
    for yaw in (90.0, -90.0, 89.99, 10.0):
        rotation = rotation_from_euler(yaw, 20, -40)
        # |R[2, 0]| > 1 here: an arcsin would return NaN.
        for perturbed in (rotation * (1 + 1e-6), rotation + rng.normal(0, 1e-7, (3, 3)),
                          rotation.astype(np.float32)):
            angles = euler_from_rotation(perturbed)
            assert np.all(np.isfinite(angles))
            rebuilt = rotation_from_euler(*angles)
            assert rotation_angle_deg(rebuilt, rotation) < 1e-3


def test_angles_rebuild_noisy_rotations_near_gimbal_lock(rng):
    # Roll alone is ill-conditioned there, but pitch is solved last and absorbs its error.
    for noise in (0.0, 1e-7, 1e-5):
        for distance in np.logspace(-9, 0, 30):
            for sign in (1.0, -1.0):
                rotation = rotation_from_euler(sign * (90.0 - distance),
                                               rng.uniform(-180, 180), rng.uniform(-180, 180))
                angles = euler_from_rotation(rotation + rng.normal(0, noise, (3, 3)))
                error = np.abs(rotation_from_euler(*angles) - rotation).max()
                assert error < 5 * noise + 2e-6, (distance, noise, error)


def test_euler_from_rotation_rejects_bad_input():
    with pytest.raises(InvalidInputError):
        euler_from_rotation(np.eye(4))
    with pytest.raises(InvalidInputError):
        euler_from_rotation(np.full((3, 3), np.nan))


# --- Umeyama ---------------------------------------------------------------------------------

def test_umeyama_recovers_an_exact_similarity(rng):
    source = rng.normal(size=(50, 3))
    rotation = random_rotation(rng)
    target = 3.7 * source @ rotation.T + [5.0, -2.0, 9.0]
    source_copy, target_copy = source.copy(), target.copy()
    fit = umeyama(source, target)
    assert fit.scale == pytest.approx(3.7, rel=1e-10)
    np.testing.assert_allclose(fit.rotation, rotation, atol=1e-10)
    np.testing.assert_allclose(fit.translation, [5.0, -2.0, 9.0], atol=1e-9)
    np.testing.assert_allclose(fit.apply(source), target, atol=1e-9)
    np.testing.assert_allclose(fit.inverse().apply(target), source, atol=1e-9)
    np.testing.assert_array_equal(source, source_copy)  # inputs are not mutated
    np.testing.assert_array_equal(target, target_copy)


def test_umeyama_rigid_fit_keeps_scale_one(rng):
    source = rng.normal(size=(30, 3))
    rotation = random_rotation(rng)
    fit = umeyama(source, 2.0 * source @ rotation.T, with_scale=False)
    assert fit.scale == 1.0
    np.testing.assert_allclose(fit.rotation, rotation, atol=1e-10)


def test_umeyama_reflection_guard(rng):
    source = rng.normal(size=(40, 3))
    mirrored = source * [-1.0, 1.0, 1.0]  # the least-squares orthogonal fit is a reflection
    fit = umeyama(source, mirrored)
    assert np.linalg.det(fit.rotation) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(fit.rotation @ fit.rotation.T, np.eye(3), atol=1e-12)
    # It is the best proper fit: no other rotation, with its own best scale and
    # translation, comes closer.
    best = np.sum((fit.apply(source) - mirrored) ** 2)
    source_c, target_c = source - source.mean(0), mirrored - mirrored.mean(0)
    for _ in range(500):
        rotated = source_c @ random_rotation(rng).T
        scale = max(np.sum(rotated * target_c) / np.sum(rotated**2), 0.0)
        assert np.sum((scale * rotated - target_c) ** 2) >= best - 1e-9


def test_umeyama_weights(rng):
    source = rng.normal(size=(60, 3))
    rotation = random_rotation(rng)
    target = 2.0 * source @ rotation.T + 1.0
    target[:10] += rng.normal(0, 50, (10, 3))  # outliers
    weights = np.ones(60)
    weights[:10] = 0.0
    fit = umeyama(source, target, weights=weights)
    np.testing.assert_allclose(fit.rotation, rotation, atol=1e-10)
    assert fit.scale == pytest.approx(2.0, rel=1e-10)
    # Integer weights equal repeating the points.
    counts = rng.integers(1, 4, 60)
    weighted = umeyama(source, target, weights=counts)
    repeated = umeyama(np.repeat(source, counts, 0), np.repeat(target, counts, 0))
    np.testing.assert_allclose(weighted.rotation, repeated.rotation, atol=1e-10)
    np.testing.assert_allclose(weighted.translation, repeated.translation, atol=1e-9)


@pytest.mark.parametrize("source,target,weights", [
    (np.zeros((5, 3)), np.zeros((5, 3)), None),  # coincident
    (np.outer(np.arange(6.0), [1, 2, 3]), np.outer(np.arange(6.0), [3, 1, 2]), None),  # line
    (np.ones((5, 3)), np.ones((4, 3)), None),
    (np.ones((5, 2)), np.ones((5, 2)), None),
    (np.eye(3), np.eye(3), [1.0, -1.0, 1.0]),
    (np.eye(3), np.eye(3), [0.0, 0.0, 0.0]),
    (np.eye(3), np.full((3, 3), np.inf), None),
])
def test_umeyama_rejects_degenerate_input(source, target, weights):
    with pytest.raises(InvalidInputError):
        umeyama(source, target, weights=weights)


# --- estimate_pose on a synthetic face -------------------------------------------------------

POSES = [(0, 0, 0), (30, -20, 10), (-60, 15, -25), (85, 10, 5), (-85, -30, 40),
         (10, 89.5, 0), (-20, -89.5, 15), (0, 90, 0), (45, -90, -30), (15, 120, 170),
         (-40, 60, -175), (89.5, 20, 30)]


@pytest.mark.parametrize("angles", POSES)
def test_estimate_pose_recovers_known_pose(canonical_face, angles, rng):
    scale, translation = 1.8, np.array([130.0, 110.0, 40.0])
    truth = Pose.from_euler(*angles, scale=scale, translation=translation)
    observed = truth.project(canonical_face) + rng.normal(0, 0.5, canonical_face.shape)
    observed = observed.astype(np.float32)
    pose = estimate_pose(observed, canonical_face)
    assert rotation_angle_deg(pose.rotation, truth.rotation) < 0.1
    assert pose.scale == pytest.approx(scale, rel=1e-3)
    np.testing.assert_allclose(pose.translation, translation, atol=0.5)
    if abs(angles[0]) < 89:  # away from gimbal lock each angle is recovered by itself
        errors = wrap(np.subtract((pose.yaw, pose.pitch, pose.roll), angles))
        assert np.abs(errors).max() < 0.5, (angles, errors)
    # The camera matrix reproduces the points up to the noise (sigma 0.5 px per axis).
    homogeneous = np.hstack([canonical_face, np.ones((len(canonical_face), 1))])
    residual = homogeneous @ pose.camera_matrix.T - observed
    assert np.sqrt(np.mean(residual**2)) < 0.55


def test_estimate_pose_from_a_random_rotation_matches_matrix(canonical_face, rng):
    rotation = random_rotation(rng)
    observed = 0.7 * canonical_face @ rotation.T + [20.0, 30.0, -5.0]
    pose = estimate_pose(observed, canonical_face)
    np.testing.assert_allclose(pose.rotation, rotation, atol=1e-5)
    np.testing.assert_allclose(rotation_from_euler(pose.yaw, pose.pitch, pose.roll), rotation,
                               atol=1e-5)


def test_a_pose_fitter_fits_many_faces_as_estimate_pose_does(canonical_face, rng):
    """The canonical side computed once gives the same poses, weighted or not."""
    weights = rng.uniform(0.1, 2.0, len(canonical_face))
    for fit_weights in (None, weights):
        fitter = PoseFitter(canonical_face, fit_weights)
        for _ in range(3):
            truth = Pose.from_euler(*rng.uniform(-60, 60, 3), scale=rng.uniform(0.5, 3),
                                    translation=rng.uniform(-50, 50, 3))
            observed = truth.project(canonical_face) + rng.normal(0, 2, canonical_face.shape)
            expected = estimate_pose(observed, canonical_face, fit_weights)
            got = fitter(observed.astype(np.float32))
            np.testing.assert_allclose(got.camera_matrix, expected.camera_matrix, atol=1e-4)
            assert rotation_angle_deg(got.rotation, truth.rotation) < 0.5
    with pytest.raises(InvalidInputError, match="differ"):
        fitter(canonical_face[:-1])


# --- the Pose container ----------------------------------------------------------------------

def test_pose_fields_are_derived_and_read_only():
    pose = Pose.from_euler(20, -10, 5, scale=2.0, translation=[1, 2, 3])
    assert (pose.yaw, pose.pitch, pose.roll) == pytest.approx((20, -10, 5), abs=1e-9)
    assert pose.camera_matrix.shape == (3, 4)
    np.testing.assert_allclose(pose.camera_matrix[:, :3], 2.0 * pose.rotation)
    np.testing.assert_allclose(pose.camera_matrix[:, 3], [1, 2, 3])
    with pytest.raises(ValueError):
        pose.rotation[0, 0] = 5.0
    with pytest.raises(AttributeError):
        pose.yaw = 3.0
    decoded = json.loads(json.dumps(pose.as_dict()))
    assert decoded["yaw"] == pytest.approx(20) and len(decoded["camera_matrix"]) == 3
    np.testing.assert_allclose(pose.similarity.apply([[0, 0, 0]]), [[1, 2, 3]])


@pytest.mark.parametrize("scale,rotation,translation", [
    (0.0, np.eye(3), np.zeros(3)),
    (-1.0, np.eye(3), np.zeros(3)),
    (1.0, np.diag([1.0, 1.0, -1.0]), np.zeros(3)),  # a reflection
    (1.0, 1.1 * np.eye(3), np.zeros(3)),
    (1.0, np.eye(3), np.zeros(2)),
    (1.0, np.eye(3), [0.0, np.nan, 0.0]),
])
def test_pose_rejects_invalid_values(scale, rotation, translation):
    with pytest.raises(InvalidInputError):
        Pose(scale, rotation, translation)
