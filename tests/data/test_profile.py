"""Large-pose synthesis: a turned view of a known synthetic scene carries exactly the turned
face in its position map and landmarks, with the hidden side marked and no mirroring."""

from __future__ import annotations

import numpy as np
import pytest

from facerecon.apps.pose import estimate_pose, rotation_from_euler
from facerecon.crop import crop_from_landmarks
from facerecon.data.groundtruth import fit_photo
from facerecon.data.profile import build_scene, fill_hidden_texture, render_view, view_targets
from facerecon.posmap import decode, encode
from facerecon.topology import load_topology


@pytest.fixture(scope="module")
def scene_and_photo(ict_model, ict_fitter, synthetic_photo):
    image, truth, _ = synthetic_photo(ict_model, yaw=10.0, pitch=5.0, roll=4.0)
    photo = fit_photo(image, truth[ict_model.landmark_indices], ict_fitter, ict_model)
    return build_scene(photo, load_topology(256)), photo


def _rodrigues(axis_angle: np.ndarray) -> np.ndarray:
    angle = np.linalg.norm(axis_angle)
    k = axis_angle / angle
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross


@pytest.mark.parametrize(("yaw", "pitch"), [(75.0, 0.0), (-60.0, 20.0), (30.0, -25.0)])
def test_turned_view_matches_the_turned_truth(scene_and_photo, yaw, pitch):
    scene, photo = scene_and_photo
    topology = load_topology(128)
    view = render_view(scene, yaw, pitch, topology, 256)
    # Independent truth: the head turn Q = R_target R_photo^T (built from its axis-angle
    # form) about the scene's centre, then the landmark crop of the turned landmarks.
    target = rotation_from_euler(yaw, pitch, photo.fit.pose.roll)
    turn = target @ photo.fit.pose.rotation.T
    angle = np.arccos(np.clip((np.trace(turn) - 1) / 2, -1, 1))
    axis = np.array([turn[2, 1] - turn[1, 2], turn[0, 2] - turn[2, 0], turn[1, 0] - turn[0, 1]])
    rotation = _rodrigues(axis / np.linalg.norm(axis) * angle)
    turned = (scene.region_vertices - scene.centre) @ rotation.T + scene.centre
    crop = crop_from_landmarks(turned[topology.landmark_vertices, :2], 256)
    expected = crop.to_crop(turned)
    np.testing.assert_allclose(view.landmarks, expected[topology.landmark_vertices], atol=2e-3)
    np.testing.assert_allclose(view.posmap, encode(expected, topology), atol=2e-3)
    # The position map's own pose is the target (dense vertices against the canonical face).
    decoded = decode(view.posmap, topology)
    canonical = decode(topology.canonical_posmap, topology)
    pose = estimate_pose(decoded.vertices, canonical.vertices)
    assert abs(pose.yaw - yaw) < 4.0 and abs(view.yaw - yaw) < 1e-6
    # Not mirrored: yaw > 0 puts the nose tip (30) right of the outer eye corners' midpoint.
    middle = (view.landmarks[36, 0] + view.landmarks[45, 0]) / 2
    assert np.sign(view.landmarks[30, 0] - middle) == np.sign(yaw)
    # The turned-away jaw side is hidden, the near side shown.
    far, near = (slice(11, 17), slice(0, 6)) if yaw > 0 else (slice(0, 6), slice(11, 17))
    if abs(yaw) >= 60:
        assert not view.visible[far].any() and view.visible[near].all()
    # The face is drawn (no black holes on it): every pixel inside the visible landmarks'
    # hull of the inner face is coloured.
    inner = view.landmarks[17:68][view.visible[17:68], :2]
    low, high = np.ceil(inner.min(0)).astype(int), np.floor(inner.max(0)).astype(int)
    patch = view.image[low[1]:high[1], low[0]:high[0]]
    assert (patch.max(axis=2) > 0).mean() > 0.99


def test_hidden_texels_take_their_mirror_image():
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    mask = np.ones((16, 16), bool)
    confidence = np.ones((16, 16), np.float32)
    confidence[:, 10:] = 0.0  # the right columns are hidden in the photo
    filled = fill_hidden_texture(texture, confidence, mask)
    np.testing.assert_array_equal(filled[:, 10:], texture[:, ::-1][:, 10:])
    np.testing.assert_array_equal(filled[:, :10], texture[:, :10])
    both_hidden = np.zeros((16, 16), np.float32)
    assert filled.shape == fill_hidden_texture(texture, both_hidden, mask).shape


def test_view_targets_are_seeded_distinct_and_bounded():
    first = view_targets(np.random.default_rng(3), 20.0, 5.0, 4)
    assert first == view_targets(np.random.default_rng(3), 20.0, 5.0, 4)
    yaws = [yaw for yaw, _ in first]
    assert len(set(yaws)) == 4
    assert all(-90 <= y <= 90 and 7.5 <= abs(y - 20) <= 90 and y % 15 == 0 for y in yaws)
    assert all(-45 <= p <= 45 for _, p in first)


def test_view_targets_pitch_spread_and_limit():
    rng = np.random.default_rng(0)
    pitches = [p for _ in range(200) for _, p in view_targets(rng, 0.0, 10.0, 4, pitch_spread=40.0,
                                                              pitch_limit=45.0)]
    assert min(pitches) < -25 and max(pitches) == 45.0  # 10 + 40 clipped at the limit
    assert all(-45 <= p <= 45 for p in pitches)
    narrow = [p for _, p in view_targets(np.random.default_rng(1), 0.0, -5.0, 8,
                                         pitch_spread=20.0, pitch_limit=30.0)]
    assert all(-25 <= p <= 15 for p in narrow)
    beyond = view_targets(np.random.default_rng(2), 0.0, 60.0, 4, pitch_limit=45.0)
    assert all(p <= 60.0 for _, p in beyond)  # a photo beyond the limit keeps its own pitch


def test_view_targets_pitch_shift_moves_the_draw_and_keeps_the_yaws():
    plain = view_targets(np.random.default_rng(3), 0.0, -5.0, 4, pitch_limit=90.0)
    shifted = view_targets(np.random.default_rng(3), 0.0, -5.0, 4, pitch_limit=90.0,
                           pitch_shift=6.0)
    assert [y for y, _ in shifted] == [y for y, _ in plain]
    assert np.allclose([p for _, p in shifted], [p + 6.0 for _, p in plain])
    rng = np.random.default_rng(4)
    up = [p for _ in range(300) for _, p in view_targets(rng, 0.0, 0.0, 4, pitch_shift=10.0)]
    assert -30.0 <= min(up) < -25.0 and max(up) == 45.0  # 0 + 10 + U(-40, 40) within +-45
