import numpy as np
import pytest

from facerecon.crop import LANDMARK_CROP_PARAMS
from facerecon.errors import DataNotFoundError
from facerecon.morphable.ict import load_ict
from facerecon.posmap import decode, encode
from facerecon.topology import UVTopology, load_topology
from facerecon.topology.build import write_topology
from facerecon.topology.landmark_lookup import bilinear_lookup
from facerecon.topology.layout import grid_triangles
from facerecon.topology.uv_topology import topology_path

# Valid pixels of the packaged maps, as built (PRN's own 256 layout uses ~43.9k of 65.5k).
VALID_PIXELS = {256: 57879, 128: 14159, 64: 3362}


def signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    p0, p1, p2 = (points[triangles[:, k]] for k in range(3))
    return (p1[:, 0] - p0[:, 0]) * (p2[:, 1] - p0[:, 1]) - (p2[:, 0] - p0[:, 0]) * (
        p1[:, 1] - p0[:, 1])


@pytest.fixture(scope="module", params=[256, 128, 64])
def topology(request) -> UVTopology:
    return load_topology(request.param)


def test_coverage_and_consistent_arrays(topology):
    size = topology.resolution
    assert topology.vertex_count == VALID_PIXELS[size] == topology.metadata["valid_pixels"]
    assert 0.8 < topology.vertex_count / size**2 < 0.92
    assert np.array_equal(topology.uv_mask, topology.pixel_triangle >= 0)
    assert np.flatnonzero(topology.uv_mask).tolist() == topology.valid_indices.tolist()
    weights = topology.pixel_barycentric[topology.uv_mask]
    assert weights.min() >= -1e-6 and np.allclose(weights.sum(axis=1), 1, atol=1e-6)
    assert not topology.pixel_barycentric[~topology.uv_mask].any()
    assert topology.region_vertex_count == 9409
    assert topology.pixel_triangle.max() < len(topology.region_triangles)
    assert topology.triangles.max() == topology.vertex_count - 1
    assert "facerecon assets build" in topology.metadata["command"]


def test_arrays_are_read_only(topology):
    with pytest.raises(ValueError):
        topology.uv_mask[0, 0] = True
    with pytest.raises(ValueError):
        topology.region_masks["face"][0, 0] = True


def test_canonical_grid_mesh_faces_the_viewer_and_is_not_mirrored(topology):
    decoded = decode(topology.canonical_posmap, topology)
    areas = signed_areas(decoded.vertices, topology.triangles)
    # Camera-facing triangles have negative signed area in the y-down image frame. The rest
    # are real folds seen from behind in a frontal view: nostrils, lip and ear backs, the
    # neck behind the jaw (measured 8.0 % at 256).
    assert (areas < 0).mean() > 0.9
    # Outward normal in the right-handed frame (x, -y, z) points to the viewer (+z).
    right_handed = decoded.vertices * np.array([1, -1, 1], np.float32)
    p0, p1, p2 = (right_handed[topology.triangles[:, k]] for k in range(3))
    normal = np.cross(p1 - p0, p2 - p0).sum(axis=0)
    assert normal[2] / np.linalg.norm(normal) > 0.99
    landmarks = decoded.landmarks
    assert landmarks[36:42, 0].max() < landmarks[42:48, 0].min()  # subject's right eye: left
    assert landmarks[19, 1] < landmarks[30, 1] < landmarks[8, 1]  # brow above nose above chin
    assert landmarks[30, 2] > landmarks[0, 2]  # nose tip nearer than the jaw end


def test_canonical_face_sits_in_the_crop(topology):
    """The canonical face is placed by the pipeline's 68-point crop recipe, so the whole
    map (forehead included) lies inside the crop."""
    size = topology.resolution
    decoded = decode(topology.canonical_posmap, topology)
    params = LANDMARK_CROP_PARAMS[68]
    box = np.ptp(decoded.landmarks[:, :2], axis=0)
    np.testing.assert_allclose(box.mean() * params.scale, size, rtol=0.01)
    low, high = decoded.landmarks[:, :2].min(axis=0), decoded.landmarks[:, :2].max(axis=0)
    expected = np.array([(size - 1) / 2, (size - 1) / 2 - params.center_shift * box.mean()])
    np.testing.assert_allclose((low + high) / 2, expected, atol=0.02 * size)
    points = topology.canonical_posmap[topology.uv_mask]
    assert points[:, :2].min() >= 0 and points[:, :2].max() <= size - 1


def test_region_masks_hold_their_landmarks(topology):
    masks = topology.region_masks
    assert set(masks) == {"face", "eye_right", "eye_left", "nose", "mouth", "outer"}
    for name, mask in masks.items():
        assert mask.any(), name
        assert not (mask & ~topology.uv_mask).any(), name
    cols, rows = topology.landmark_pixels.T
    for name, indices in [("eye_right", range(36, 42)), ("eye_left", range(42, 48)),
                          ("nose", range(27, 36)), ("mouth", range(48, 60)),
                          ("face", range(17, 68))]:
        idx = list(indices)
        assert masks[name][rows[idx], cols[idx]].all(), name
    assert not (masks["face"] & masks["outer"]).any()
    assert not (masks["eye_right"] & masks["eye_left"]).any()
    # The subject's right eye lies on the left of the map (a frontal face, the right way up).
    assert np.nonzero(masks["eye_right"])[1].mean() < np.nonzero(masks["eye_left"])[1].mean()
    assert np.nonzero(masks["nose"])[0].mean() < np.nonzero(masks["mouth"])[0].mean()


def test_weight_mask_follows_prn_ratio(topology):
    weights = topology.weight_mask
    assert set(np.unique(weights).tolist()) == {0.0, 1.0, 3.0, 4.0, 16.0}
    assert not weights[~topology.uv_mask].any()
    cols, rows = topology.landmark_pixels.T
    assert (weights[rows, cols] == 16).all()
    assert (weights == 16).sum() <= 4 * 68
    masks = topology.region_masks
    assert (weights[masks["outer"]] <= 16).all() and (weights[masks["outer"]] != 3).all()
    assert (weights[masks["nose"]] >= 4).all()


def test_landmarks_decode_onto_ict_landmark_vertices(topology, ict_dir):
    model = load_ict(ict_dir)
    from facerecon.topology.build import canonical_vertices

    vertices = canonical_vertices(model, topology.resolution)
    np.testing.assert_array_equal(vertices, topology.canonical_vertices)
    decoded = decode(encode(vertices, topology), topology)
    truth = vertices[model.landmark_indices]
    error_2d = np.linalg.norm(decoded.landmarks[:, :2] - truth[:, :2], axis=1)
    # measured (fitted lookup): max 0.05 px at 256, in pixels of a crop of that size
    assert error_2d.max() < 0.5
    assert np.array_equal(topology.landmark_vertices, model.landmark_indices)


def test_rebuild_gives_the_packaged_arrays(ict_dir):
    from facerecon.topology.build import build_command, build_topology

    arrays = build_topology(load_ict(ict_dir), 128, command=build_command(128))
    with np.load(topology_path(128)) as packaged:
        assert sorted(packaged.files) == sorted(arrays)
        for name in packaged.files:
            if name == "landmark_lookup_weight":
                # a least-squares fit: other BLAS builds may differ in the last bits
                np.testing.assert_allclose(arrays[name], packaged[name], atol=1e-5)
            else:
                np.testing.assert_array_equal(arrays[name], packaged[name], name)


def test_written_file_has_fixed_bytes(tmp_path):
    with np.load(topology_path(128)) as packaged:
        arrays = {name: packaged[name] for name in packaged.files}
    assert write_topology(tmp_path / "copy.npz", arrays).read_bytes() == \
        topology_path(128).read_bytes()


def test_landmark_lookup_weights(topology):
    index, weight = topology.landmark_sample_index, topology.landmark_sample_weight
    assert index.shape == weight.shape == (68, 12)
    np.testing.assert_allclose(weight.sum(axis=1), 1, atol=1e-5)
    assert not weight[~topology.uv_mask.reshape(-1)[index]].any()
    # A regularised fit: it stays a local interpolation (measured max sum |w|: 2.3 at 256,
    # 3.5 at 128).
    assert np.abs(weight).sum(axis=1).max() < 4
    rows, cols = np.divmod(index, topology.resolution)
    assert np.abs(cols - topology.landmark_uv[:, None, 0]).max() <= 2
    assert np.abs(rows - topology.landmark_uv[:, None, 1]).max() <= 2


def test_bilinear_lookup_is_exact_on_an_affine_map():
    mask = np.ones((16, 16), bool)
    mask[7, 9] = False  # one invalid neighbour: the other three are renormalised
    uv = np.array([[3.25, 4.5], [8.5, 6.25]])
    index, weight = bilinear_lookup(mask, uv)
    rows, cols = np.divmod(index, 16)
    np.testing.assert_allclose(weight.sum(axis=1), 1)
    np.testing.assert_allclose((weight * cols).sum(axis=1)[0], 3.25)
    np.testing.assert_allclose((weight * rows).sum(axis=1)[0], 4.5)
    assert weight[1][(rows[1] == 7) & (cols[1] == 9)].sum() == 0
    assert np.count_nonzero(weight[1]) == 3


def test_grid_triangles_on_small_masks():
    full = np.ones((2, 2), bool)
    assert grid_triangles(full).tolist() == [[0, 2, 1], [1, 2, 3]]
    three = np.array([[True, False], [True, True]])
    assert grid_triangles(three).tolist() == [[0, 1, 2]]
    assert grid_triangles(np.array([[True, True], [False, True]])).tolist() == [[0, 2, 1]]
    assert grid_triangles(np.eye(2, dtype=bool)).shape == (0, 3)
    mask = np.random.default_rng(0).uniform(size=(20, 30)) < 0.8
    rows, cols = np.nonzero(mask)
    points = np.column_stack([cols, rows]).astype(float)  # dense vertices as image (x, y)
    triangles = grid_triangles(mask)
    assert (signed_areas(points, triangles) < 0).all()
    assert len({tuple(sorted(t)) for t in triangles.tolist()}) == len(triangles)


def test_missing_resolution_names_the_build_command():
    with pytest.raises(DataNotFoundError, match="facerecon assets build"):
        load_topology(512)
