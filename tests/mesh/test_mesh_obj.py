"""OBJ and textured OBJ round trips (our reader and trimesh), relative paths, atomicity."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.mesh import obj as obj_module
from facerecon.mesh.obj import textured_obj_paths, write_obj, write_textured_obj
from facerecon.mesh.obj_reader import read_obj

Y_UP = np.float32([1, -1, 1])


def _load_trimesh(path: Path):
    import trimesh

    return trimesh.load(path, process=False, maintain_order=True)


def test_write_obj_round_trip(mesh, tmp_path):
    path = write_obj(mesh, tmp_path / "face.obj")
    back = read_obj(path)
    # 9 significant digits: float32 values come back exactly.
    np.testing.assert_array_equal(back.vertices, mesh.vertices)
    np.testing.assert_array_equal(back.triangles, mesh.triangles)
    np.testing.assert_array_equal(back.colors, mesh.colors)
    assert back.uvs is None and back.texture is None
    assert sorted(os.listdir(tmp_path)) == ["face.obj"]


def test_write_obj_read_by_trimesh(mesh, tmp_path):
    loaded = _load_trimesh(write_obj(mesh, tmp_path / "face.obj"))
    np.testing.assert_allclose(loaded.vertices, mesh.vertices * Y_UP, atol=1e-5)
    np.testing.assert_array_equal(loaded.faces, mesh.triangles)
    # trimesh quantises OBJ float colours to uint8.
    rgb = loaded.visual.vertex_colors[:, :3] / 255.0
    np.testing.assert_allclose(rgb, mesh.colors, atol=0.5 / 255 + 1e-6)


def test_write_obj_without_colours_and_raw_frame(mesh, tmp_path):
    plain = dataclasses.replace(mesh, colors=None)
    path = write_obj(plain, tmp_path / "raw.obj", frame="image")
    first = next(line for line in path.read_text().splitlines() if line.startswith("v "))
    assert len(first.split()) == 4
    np.testing.assert_allclose(_load_trimesh(path).vertices, mesh.vertices, atol=1e-5)
    back = read_obj(path, frame="image")
    np.testing.assert_array_equal(back.vertices, mesh.vertices)
    assert back.colors is None


def test_textured_obj_round_trip(mesh, tmp_path):
    obj_path, mtl_path, png_path = write_textured_obj(mesh, tmp_path / "face.obj")
    assert (mtl_path.name, png_path.name) == ("face.mtl", "face.png")
    back = read_obj(obj_path)
    np.testing.assert_array_equal(back.vertices, mesh.vertices)
    np.testing.assert_array_equal(back.triangles, mesh.triangles)
    np.testing.assert_array_equal(back.uvs, mesh.uvs)
    np.testing.assert_array_equal(back.texture, mesh.texture)
    np.testing.assert_array_equal(back.colors, mesh.colors)

    loaded = _load_trimesh(obj_path)
    np.testing.assert_allclose(loaded.vertices, mesh.vertices * Y_UP, atol=1e-5)
    np.testing.assert_array_equal(loaded.faces, mesh.triangles)
    np.testing.assert_allclose(loaded.visual.uv, mesh.uvs, atol=1e-6)
    image = np.asarray(loaded.visual.material.image.convert("RGB"))
    np.testing.assert_array_equal(image, mesh.texture)


def test_textured_obj_uses_relative_names_and_survives_a_move(mesh, tmp_path):
    obj_path, _, _ = write_textured_obj(mesh, tmp_path / "export" / "my face.obj")
    lines = obj_path.read_text().splitlines()
    assert "mtllib my_face.mtl" in lines
    assert "map_Kd my_face.png" in (tmp_path / "export" / "my_face.mtl").read_text().splitlines()
    f_line = next(line for line in lines if line.startswith("f "))
    assert all(a == b for a, b in (corner.split("/") for corner in f_line.split()[1:]))

    moved = Path(shutil.move(tmp_path / "export", tmp_path / "elsewhere"))
    assert sorted(os.listdir(moved)) == ["my face.obj", "my_face.mtl", "my_face.png"]
    np.testing.assert_array_equal(read_obj(moved / "my face.obj").texture, mesh.texture)
    loaded = _load_trimesh(moved / "my face.obj")
    np.testing.assert_array_equal(np.asarray(loaded.visual.material.image), mesh.texture)


def test_textured_obj_needs_uvs_texture_and_obj_suffix(mesh, tmp_path):
    with pytest.raises(InvalidInputError, match="uvs and a texture"):
        write_textured_obj(dataclasses.replace(mesh, texture=None), tmp_path / "a.obj")
    with pytest.raises(InvalidInputError, match=".obj"):
        write_textured_obj(mesh, tmp_path / "a.png")
    assert os.listdir(tmp_path) == []
    assert [p.name for p in textured_obj_paths("x/A B.OBJ")] == ["A B.OBJ", "A_B.mtl", "A_B.png"]


def _fail_on_nth_write(monkeypatch, failing_call: int):
    """Make the n-th Path.write_bytes write half its data, then raise (a disk-full mid-write)."""
    original = Path.write_bytes
    calls = {"n": 0}

    def flaky(self, data):
        calls["n"] += 1
        if calls["n"] == failing_call:
            original(self, data[: len(data) // 2])
            raise OSError("simulated failure mid-write")
        return original(self, data)

    monkeypatch.setattr(Path, "write_bytes", flaky)


@pytest.mark.parametrize("failing_call", [1, 2, 3])
def test_textured_obj_failure_leaves_no_file(mesh, tmp_path, monkeypatch, failing_call):
    _fail_on_nth_write(monkeypatch, failing_call)
    with pytest.raises(OSError, match="simulated"):
        write_textured_obj(mesh, tmp_path / "face.obj")
    assert os.listdir(tmp_path) == []


def test_textured_obj_failure_keeps_the_previous_export(mesh, tmp_path, monkeypatch):
    paths = write_textured_obj(mesh, tmp_path / "face.obj")
    before = [p.read_bytes() for p in paths]
    changed = dataclasses.replace(
        mesh, vertices=mesh.vertices * 2, texture=np.zeros((5, 5, 3), np.uint8)
    )
    _fail_on_nth_write(monkeypatch, 3)
    with pytest.raises(OSError, match="simulated"):
        write_textured_obj(changed, tmp_path / "face.obj")
    assert sorted(os.listdir(tmp_path)) == ["face.mtl", "face.obj", "face.png"]
    assert [p.read_bytes() for p in paths] == before


def test_textured_obj_encoding_failure_touches_nothing(mesh, tmp_path, monkeypatch):
    def broken(_image):
        raise OSError("simulated encoder failure")

    monkeypatch.setattr(obj_module, "encode_png", broken)
    with pytest.raises(OSError, match="simulated"):
        write_textured_obj(mesh, tmp_path / "face.obj")
    assert os.listdir(tmp_path) == []


def test_read_obj_polygons_negative_indices_and_uv_per_corner(tmp_path):
    path = tmp_path / "quad.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\nf -4 -2 -1\n")
    back = read_obj(path, frame="image")
    np.testing.assert_array_equal(back.triangles, [[0, 1, 2], [0, 2, 3], [0, 2, 3]])
    assert back.uvs is None

    path.write_text("v 0 0 0\nv 1 0 0\nv 1 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nf 3/3 1/1 2/2\n")
    np.testing.assert_array_equal(read_obj(path).uvs, [[0, 0], [1, 0], [1, 1]])
    path.write_text("v 0 0 0\nv 1 0 0\nv 1 1 0\nvt 0 0\nvt 1 0\nf 1/1 2/2 3/1\nf 1/2 2/2 3/1\n")
    with pytest.raises(InvalidInputError, match="two different uvs"):
        read_obj(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("v 0 0 zero\nf 1 1 1\n", "malformed"),
        ("v 0 0 0\nv 0 0 0 1 1 1\nf 1 2 2\n", "number of columns changed"),
        ("v 0 0 0 1\nf 1 1 1\n", "all have 3 or all have 6"),
        ("v 0 0 0\nf 1 1\n", "3 corners"),
        ("v 0 0 0\nvt 0 0\nf 1/1 1/1 1\n", "some face corners"),
        ("v 0 0 0\nf 1 2 3\n", "out of range"),
        ("f 1 2 3\n", "no vertices"),
        ("v 0 0 0\nvt 0 0\nf 1/4 1/1 1/1\n", "vt index out of range"),
    ],
)
def test_read_obj_rejects_malformed_files(tmp_path, text, message):
    path = tmp_path / "bad.obj"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=message):
        read_obj(path)


def test_read_obj_missing_files(mesh, tmp_path):
    with pytest.raises(DataNotFoundError):
        read_obj(tmp_path / "absent.obj")
    obj_path, mtl_path, png_path = write_textured_obj(mesh, tmp_path / "face.obj")
    png_path.unlink()
    with pytest.raises(DataNotFoundError, match="texture"):
        read_obj(obj_path)
    mtl_path.unlink()
    with pytest.raises(DataNotFoundError, match="material"):
        read_obj(obj_path)
