"""Binary PLY round trips (our reader and trimesh), layout and malformed files."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.mesh.ply import read_ply, write_ply


def test_ply_round_trip(mesh, tmp_path):
    back = read_ply(write_ply(mesh, tmp_path / "face.ply"))
    np.testing.assert_array_equal(back.vertices, mesh.vertices)
    np.testing.assert_array_equal(back.triangles, mesh.triangles)
    np.testing.assert_allclose(back.colors, mesh.colors, atol=0.5 / 255 + 1e-6)
    np.testing.assert_array_equal(back.uvs, mesh.uvs)
    assert back.texture is None


def test_ply_layout_is_binary_little_endian(mesh, tmp_path):
    data = write_ply(mesh, tmp_path / "face.ply").read_bytes()
    header_end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:header_end].decode("ascii").splitlines()
    assert header[:2] == ["ply", "format binary_little_endian 1.0"]
    assert "property uchar red" in header and "property float s" in header
    # 12 bytes xyz + 3 bytes rgb + 8 bytes st per vertex; 1 + 12 bytes per triangle.
    assert len(data) - header_end == 42 * (12 + 3 + 8) + 60 * 13


def test_ply_without_colours_or_uvs(mesh, tmp_path):
    plain = dataclasses.replace(mesh, colors=None, uvs=None, texture=None)
    path = write_ply(plain, tmp_path / "raw.ply", frame="image")
    back = read_ply(path, frame="image")
    np.testing.assert_array_equal(back.vertices, mesh.vertices)
    assert back.colors is None and back.uvs is None
    data = path.read_bytes()
    assert len(data) - data.index(b"end_header\n") - 11 == 42 * 12 + 60 * 13


def test_ply_read_by_trimesh(mesh, tmp_path):
    import trimesh

    loaded = trimesh.load(write_ply(mesh, tmp_path / "face.ply"), process=False)
    np.testing.assert_array_equal(loaded.vertices, mesh.vertices * np.float32([1, -1, 1]))
    np.testing.assert_array_equal(loaded.faces, mesh.triangles)
    np.testing.assert_allclose(loaded.visual.uv, mesh.uvs, atol=1e-7)
    # With uvs trimesh shows a texture visual; without them, the vertex colours.
    coloured = dataclasses.replace(mesh, uvs=None, texture=None)
    loaded = trimesh.load(write_ply(coloured, tmp_path / "colours.ply"), process=False)
    expected = np.rint(mesh.colors * 255).astype(np.uint8)
    np.testing.assert_array_equal(loaded.visual.vertex_colors[:, :3], expected)


def test_ply_reader_rejects_other_files(mesh, tmp_path):
    with pytest.raises(DataNotFoundError):
        read_ply(tmp_path / "absent.ply")
    ascii_ply = tmp_path / "ascii.ply"
    ascii_ply.write_text("ply\nformat ascii 1.0\nelement vertex 0\nend_header\n")
    with pytest.raises(InvalidInputError, match="binary_little_endian"):
        read_ply(ascii_ply)
    not_ply = tmp_path / "text.ply"
    not_ply.write_text("hello")
    with pytest.raises(InvalidInputError, match="not a PLY"):
        read_ply(not_ply)
    data = write_ply(mesh, tmp_path / "face.ply").read_bytes()
    truncated = tmp_path / "truncated.ply"
    truncated.write_bytes(data[:-7])
    with pytest.raises(InvalidInputError, match="malformed"):
        read_ply(truncated)
