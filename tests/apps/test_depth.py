import numpy as np
import pytest

from facerecon.apps.depth import depth_image, depth_to_uint8
from facerecon.errors import InvalidInputError


def hemisphere(radius=20.0, centre=(32.0, 24.0), steps=24):
    """A grid mesh of the visible half of a sphere, facing the camera (z up to `radius`)."""
    t = np.linspace(-1, 1, steps)
    u, v = np.meshgrid(t, t)
    inside = u**2 + v**2 <= 1
    x = centre[0] + radius * u
    y = centre[1] + radius * v
    z = radius * np.sqrt(np.clip(1 - u**2 - v**2, 0, None))
    vertices = np.stack([x, y, z], -1).reshape(-1, 3).astype(np.float32)
    idx = np.arange(steps * steps).reshape(steps, steps)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    tris = np.concatenate([np.stack([a, c, b], -1), np.stack([b, c, d], -1)]).reshape(-1, 3)
    keep = inside.reshape(-1)[tris].all(axis=1)
    return vertices, tris[keep]


def test_depth_of_a_plane_is_exact():
    # z = 3 + 0.5 x - 0.25 y on a square from (2, 2) to (10, 10).
    corners = np.array([[2, 2], [10, 2], [10, 10], [2, 10]], np.float32)
    z = 3 + 0.5 * corners[:, 0] - 0.25 * corners[:, 1]
    vertices = np.column_stack([corners, z])
    depth = depth_image(vertices, [[0, 1, 2], [0, 2, 3]], 12, 14)
    assert depth.shape == (12, 14) and depth.dtype == np.float32
    rows, cols = np.mgrid[0:12, 0:14]
    inside = (cols >= 2) & (cols < 10) & (rows >= 2) & (rows < 10)
    np.testing.assert_allclose(depth[inside], (3 + 0.5 * cols - 0.25 * rows)[inside], atol=1e-5)
    np.testing.assert_array_equal(depth[~inside], 0.0)


def test_hemisphere_depth_and_background_choice():
    vertices, triangles = hemisphere()
    depth = depth_image(vertices, triangles, 48, 64, background=np.nan)
    face = np.isfinite(depth)
    # Nearest point at the centre, about the radius; all face depths within [0, radius].
    assert depth[24, 32] == pytest.approx(20.0, abs=0.3)
    assert np.nanmin(depth) >= 0 and np.nanmax(depth) <= 20.0 + 1e-4
    assert 0.8 * np.pi * 20**2 < face.sum() < np.pi * 20**2
    assert not face[0, 0] and not face[24, 55]
    zero_background = depth_image(vertices, triangles, 48, 64)
    np.testing.assert_array_equal(zero_background[face], depth[face])
    np.testing.assert_array_equal(zero_background[~face], 0.0)


def test_depth_to_uint8_maps_near_to_bright():
    depth = np.array([[0.0, 2.0], [4.0, 6.0]], np.float32)
    np.testing.assert_array_equal(depth_to_uint8(depth), [[0, 1], [128, 255]])
    with_nan = np.array([[np.nan, -3.0], [5.0, 5.0]])
    np.testing.assert_array_equal(depth_to_uint8(with_nan), [[0, 1], [255, 255]])
    mask = np.array([[True, True], [False, False]])
    np.testing.assert_array_equal(depth_to_uint8(depth, mask), [[1, 255], [0, 0]])
    np.testing.assert_array_equal(depth_to_uint8(np.zeros((2, 3))), np.zeros((2, 3)))
    np.testing.assert_array_equal(depth_to_uint8(np.full((1, 2), 7.0)), [[255, 255]])


def test_depth_validation_and_no_mutation():
    vertices, triangles = hemisphere(steps=6)
    before = vertices.copy()
    depth_image(vertices, triangles, 48, 64)
    np.testing.assert_array_equal(vertices, before)
    with pytest.raises(InvalidInputError):
        depth_image(vertices[:, :2], triangles, 48, 64)
    with pytest.raises(InvalidInputError):
        depth_image(vertices, triangles, 48, 64, background="far")
    with pytest.raises(InvalidInputError):
        depth_to_uint8(np.zeros((2, 2, 3)))
    with pytest.raises(InvalidInputError):
        depth_to_uint8(np.zeros((2, 2)), mask=np.ones((2, 2), int))
    with pytest.raises(InvalidInputError):
        depth_to_uint8(np.full((2, 2), np.inf), mask=np.ones((2, 2), bool))
