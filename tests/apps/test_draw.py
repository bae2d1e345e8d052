import numpy as np
import pytest

from facerecon.apps.draw import (
    HIDDEN_COLOR,
    VISIBLE_COLOR,
    depth_colormap,
    draw_overlay,
    pose_box_corners,
    uv_texture_sheet,
)
from facerecon.apps.pose import Pose
from facerecon.apps.texture import fill_hidden, uv_texture
from facerecon.errors import InvalidInputError


def ring_landmarks() -> np.ndarray:
    """68 points on a large circle (well apart, so each dot can be checked on its own)."""
    angle = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    return np.stack([200 + 150 * np.cos(angle), 200 + 150 * np.sin(angle),
                     np.zeros(68)], axis=1)


def test_overlay_styles_visible_and_hidden_landmarks():
    image = np.full((400, 400, 3), 30, np.uint8)
    image.setflags(write=False)
    marks = ring_landmarks()
    visibility = np.arange(68) % 2 == 0
    out = draw_overlay(image, marks, visibility, contours=False)
    assert out.shape == image.shape and out.dtype == np.uint8 and out is not image
    radius = 300 / 90  # extent / 90
    for (x, y, _), seen in zip(marks, visibility, strict=True):
        centre = out[int(round(y)), int(round(x))].astype(int)
        if seen:  # filled green dot
            assert np.abs(centre - VISIBLE_COLOR).max() < 40
        else:  # hollow orange ring: centre untouched, ring orange
            np.testing.assert_array_equal(centre, [30, 30, 30])
            ring = out[int(round(y)), int(round(x + radius))].astype(int)
            assert np.abs(ring - HIDDEN_COLOR).max() < 90
    assert np.all(image == 30)


def test_overlay_dense_points_and_pose_box():
    image = np.zeros((400, 400, 3), np.uint8)
    marks = ring_landmarks()
    dense = np.stack(np.meshgrid(np.arange(100, 300), np.arange(100, 300)), -1).reshape(-1, 2)
    out = draw_overlay(image, marks, None, dense, None, max_dense_points=1000, contours=False)
    coloured = np.any(out[120:280, 120:280] > 0, axis=2).sum()
    assert 500 <= coloured <= 1200  # subsampled to about 1000 points
    pose = Pose.from_euler(30, 10, 0, scale=1.0, translation=(200, 200, 0))
    boxed = draw_overlay(image, marks, None, None, pose, contours=False)
    corners = pose_box_corners(marks, pose)
    for x, y in corners[:, :2]:
        if 2 <= x < 398 and 2 <= y < 398:
            window = boxed[int(y) - 2:int(y) + 3, int(x) - 2:int(x) + 3]
            assert window.any()
    axes = draw_overlay(image, marks, None, None, pose, pose_style="axes", contours=False)
    assert (axes != boxed).any()


def test_pose_box_is_the_landmark_box_in_the_head_frame():
    pose = Pose.from_euler(40, -20, 10, scale=2.0, translation=(100, 120, 5))
    canonical = np.random.default_rng(0).uniform(-30, 30, size=(68, 3))
    observed = pose.project(canonical)
    corners = pose_box_corners(observed, pose)
    back = (corners - pose.translation) @ pose.rotation / pose.scale
    low, high = canonical.min(axis=0), canonical.max(axis=0)
    np.testing.assert_allclose(back[:, 0].min(), low[0], atol=1e-6)
    np.testing.assert_allclose(back[:, 0].max(), high[0], atol=1e-6)
    np.testing.assert_allclose(back[:4, 2], high[2], atol=1e-6)  # front face is nearest
    np.testing.assert_allclose(back[:, 1].max(), high[1], atol=1e-6)  # chin side
    assert back[:, 1].min() < low[1]  # extended above the brows


def test_overlay_errors():
    image = np.zeros((50, 50, 3), np.uint8)
    with pytest.raises(InvalidInputError, match="landmarks"):
        draw_overlay(image, np.zeros((5, 2)))
    with pytest.raises(InvalidInputError, match="visibility"):
        draw_overlay(image, ring_landmarks(), np.ones(68))
    with pytest.raises(InvalidInputError, match="pose"):
        draw_overlay(image, ring_landmarks(), pose="frontal")
    with pytest.raises(InvalidInputError, match="pose_style"):
        draw_overlay(image, ring_landmarks(), pose_style="cube")


def test_depth_colormap_near_red_far_blue_background_black():
    depth = np.zeros((10, 20), np.float32)
    depth[2:8, 2:10] = 5.0  # far
    depth[2:8, 10:18] = 50.0  # near
    picture = depth_colormap(depth)
    assert picture.shape == (10, 20, 3) and picture.dtype == np.uint8
    assert np.all(picture[0] == 0)
    far, near = picture[4, 5].astype(int), picture[4, 15].astype(int)
    assert far[2] > far[0] and near[0] > near[2]


def test_uv_texture_sheet(make_scene, topology):
    scene = make_scene(seed=5, yaw=45)
    sampled = uv_texture(scene.image, scene.posmap, topology)
    filled = fill_hidden(sampled.texture, sampled.visible, topology)
    sheet = uv_texture_sheet(sampled.texture, sampled.visible, topology, filled)
    assert sheet.shape == (256, 4 * 256, 3) and sheet.dtype == np.uint8
    visibility = sheet[:, 256:512, 0]
    assert set(np.unique(visibility[:240])) <= {0, 90, 255}
    np.testing.assert_array_equal(visibility[:240] == 255, sampled.visible[:240])
    assert uv_texture_sheet(sampled.texture, sampled.visible, topology).shape == (256, 768, 3)
