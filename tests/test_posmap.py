import numpy as np
import pytest

from facerecon.data.synthetic import random_posed_ict_face
from facerecon.errors import InvalidInputError
from facerecon.morphable.ict import load_ict
from facerecon.posmap import DecodedPosmap, decode, decode_landmarks, encode
from facerecon.topology import load_topology

RESOLUTION = 256


@pytest.fixture(scope="module")
def topology():
    return load_topology(RESOLUTION)


@pytest.fixture(scope="module")
def ict_model(ict_dir):
    return load_ict(ict_dir)


def exact_surface_points(model, topology, vertices) -> np.ndarray:
    """Surface points of the valid pixels, computed from the mesh and the UV layout alone.

    Every valid pixel centre (c, r) is located in its ICT triangle's UV-pixel corners and the
    barycentric weights are solved in float64, independently of the stored weights.
    """
    from facerecon.topology.layout import build_layout

    layout = build_layout(model, topology.resolution)
    row_of = np.full(len(model.triangles), -1)
    row_of[layout.kept_triangles] = np.arange(layout.kept_triangles.size)
    triangles = topology.pixel_triangle.reshape(-1)[topology.valid_indices]
    corners = layout.corner_pixels[row_of[triangles]]  # (N, 3, 2)
    centres = np.stack([topology.valid_indices % topology.resolution,
                        topology.valid_indices // topology.resolution], axis=1).astype(float)
    edges = np.stack([corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]], axis=2)
    w12 = np.linalg.solve(edges, (centres - corners[:, 0])[..., None])[..., 0]
    weights = np.column_stack([1 - w12.sum(axis=1), w12])
    assert weights.min() > -1e-6  # every pixel centre lies in its triangle
    return np.einsum("nk,nkc->nc", weights, vertices.astype(np.float64)[model.triangles[triangles]])


def test_round_trip_on_random_faces_and_poses(ict_model, topology, rng):
    landmark_errors = []
    for _ in range(6):
        posed = random_posed_ict_face(ict_model, topology, rng)
        decoded = decode(encode(posed, topology), topology)
        exact = exact_surface_points(ict_model, topology, posed)
        assert np.abs(decoded.vertices - exact).max() < 0.05
        landmark_errors.append(np.linalg.norm(
            decoded.landmarks - posed[ict_model.landmark_indices], axis=1))
    landmark_errors = np.concatenate(landmark_errors)
    # The fitted lookup is not exact; measured at 256 over 50 random faces: mean 0.02,
    # 95th percentile 0.06, max 0.19 px (docs/topology.md).
    assert landmark_errors.mean() < 0.05
    assert landmark_errors.max() < 0.4


def test_encode_of_canonical_face_is_the_canonical_posmap(topology):
    posmap = encode(topology.canonical_vertices, topology)
    np.testing.assert_allclose(posmap, topology.canonical_posmap, atol=1e-5)
    assert not posmap[~topology.uv_mask].any()


def test_batches_match_single_maps(topology, rng):
    vertices = topology.canonical_vertices + rng.normal(
        scale=2.0, size=(3, topology.region_vertex_count, 3)).astype(np.float32)
    batch = encode(vertices, topology)
    assert batch.shape == (3, RESOLUTION, RESOLUTION, 3)
    decoded = decode(batch, topology)
    assert decoded.vertices.shape == (3, topology.vertex_count, 3)
    assert decoded.landmarks.shape == (3, 68, 3)
    single = decode(encode(vertices[1], topology), topology)
    np.testing.assert_allclose(decoded.vertices[1], single.vertices, atol=1e-5)
    np.testing.assert_allclose(decoded.landmarks[1], single.landmarks, atol=1e-5)


def test_landmarks_alone_are_the_decoded_landmarks(topology, rng):
    vertices = topology.canonical_vertices + rng.normal(
        scale=2.0, size=(2, topology.region_vertex_count, 3)).astype(np.float32)
    batch = encode(vertices, topology)
    landmarks = decode_landmarks(batch, topology)
    assert landmarks.shape == (2, 68, 3) and landmarks.dtype == np.float32
    np.testing.assert_array_equal(landmarks, decode(batch, topology).landmarks)
    np.testing.assert_array_equal(decode_landmarks(batch[1], topology), landmarks[1])
    # only the landmarks' sample pixels are read: NaN elsewhere on the face is not an error
    holed = batch[0].copy()
    pixels = np.setdiff1d(topology.valid_indices, topology.landmark_sample_index.ravel())
    holed.reshape(-1, 3)[pixels[:10]] = np.nan
    np.testing.assert_array_equal(decode_landmarks(holed, topology), landmarks[0])
    holed.reshape(-1, 3)[topology.landmark_sample_index[30, 0]] = np.nan
    with pytest.raises(InvalidInputError, match="landmarks"):
        decode_landmarks(holed, topology)
    with pytest.raises(InvalidInputError, match=r"256, 256, 3\).*got"):
        decode_landmarks(np.zeros((128, 128, 3), np.float32), topology)


def test_codec_does_not_touch_inputs(topology):
    vertices = topology.canonical_vertices.copy()
    posmap = encode(vertices, topology)
    before = posmap.copy()
    decoded = decode(posmap, topology)
    assert isinstance(decoded, DecodedPosmap)
    np.testing.assert_array_equal(vertices, topology.canonical_vertices)
    np.testing.assert_array_equal(posmap, before)


@pytest.mark.parametrize("shape", [(128, 128, 3), (256, 256), (256, 256, 4), (2, 1, 256, 256, 3)])
def test_decode_rejects_other_shapes_naming_them(topology, shape):
    with pytest.raises(InvalidInputError, match=r"256, 256, 3\).*got"):
        decode(np.zeros(shape, np.float32), topology)


def test_encode_rejects_wrong_vertex_count_and_nan(topology):
    with pytest.raises(InvalidInputError, match="9409"):
        encode(np.zeros((100, 3)), topology)
    bad = topology.canonical_vertices.copy()
    bad[5, 0] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        encode(bad, topology)


def test_smooth_keeps_affine_maps_exactly_and_never_reads_the_outside():
    from facerecon.posmap import smooth

    small = load_topology(128)
    mask = small.uv_mask
    rows, cols = np.mgrid[0:128, 0:128].astype(np.float32)
    affine = np.stack([cols + 3, 2 * rows - cols, 0.5 * cols - rows + 40], axis=-1)
    affine[~mask] = np.nan  # outside the face: neither read nor written
    out = smooth(affine, small, 1.5)
    np.testing.assert_allclose(out[mask], affine[mask], atol=1e-3)  # border and seams too
    assert np.isnan(out[~mask]).all()
    unchanged = smooth(affine, small, 0)
    np.testing.assert_array_equal(unchanged[mask], affine[mask])
    assert unchanged is not affine


def test_smooth_does_not_average_across_the_eyelid_seam():
    from facerecon.posmap import smooth, smoothing_edges

    small = load_topology(128)
    down, right = smoothing_edges(small)
    inside_pairs = small.uv_mask[:-1] & small.uv_mask[1:]
    cut_rows = np.nonzero(inside_pairs & ~down)[0]
    assert 45 in cut_rows  # the lid seam, rows 45/46 of the 128 layout
    exact = small.canonical_posmap
    before = decode(exact, small).landmarks
    for sigma in (0.75, 1.0):  # the shipped model's, and v5's
        after = decode(smooth(exact, small, sigma), small).landmarks
        for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
            opening = np.linalg.norm(before[upper] - before[lower])
            gap = np.linalg.norm(after[upper] - after[lower])
            assert abs(gap - opening) < 0.3, (sigma, upper, lower)
        # the landmarks of an exact map move by less than 1 px in all
        assert np.abs(after - before).max() < 1.0, sigma


def test_smooth_removes_pixel_noise_and_treats_a_batch_map_by_map():
    from facerecon.evaluate.surface import normal_error_deg
    from facerecon.posmap import smooth

    small = load_topology(128)
    clean = small.canonical_posmap
    rng = np.random.default_rng(0)
    noisy = clean + rng.normal(0, 0.5, clean.shape).astype(np.float32) * small.uv_mask[..., None]
    smoothed = smooth(noisy, small, 1.0)
    before = normal_error_deg(noisy, clean, small.uv_mask)
    after = normal_error_deg(smoothed, clean, small.uv_mask)
    assert after < 0.5 * before, (before, after)
    batch = smooth(np.stack([noisy, clean]), small, 1.0)
    np.testing.assert_allclose(batch[0], smoothed, atol=1e-5)
    np.testing.assert_allclose(batch[1], smooth(clean, small, 1.0), atol=1e-5)


@pytest.mark.parametrize("sigma", [-1.0, float("nan"), float("inf")])
def test_smooth_rejects_bad_sigmas_and_shapes(sigma):
    from facerecon.posmap import smooth

    small = load_topology(128)
    with pytest.raises(InvalidInputError, match="sigma"):
        smooth(small.canonical_posmap, small, sigma)
    with pytest.raises(InvalidInputError, match="shape"):
        smooth(np.zeros((64, 64, 3)), small, 1.0)
