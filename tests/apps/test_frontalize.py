import numpy as np
import pytest

from facerecon.apps.frontalize import align_to_canonical, derotate, frontalize
from facerecon.apps.pose import Pose, estimate_pose


def signed_areas(points):
    """Image-frame signed area of consecutive point triples (the winding test of types.py)."""
    a, b, c = points[0:-2:3, :2], points[1:-1:3, :2], points[2::3, :2]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])


@pytest.mark.parametrize("angles", [(0, 0, 0), (40, -25, 15), (-80, 60, -170), (90, 30, 0),
                                    (5, -89.5, 20)])
def test_frontalize_returns_the_canonical_face(canonical_face, angles, rng):
    truth = Pose.from_euler(*angles, scale=2.3, translation=[200.0, 150.0, 60.0])
    observed = (truth.project(canonical_face)
                + rng.normal(0, 0.3, canonical_face.shape)).astype(np.float32)
    observed_copy = observed.copy()
    front = frontalize(observed, estimate_pose(observed, canonical_face))
    assert front.dtype == np.float32 and front.shape == canonical_face.shape
    # Noise of 0.3 px in the image is 0.3 / 2.3 canonical units per axis.
    rms = np.sqrt(np.mean(np.sum((front - canonical_face) ** 2, axis=1)))
    assert rms < 1.1 * np.sqrt(3) * 0.3 / 2.3
    np.testing.assert_array_equal(observed, observed_copy)


def test_faces_from_different_poses_align(canonical_face):
    # Two views of one face (with an expression-like local change) frontalize onto each other.
    face = canonical_face.copy()
    face[face[:, 1] > 50, 1] += 3.0
    fronts = []
    for angles, scale, shift in [((30, 10, -5), 1.5, [50, 60, 0]),
                                 ((-70, -40, 120), 3.0, [400, 300, 90])]:
        observed = Pose.from_euler(*angles, scale=scale, translation=shift).project(face)
        fronts.append(align_to_canonical(observed, canonical_face)[0])
    np.testing.assert_allclose(fronts[0], fronts[1], atol=1e-3)


def test_frontalize_inverts_the_pose_exactly(canonical_face):
    pose = Pose.from_euler(-35, 70, 100, scale=0.8, translation=[10, -20, 5])
    np.testing.assert_allclose(frontalize(pose.project(canonical_face), pose), canonical_face,
                               atol=1e-4)


def test_derotate_keeps_image_scale_and_placement(canonical_face):
    pose = Pose.from_euler(50, -20, 30, scale=2.0, translation=[300, 200, 10])
    front = derotate(pose.project(canonical_face), pose)
    np.testing.assert_allclose(front, 2.0 * canonical_face + pose.translation, atol=1e-3)
    # A front view keeps the canonical face's winding: all signed areas keep their sign.
    np.testing.assert_array_equal(np.sign(signed_areas(front)),
                                  np.sign(signed_areas(canonical_face)))


def test_align_to_canonical_returns_the_fitted_pose(canonical_face):
    truth = Pose.from_euler(12, 34, -56, scale=1.25, translation=[1, 2, 3])
    front, pose = align_to_canonical(truth.project(canonical_face), canonical_face)
    np.testing.assert_allclose(pose.rotation, truth.rotation, atol=1e-6)
    np.testing.assert_allclose(front, canonical_face, atol=1e-4)
