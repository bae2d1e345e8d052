import json
import lzma
import time

import numpy as np
import pytest

from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.morphable import ict as ict_module
from facerecon.morphable.ict import load_ict
from facerecon.morphable.obj_text import parse_faces, parse_vertices, read_obj_bytes, triangulate

HEADER = "# comment\nmtllib x.mtl\n"


def _write_obj(path, vertices, uvs, faces, compress=False):
    lines = [HEADER]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}\n" for x, y, z in vertices]
    lines += [f"vt {u:.6f} {v:.6f}\n" for u, v in uvs]
    lines += ["usemtl M\n"]
    lines += ["f " + " ".join(f"{v + 1}/{t + 1}" for v, t in face) + "\n" for face in faces]
    text = "".join(lines).encode()
    if compress:
        path.with_name(path.name + ".xz").write_bytes(lzma.compress(text))
    else:
        path.write_bytes(text)


@pytest.fixture
def tiny_model_folder(tmp_path, rng):
    """A FaceXModel-like folder: 80 vertices on a grid, quads and a triangle, plain .obj."""
    folder = tmp_path / "FaceXModel"
    folder.mkdir()
    grid = np.stack(np.meshgrid(np.arange(10.0), np.arange(8.0)), axis=-1).reshape(-1, 2)
    neutral = np.column_stack([grid, np.zeros(80)])
    uvs = grid / 10.0
    faces = [[(r * 10 + c, r * 10 + c), (r * 10 + c + 1, r * 10 + c + 1),
              (r * 10 + c + 11, r * 10 + c + 11), (r * 10 + c + 10, r * 10 + c + 10)]
             for r in range(7) for c in range(8)]
    faces.append([(8, 8), (9, 9), (19, 19)])
    names = ["smile", "blink"]
    targets = {"generic_neutral_mesh": neutral}
    targets.update({f"identity{k:03d}": neutral + rng.normal(size=neutral.shape)
                    for k in range(100)})
    targets.update({name: neutral + rng.normal(size=neutral.shape) for name in names})
    for k, (name, vertices) in enumerate(targets.items()):
        _write_obj(folder / f"{name}.obj", vertices, uvs, faces, compress=k % 2 == 1)
    (folder / "vertex_indices.json").write_text(json.dumps(
        {"expressions": names, "idx_to_landmark_verts": list(range(68))}))
    return folder, {name: np.round(v, 6) for name, v in targets.items()}


def test_obj_faces_keep_corners_and_winding(tmp_path):
    text = b"v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\n" \
           b"f 1/1 2/2 3/3 4/4\nf 1/4 3/3 4/2\n"
    vertex_index, uv_index, start = parse_faces(text, tmp_path / "x.obj")
    assert start.tolist() == [0, 4, 7]
    assert vertex_index.tolist() == [0, 1, 2, 3, 0, 2, 3]
    assert uv_index.tolist() == [0, 1, 2, 3, 3, 2, 1]
    triangles, triangle_uvs, owner = triangulate(vertex_index, uv_index, start, slice(None))
    assert triangles.tolist() == [[0, 1, 2], [0, 2, 3], [0, 2, 3]]
    assert triangle_uvs.tolist() == [[0, 1, 2], [0, 2, 3], [3, 2, 1]]
    assert owner.tolist() == [0, 0, 1]


def test_obj_faces_with_normals_read_the_same(tmp_path):
    vertex_index, uv_index, _ = parse_faces(b"f 1/4/1 3/3/1 4/2/1\n", tmp_path / "x.obj")
    assert vertex_index.tolist() == [0, 2, 3] and uv_index.tolist() == [3, 2, 1]


@pytest.mark.parametrize("text", [b"f 1 2 3\n", b"f 1//1 2//1 3//1\n", b"f 1/1 2/2/2 3/3\n",
                                  b"f -1/-1 -2/-2 -3/-3\n"])
def test_obj_faces_without_usable_uv_indices_are_rejected(tmp_path, text):
    with pytest.raises(DataNotFoundError):
        parse_faces(text, tmp_path / "x.obj")


def test_tiny_folder_plain_and_xz_and_the_model_formula(tiny_model_folder, tmp_path,
                                                         monkeypatch):
    monkeypatch.setenv("FACERECON_CACHE", str(tmp_path / "cache"))
    folder, targets = tiny_model_folder
    model = load_ict(folder)
    assert model.vertex_count == 80
    assert model.identity_deltas.shape == (100, 80, 3)
    assert model.expression_names == ("smile", "blink")
    assert model.triangles.shape == (2 * 56 + 1, 3)
    assert model.jawlines == {}
    neutral = targets["generic_neutral_mesh"]
    np.testing.assert_allclose(model.shape(), neutral, atol=1e-6)
    identity = np.array([0.5, -1.2])
    expression = np.array([0.0, 0.7])
    expected = (neutral + 0.5 * (targets["identity000"] - neutral)
                - 1.2 * (targets["identity001"] - neutral) + 0.7 * (targets["blink"] - neutral))
    np.testing.assert_allclose(model.shape(identity, expression), expected, atol=1e-4)
    assert len(list((tmp_path / "cache").glob("ict_*.npz"))) == 1
    again = load_ict(folder)
    np.testing.assert_array_equal(again.identity_deltas, model.identity_deltas)


@pytest.mark.parametrize("kwargs", [
    {"expression_weights": [1.5]}, {"expression_weights": [-0.1]},
    {"identity_weights": np.zeros(101)}, {"identity_weights": [np.nan]},
    {"expression_weights": np.zeros((2, 2))},
])
def test_bad_weights_are_rejected(tiny_model_folder, tmp_path, monkeypatch, kwargs):
    monkeypatch.setenv("FACERECON_CACHE", str(tmp_path / "cache"))
    model = load_ict(tiny_model_folder[0])
    with pytest.raises(InvalidInputError):
        model.shape(**kwargs)


def test_missing_file_is_reported(tiny_model_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("FACERECON_CACHE", str(tmp_path / "cache"))
    folder, _ = tiny_model_folder
    (folder / "identity041.obj").unlink()
    with pytest.raises(DataNotFoundError, match="identity041"):
        load_ict(folder)


def test_real_ict_region(ict_dir):
    start = time.perf_counter()
    model = load_ict(ict_dir)
    assert model.neutral.shape == (9409, 3)
    assert model.identity_deltas.shape == (100, 9409, 3)
    assert model.expression_deltas.shape == (53, 9409, 3)
    assert model.expression_names[0] == "browDown_L" and model.expression_names[-1] == "noseSneer_R"
    # ICT's face area: 9,230 polygons, of which these split into two triangles each.
    assert np.unique(model.triangle_polygon).size == 9230
    assert model.triangles.max() == 9408 and model.uvs.min() >= 0 and model.uvs.max() <= 1
    assert model.landmark_indices[[0, 8, 16, 30]].tolist() == [1225, 966, 3443, 4857]
    assert sorted(model.jawlines) == ["left", "left_extended", "right", "right_extended"]
    assert model.jawlines["right"].tolist() == [1278, 1272, 12, 1834, 243, 781, 2199, 1447]
    # The upstream formula on one identity file, read independently of the cache.
    identity = parse_vertices(read_obj_bytes(ict_dir / "identity007.obj.xz"), ict_dir)
    weights = np.zeros(8)
    weights[7] = 1.0
    np.testing.assert_allclose(model.shape(weights), identity[:9409], atol=1e-4)
    # Frame: +Y up (forehead above chin), +Z to the viewer (nose tip in front of the eyes),
    # subject's right (landmark 36) at -X.
    neutral = model.neutral
    assert neutral[model.landmark_indices[27], 1] > neutral[model.landmark_indices[8], 1]
    assert neutral[model.landmark_indices[30], 2] > neutral[model.landmark_indices[36], 2]
    assert neutral[model.landmark_indices[36], 0] < 0 < neutral[model.landmark_indices[45], 0]
    assert time.perf_counter() - start < 60


def test_real_ict_model_keeps_its_key_and_is_read_only(ict_dir):
    model = load_ict(ict_dir)
    assert model.source_key == ict_module._cache_key(ict_dir, ict_module._source_files(ict_dir)[2])
    with pytest.raises(ValueError):
        model.neutral[0, 0] = 1.0
