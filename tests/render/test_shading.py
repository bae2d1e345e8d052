import numpy as np
import pytest

from facerecon.errors import InvalidInputError
from facerecon.render.shading import render_colors, render_shaded, render_textured, vertex_normals


def hemisphere(radius=20.0, centre=(32.0, 24.0), steps=33, front=True):
    """Grid mesh of the half sphere facing the camera; front faces counter-clockwise as seen."""
    t = np.linspace(-1, 1, steps)
    u, v = np.meshgrid(t, t)
    z = radius * np.sqrt(np.clip(1 - u**2 - v**2, 0, None))
    vertices = np.stack([centre[0] + radius * u, centre[1] + radius * v, z], -1).reshape(-1, 3)
    idx = np.arange(steps * steps).reshape(steps, steps)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    tris = np.concatenate([np.stack([a, c, b], -1), np.stack([b, c, d], -1)]).reshape(-1, 3)
    keep = (u**2 + v**2 <= 1).reshape(-1)[tris].all(axis=1)
    tris = tris[keep]
    return vertices.astype(np.float32), tris if front else tris[:, [0, 2, 1]]


def test_hemisphere_triangles_face_the_camera_by_the_winding_rule():
    vertices, tris = hemisphere()
    p0, p1, p2 = (vertices[tris[:, i], :2] for i in range(3))
    cross = (p1[:, 0] - p0[:, 0]) * (p2[:, 1] - p0[:, 1]) - (p2[:, 0] - p0[:, 0]) * (
        p1[:, 1] - p0[:, 1]
    )
    assert np.all(cross < 0)  # facerecon.types: facing the camera


def test_render_colors_interpolates_and_keeps_the_background():
    vertices = np.array([[0, 0, 0], [4, 0, 0], [0, 4, 0]], np.float32)
    colors = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)
    image = np.full((6, 6, 3), 9, np.uint8)
    before = image.copy()
    rendered, mask = render_colors(vertices, [[0, 1, 2]], colors, image)
    np.testing.assert_array_equal(image, before)
    assert rendered.dtype == np.uint8 and rendered.shape == (6, 6, 3)
    rows, cols = np.mgrid[0:6, 0:6]
    np.testing.assert_array_equal(mask, rows + cols < 4)
    np.testing.assert_array_equal(rendered[1, 1], [64, 64, 0])  # 0.25 * 255 = 63.75
    np.testing.assert_array_equal(rendered[0, 2], [128, 0, 0])  # 0.5 * 255 = 127.5
    np.testing.assert_array_equal(rendered[~mask], 9)


def test_render_colors_draws_the_nearest_surface():
    far = [[0, 0, 1], [9, 0, 1], [0, 9, 1]]
    near = [[1, 1, 5], [9, 1, 5], [1, 9, 5]]
    vertices = np.array(near + far, np.float32)
    colors = np.array([[0, 0, 1]] * 3 + [[1, 0, 0]] * 3, np.float32)
    rendered, _ = render_colors(
        vertices, [[0, 1, 2], [3, 4, 5]], colors, np.zeros((10, 10, 3), np.uint8)
    )
    np.testing.assert_array_equal(rendered[2, 2], [0, 0, 255])
    np.testing.assert_array_equal(rendered[0, 0], [255, 0, 0])


def quad_over_texture(size, offset):
    """A square whose image pixel (r, c) lands exactly on texture pixel (r - off, c - off)."""
    lo, hi = offset - 0.5, offset + size - 0.5
    vertices = np.array([[lo, lo, 0], [hi, lo, 0], [hi, hi, 0], [lo, hi, 0]], np.float32)
    uvs = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)  # v up: image top is v = 1
    return vertices, np.array([[0, 3, 2], [0, 2, 1]]), uvs


def test_render_textured_reproduces_the_texture_pixel_for_pixel():
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    texture = np.ascontiguousarray(texture[:, :4])  # 4 x 4, a non-trivial copy
    vertices, triangles, uvs = quad_over_texture(4, offset=1)
    image = np.full((7, 7, 3), 3, np.uint8)
    rendered, mask = render_textured(vertices, triangles, uvs, texture, image)
    expected_mask = np.zeros((7, 7), bool)
    expected_mask[1:5, 1:5] = True
    np.testing.assert_array_equal(mask, expected_mask)
    np.testing.assert_array_equal(rendered[1:5, 1:5], texture)
    np.testing.assert_array_equal(rendered[~mask], 3)
    np.testing.assert_array_equal(image, 3)


def test_render_textured_is_bilinear_between_texels():
    texture = np.array([[[0, 0, 0], [200, 100, 50]]], np.uint8)  # 1 x 2
    # One triangle whose every pixel has u = 0.5 (between the two texel centres 0.25, 0.75).
    vertices = np.array([[0, 0, 0], [4, 0, 0], [0, 4, 0]], np.float32)
    uvs = np.array([[0.5, 0.5], [0.5, 0.2], [0.5, 0.9]], np.float32)
    rendered, mask = render_textured(
        vertices, [[0, 1, 2]], uvs, texture, np.zeros((5, 5, 3), np.uint8)
    )
    np.testing.assert_array_equal(rendered[mask], np.tile([100, 50, 25], (mask.sum(), 1)))
    # Outside [0, 1] the edge texel repeats.
    far_uvs = np.array([[3.0, 0.5]] * 3, np.float32)
    rendered, mask = render_textured(
        vertices, [[0, 1, 2]], far_uvs, texture, np.zeros((5, 5, 3), np.uint8)
    )
    np.testing.assert_array_equal(rendered[mask][0], [200, 100, 50])


def test_vertex_normals_of_a_hemisphere_point_out_and_to_the_camera():
    radius, centre = 20.0, np.array([32.0, 24.0, 0.0])
    vertices, triangles = hemisphere(radius, tuple(centre[:2]))
    normals = vertex_normals(vertices, triangles)
    used = np.zeros(len(vertices), bool)
    used[triangles] = True
    assert np.allclose(normals[~used], 0)
    radial = (vertices[used] - centre) / radius
    inner = np.linalg.norm(radial[:, :2], axis=1) < 0.8  # away from the cut rim
    cosines = np.sum(normals[used] * radial, axis=1)
    assert np.all(cosines[inner] > 0.99)
    assert np.all(normals[used][inner, 2] > 0.5)


def test_face_looking_at_the_camera_comes_out_lit():
    vertices, triangles = hemisphere()
    rendered, mask = render_shaded(vertices, triangles, 48, 64, ambient=0.1)
    assert rendered.dtype == np.uint8 and rendered.shape == (48, 64, 3)
    assert rendered[24, 32, 0] >= 250  # the centre faces the light at the camera
    assert np.all(rendered[~mask] == 0)
    # Inside-out (clockwise as seen) geometry gets only the ambient term.
    flipped, flipped_mask = render_shaded(*hemisphere(front=False), 48, 64, ambient=0.1)
    np.testing.assert_array_equal(flipped_mask, mask)
    assert np.all(flipped[mask] == np.rint(0.1 * 255))


def test_light_from_the_right_lights_the_right_side():
    vertices, triangles = hemisphere()
    rendered, _ = render_shaded(
        vertices, triangles, 48, 64, light_direction=(1, 0, 0.2), ambient=0.0, color=(0, 1, 0)
    )
    right, left = rendered[24, 32 + 15], rendered[24, 32 - 15]
    assert right[1] > 180 and left[1] == 0 and right[0] == 0 and right[2] == 0
    # Exact Lambert value at the centre: n = (0, 0, 1), l = (1, 0, 0.2) / |l|.
    assert rendered[24, 32, 1] == round(255 * 0.2 / np.hypot(1, 0.2))


@pytest.mark.parametrize(
    "call",
    [
        lambda v, t: render_colors(v, t, np.zeros((len(v), 3)), np.zeros((4, 4, 3))),  # float image
        lambda v, t: render_colors(v, t, np.full((len(v), 3), 2.0), np.zeros((4, 4, 3), np.uint8)),
        lambda v, t: render_colors(v, t, np.zeros((len(v), 4)), np.zeros((4, 4, 3), np.uint8)),
        lambda v, t: render_textured(
            v, t, np.zeros((len(v), 2)), np.zeros((4, 4)), np.zeros((4, 4, 3), np.uint8)
        ),
        lambda v, t: render_textured(
            v,
            t,
            np.full((len(v), 2), np.nan),
            np.zeros((4, 4, 3), np.uint8),
            np.zeros((4, 4, 3), np.uint8),
        ),
        lambda v, t: render_shaded(v, t, 4, 4, light_direction=(0, 0, 0)),
        lambda v, t: render_shaded(v, t, 4, 4, ambient=1.5),
        lambda v, t: render_shaded(v[:, :2], t, 4, 4),
        lambda v, t: vertex_normals(v, t + 10),
    ],
)
def test_invalid_inputs_raise(call):
    vertices = np.array([[0, 0, 0], [3, 0, 0], [0, 3, 0]], np.float32)
    with pytest.raises(InvalidInputError):
        call(vertices, np.array([[0, 1, 2]]))
