"""GLB round trips (our reader and the raw glTF JSON), colours, texture and uv orientation."""

from __future__ import annotations

import dataclasses
import json
import struct

import numpy as np
import pytest

from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.mesh.glb import read_glb, write_glb


def _gltf_json(data: bytes) -> dict:
    """The JSON chunk of a GLB: 12-byte header, then chunk length, chunk type, JSON."""
    length, kind = struct.unpack("<II", data[12:20])
    assert kind == 0x4E4F534A  # "JSON"
    return json.loads(data[20 : 20 + length])


def test_glb_vertex_colours_round_trip(mesh, tmp_path):
    coloured = dataclasses.replace(mesh, uvs=None, texture=None)
    path = write_glb(coloured, tmp_path / "face.glb")
    back = read_glb(path)
    np.testing.assert_array_equal(back.vertices, mesh.vertices)
    np.testing.assert_array_equal(back.triangles, mesh.triangles)
    np.testing.assert_allclose(back.colors, mesh.colors, atol=0.5 / 255 + 1e-6)
    assert back.uvs is None and back.texture is None
    primitive = _gltf_json(path.read_bytes())["meshes"][0]["primitives"][0]
    assert "COLOR_0" in primitive["attributes"]


def test_glb_texture_round_trip_and_gltf_uv_origin(mesh, tmp_path):
    path = write_glb(mesh, tmp_path / "face.glb")
    back = read_glb(path)
    np.testing.assert_array_equal(back.vertices, mesh.vertices)
    np.testing.assert_array_equal(back.triangles, mesh.triangles)
    np.testing.assert_allclose(back.uvs, mesh.uvs, atol=1e-6)
    np.testing.assert_array_equal(back.texture, mesh.texture)
    assert back.colors is None  # one visual per mesh: the texture wins

    gltf = _gltf_json(path.read_bytes())
    primitive = gltf["meshes"][0]["primitives"][0]
    material = gltf["materials"][primitive["material"]]
    assert "baseColorTexture" in material["pbrMetallicRoughness"]
    # glTF puts the uv origin at the top-left: the file holds (u, 1 - v).
    texcoord = gltf["accessors"][primitive["attributes"]["TEXCOORD_0"]]
    u, v = mesh.uvs[:, 0], mesh.uvs[:, 1]
    np.testing.assert_allclose(texcoord["min"], [u.min(), 1 - v.max()], atol=1e-6)
    np.testing.assert_allclose(texcoord["max"], [u.max(), 1 - v.min()], atol=1e-6)
    position = gltf["accessors"][primitive["attributes"]["POSITION"]]
    np.testing.assert_allclose(position["max"][1], -mesh.vertices[:, 1].min(), atol=1e-5)


def test_glb_plain_mesh_and_raw_frame(mesh, tmp_path):
    plain = dataclasses.replace(mesh, colors=None, uvs=None, texture=None)
    back = read_glb(write_glb(plain, tmp_path / "raw.glb", frame="image"), frame="image")
    np.testing.assert_array_equal(back.vertices, mesh.vertices)
    assert back.colors is None and back.uvs is None


def test_glb_reader_errors(tmp_path):
    with pytest.raises(DataNotFoundError):
        read_glb(tmp_path / "absent.glb")
    bad = tmp_path / "bad.glb"
    bad.write_bytes(b"glTF" + b"\x00" * 20)
    with pytest.raises(InvalidInputError):
        read_glb(bad)
