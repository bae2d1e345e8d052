import numpy as np
import pytest

from facerecon.errors import InvalidInputError
from facerecon.render.rasterize import Raster, rasterize, vertex_visibility


def reference_rasterize(vertices, triangles, height, width, attributes):
    """Brute force: every triangle against every pixel, float64, no shared tie rule needed
    (random float coordinates never put a pixel centre exactly on an edge)."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    depth = np.full((height, width), -np.inf, np.float32)
    index = np.full((height, width), -1, np.int32)
    bary = np.zeros((height, width, 3), np.float32)
    for t, (a, b, c) in enumerate(triangles):
        (x0, y0, z0), (x1, y1, z1), (x2, y2, z2) = vertices[[a, b, c]].astype(np.float64)
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        if area == 0:
            continue
        w1 = ((cols - x0) * (y2 - y0) - (x2 - x0) * (rows - y0)) / area
        w2 = ((x1 - x0) * (rows - y0) - (cols - x0) * (y1 - y0)) / area
        w0 = 1.0 - w1 - w2
        z = (w0 * z0 + w1 * z1 + w2 * z2).astype(np.float32)
        win = (w0 >= 0) & (w1 >= 0) & (w2 >= 0) & (z > depth)
        depth[win] = z[win]
        index[win] = t
        bary[win] = np.stack([w0, w1, w2], -1)[win]
    corners = attributes[np.asarray(triangles)[np.maximum(index, 0)]]  # (H, W, 3, C)
    interpolated = np.where((index >= 0)[..., None], (bary[..., None] * corners).sum(axis=2), 0)
    return depth, index, bary, interpolated


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_reference_on_random_meshes(seed):
    rng = np.random.default_rng(seed)
    height, width, n = 23, 31, 40
    vertices = np.column_stack(
        [rng.uniform(-6, width + 6, n), rng.uniform(-6, height + 6, n), rng.uniform(-50, 50, n)]
    ).astype(np.float32)
    triangles = rng.integers(0, n, size=(30, 3))  # both windings, some degenerate repeats
    attributes = rng.normal(size=(n, 4)).astype(np.float32)
    raster = rasterize(vertices, triangles, height, width, attributes)
    depth, index, bary, interpolated = reference_rasterize(
        vertices, triangles, height, width, attributes
    )
    assert (raster.triangle_index >= 0).sum() > 50  # the meshes actually cover something
    np.testing.assert_array_equal(raster.triangle_index, index)
    np.testing.assert_allclose(raster.depth, depth, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(raster.barycentric, bary, atol=1e-5)
    np.testing.assert_allclose(raster.attributes, interpolated, atol=1e-4)


def test_exact_single_triangle():
    # z = x + 2y on the triangle (0,0), (4,0), (0,4); attribute = (x, y).
    vertices = np.array([[0, 0, 0], [4, 0, 4], [0, 4, 8]], np.float32)
    raster = rasterize(vertices, [[0, 1, 2]], 6, 6, attributes=vertices[:, :2])
    rows, cols = np.mgrid[0:6, 0:6]
    # Top-left rule: the left (x=0) and top (y=0) edges are drawn, the hypotenuse is not.
    expected_mask = cols + rows < 4
    np.testing.assert_array_equal(raster.mask, expected_mask)
    assert raster.mask.sum() == 10
    np.testing.assert_array_equal(raster.depth[expected_mask], (cols + 2 * rows)[expected_mask])
    assert np.all(np.isneginf(raster.depth[~expected_mask]))
    np.testing.assert_array_equal(raster.triangle_index, np.where(expected_mask, 0, -1))
    np.testing.assert_allclose(raster.barycentric[1, 1], [0.5, 0.25, 0.25])
    np.testing.assert_allclose(raster.barycentric[0, 0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(raster.attributes[2, 1], [1.0, 2.0])
    np.testing.assert_array_equal(raster.attributes[~expected_mask], 0.0)
    np.testing.assert_array_equal(raster.barycentric[~expected_mask], 0.0)
    assert raster.depth.dtype == np.float32 and raster.triangle_index.dtype == np.int32
    assert raster.barycentric.shape == (6, 6, 3) and raster.attributes.shape == (6, 6, 2)


def test_winding_does_not_matter():
    vertices = np.array([[0.3, 0.2, 1], [7.6, 1.1, 2], [2.2, 6.7, 3]], np.float32)
    a = rasterize(vertices, [[0, 1, 2]], 8, 8)
    b = rasterize(vertices, [[0, 2, 1]], 8, 8)
    np.testing.assert_array_equal(a.mask, b.mask)
    np.testing.assert_array_equal(a.depth, b.depth)
    np.testing.assert_allclose(a.barycentric[..., [0, 2, 1]], b.barycentric, atol=1e-6)


@pytest.mark.parametrize("order", [[0, 1], [1, 0]])
def test_nearer_triangle_wins_whatever_the_order(order):
    far = [[0, 0, 1], [9, 0, 1], [0, 9, 1]]
    near = [[1, 1, 5], [9, 1, 5], [1, 9, 5]]
    vertices = np.array(far + near, np.float32)
    triangles = np.array([[0, 1, 2], [3, 4, 5]])[order]
    raster = rasterize(vertices, triangles, 10, 10)
    near_index = order.index(1)
    assert raster.triangle_index[2, 2] == near_index and raster.depth[2, 2] == 5
    assert raster.triangle_index[0, 0] == 1 - near_index and raster.depth[0, 0] == 1


def grid_mesh(cells, origin, spacing, jitter, rng, flip_some):
    n = cells + 1
    r, c = np.mgrid[0:n, 0:n].astype(np.float64)
    x = origin + spacing * c
    y = origin + spacing * r
    interior = (r > 0) & (r < cells) & (c > 0) & (c < cells)
    x[interior] += rng.uniform(-jitter, jitter, interior.sum())
    y[interior] += rng.uniform(-jitter, jitter, interior.sum())
    vertices = np.stack([x, y, rng.uniform(0, 1, x.shape)], -1).reshape(-1, 3).astype(np.float32)
    idx = np.arange(n * n).reshape(n, n)
    a, b, cc, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    triangles = np.concatenate([np.stack([a, cc, b], -1), np.stack([b, cc, d], -1)]).reshape(-1, 3)
    if flip_some:
        flip = rng.random(len(triangles)) < 0.5
        triangles[flip] = triangles[flip][:, [0, 2, 1]]
    return vertices, triangles


@pytest.mark.parametrize(
    ("origin", "spacing", "jitter", "flip_some"),
    [(2.5, 2.0, 0.0, False), (2.0, 2.0, 0.0, True), (2.0, 1.0, 0.0, False), (2.5, 2.0, 0.6, True)],
)
def test_grid_mesh_covers_every_pixel_exactly_once(origin, spacing, jitter, flip_some):
    rng = np.random.default_rng(7)
    cells = 8
    vertices, triangles = grid_mesh(cells, origin, spacing, jitter, rng, flip_some)
    size = 24
    coverage = np.zeros((size, size), int)
    for triangle in triangles:  # one triangle at a time, to see double coverage
        coverage += rasterize(vertices, triangle[None], size, size).mask
    rows, cols = np.mgrid[0:size, 0:size]
    end = origin + spacing * cells
    # Top-left rule on the outer square: left and top edges in, right and bottom out.
    expected = (cols >= origin) & (cols < end) & (rows >= origin) & (rows < end)
    np.testing.assert_array_equal(coverage, expected.astype(int))
    # And the whole mesh at once draws the same pixels.
    np.testing.assert_array_equal(rasterize(vertices, triangles, size, size).mask, expected)


def test_vertex_behind_a_quad_is_hidden():
    quad = [[2, 2, 10], [12, 2, 10], [12, 12, 10], [2, 12, 10]]
    probes = [[6.3, 7.2, 0], [6.3, 7.2, 20], [14.0, 14.0, 0], [40, 5, 50], [7, -3, 50]]
    vertices = np.array(quad + probes, np.float32)
    raster = rasterize(vertices, [[0, 1, 2], [0, 2, 3]], 16, 16)
    visible = vertex_visibility(vertices, raster)
    # Quad corners visible; behind hidden; in front visible; beside visible; outside not.
    np.testing.assert_array_equal(visible, [True] * 4 + [False, True, True, False, False])
    # Tolerance is the slack in z.
    assert vertex_visibility(vertices, raster, tolerance=10.5)[4]


def test_visibility_follows_a_steep_surface():
    # A slope of 20 z-pixels per x-pixel: comparing with the nearest pixel centre would hide
    # vertices of the surface itself. (Silhouette vertices of so steep a surface, whose
    # pixels on one side are empty, may come out hidden: see the docstring.)
    r, c = np.mgrid[0:6, 0:6].astype(np.float32)
    x = 3.3 + c * 1.7
    y = 2.6 + r * 1.9
    vertices = np.stack([x, y, 20 * x], -1).reshape(-1, 3)
    idx = np.arange(36).reshape(6, 6)
    a, b, cc, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    triangles = np.concatenate([np.stack([a, cc, b], -1), np.stack([b, cc, d], -1)]).reshape(-1, 3)
    raster = rasterize(vertices, triangles, 20, 20)
    interior = ((r > 0) & (r < 5) & (c > 0) & (c < 5)).reshape(-1)
    assert vertex_visibility(vertices, raster, tolerance=0.01)[interior].all()


@pytest.mark.parametrize(
    ("vertices", "triangles", "height", "width", "attributes"),
    [
        (np.zeros((3, 2)), [[0, 1, 2]], 4, 4, None),  # not xyz
        (np.zeros(9), [[0, 1, 2]], 4, 4, None),  # flat
        (np.array([[0, 0, np.nan]] * 3), [[0, 1, 2]], 4, 4, None),
        (np.array([[0, 0, np.inf]] * 3), [[0, 1, 2]], 4, 4, None),
        (np.array([["a", "b", "c"]] * 3), [[0, 1, 2]], 4, 4, None),
        (np.zeros((3, 3)), [[0.0, 1.0, 2.0]], 4, 4, None),  # float indices
        (np.zeros((3, 3)), [[0, 1]], 4, 4, None),
        (np.zeros((3, 3)), [[0, 1, 3]], 4, 4, None),  # out of range
        (np.zeros((3, 3)), [[0, 1, -1]], 4, 4, None),
        (np.zeros((3, 3)), [[0, 1, 2]], 0, 4, None),
        (np.zeros((3, 3)), [[0, 1, 2]], 4, 2.5, None),
        (np.zeros((3, 3)), [[0, 1, 2]], True, 4, None),
        (np.zeros((3, 3)), [[0, 1, 2]], 4, 4, np.zeros((2, 1))),  # wrong row count
        (np.zeros((3, 3)), [[0, 1, 2]], 4, 4, np.zeros(3)),
        (np.zeros((3, 3)), [[0, 1, 2]], 4, 4, np.full((3, 1), np.nan)),
    ],
)
def test_invalid_inputs_raise(vertices, triangles, height, width, attributes):
    with pytest.raises(InvalidInputError):
        rasterize(vertices, triangles, height, width, attributes)


def test_visibility_validates_inputs():
    vertices = np.zeros((3, 3), np.float32)
    raster = rasterize(vertices, [[0, 1, 2]], 4, 4)
    with pytest.raises(InvalidInputError):
        vertex_visibility(vertices[:, :2], raster)
    with pytest.raises(InvalidInputError):
        vertex_visibility(vertices, raster.depth)
    with pytest.raises(InvalidInputError):
        vertex_visibility(vertices, raster, tolerance=-1)


def test_inputs_are_not_mutated_and_may_be_read_only():
    rng = np.random.default_rng(3)
    vertices = rng.uniform(0, 10, (12, 3)).astype(np.float64)
    triangles = rng.integers(0, 12, (10, 3)).astype(np.int32)
    attributes = rng.normal(size=(12, 2))
    copies = [vertices.copy(), triangles.copy(), attributes.copy()]
    for array in (vertices, triangles, attributes):
        array.setflags(write=False)
    raster = rasterize(vertices, triangles, 10, 10, attributes)
    vertex_visibility(vertices, raster)
    for array, copy in zip((vertices, triangles, attributes), copies, strict=True):
        np.testing.assert_array_equal(array, copy)
    assert isinstance(raster, Raster)


def test_empty_mesh_and_integer_vertices():
    raster = rasterize(np.zeros((0, 3)), np.zeros((0, 3), int), 3, 5)
    assert raster.depth.shape == (3, 5) and not raster.mask.any() and raster.attributes is None
    ints = rasterize(np.array([[0, 0, 1], [4, 0, 1], [0, 4, 1]]), [[0, 1, 2]], 5, 5)
    assert ints.mask.sum() == 10


def test_huge_triangle_far_outside_covers_the_whole_image():
    vertices = np.array([[-1e20, -1e20, 3], [1e21, -1e20, 3], [-1e20, 1e21, 3]])
    raster = rasterize(vertices, [[0, 1, 2]], 5, 7)
    assert raster.mask.all()
    np.testing.assert_allclose(raster.depth, 3.0)
    off_image = rasterize(vertices + [0, 1e22, 0], [[0, 1, 2]], 5, 7)
    assert not off_image.mask.any()
