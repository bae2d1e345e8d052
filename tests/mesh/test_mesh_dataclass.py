"""Mesh validation, immutability, frames and the uv convention."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from facerecon.errors import InvalidInputError
from facerecon.mesh.mesh import Mesh, pixel_to_uv, to_file_frame, uv_to_pixel

TRIANGLE = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])


def test_fields_are_typed_read_only_copies(mesh):
    vertices = np.array(mesh.vertices, dtype=np.float64)
    triangles = np.array(mesh.triangles, dtype=np.int64)
    colors = np.array(mesh.colors, dtype=np.float64)
    uvs = np.array(mesh.uvs)
    texture = np.array(mesh.texture)
    originals = [a.copy() for a in (vertices, triangles, colors, uvs, texture)]
    built = Mesh(vertices, triangles, colors, uvs, texture)

    assert built.vertices.dtype == np.float32 and built.triangles.dtype == np.int32
    assert built.colors.dtype == np.float32 and built.uvs.dtype == np.float32
    assert built.texture.dtype == np.uint8
    assert (built.num_vertices, built.num_triangles) == (42, 60)
    for field in (built.vertices, built.triangles, built.colors, built.uvs, built.texture):
        with pytest.raises(ValueError):
            field[0] = 0
    # Changing the caller's arrays afterwards does not reach the mesh, and vice versa.
    texture_before = built.texture.copy()
    texture[:] = 0
    np.testing.assert_array_equal(built.texture, texture_before)
    for caller, original in zip((vertices, triangles, colors, uvs), originals[:4], strict=True):
        assert caller.flags.writeable
        np.testing.assert_array_equal(caller, original)


def test_same_dtype_inputs_are_still_copied():
    vertices = TRIANGLE.astype(np.float32)
    triangles = np.array([[0, 1, 2]], dtype=np.int32)
    built = Mesh(vertices, triangles)
    vertices[0, 0] = 99.0
    triangles[0, 0] = 2
    assert built.vertices[0, 0] == 0.0 and built.triangles[0, 0] == 0


def test_frozen_and_replace_revalidates(mesh):
    with pytest.raises(dataclasses.FrozenInstanceError):
        mesh.colors = None
    plain = dataclasses.replace(mesh, colors=None, texture=None)
    assert plain.colors is None and plain.texture is None and plain.uvs is not None
    with pytest.raises(InvalidInputError, match="texture needs uvs"):
        dataclasses.replace(mesh, uvs=None)


def test_empty_triangle_list_is_a_point_cloud():
    built = Mesh(TRIANGLE, np.zeros((0, 3)))
    assert built.triangles.shape == (0, 3) and built.triangles.dtype == np.int32


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"vertices": TRIANGLE[:, :2]}, "shape"),
        ({"vertices": np.zeros((0, 3))}, "at least one vertex"),
        ({"vertices": TRIANGLE * [1, np.nan, 1]}, "NaN"),
        ({"vertices": TRIANGLE * [1, 1, np.inf]}, "NaN"),
        ({"vertices": TRIANGLE * 1e300}, "NaN"),  # overflows float32
        ({"vertices": TRIANGLE.astype(str)}, "numeric"),
        ({"triangles": [[0, 1, 3]]}, r"\[0, 3\)"),
        ({"triangles": [[0, -1, 2]]}, r"\[0, 3\)"),
        ({"triangles": [[0.0, 1.0, 2.0]]}, "integers"),
        ({"triangles": [0, 1, 2]}, "shape"),
        ({"colors": np.full((2, 3), 0.5)}, "one row per vertex"),
        ({"colors": np.full((3, 3), 1.5)}, r"\[0, 1\]"),
        ({"colors": np.full((3, 3), 128, dtype=np.uint8)}, "divide uint8"),
        ({"uvs": np.full((3, 2), -0.1)}, r"\[0, 1\]"),
        ({"uvs": np.full((3, 3), 0.5)}, "shape"),
        ({"uvs": np.full((3, 2), 0.5), "texture": np.zeros((4, 4, 3))}, "uint8"),
        ({"uvs": np.full((3, 2), 0.5), "texture": np.zeros((4, 4), np.uint8)}, "shape"),
        ({"uvs": np.full((3, 2), 0.5), "texture": np.zeros((0, 4, 3), np.uint8)}, "shape"),
        ({"texture": np.zeros((4, 4, 3), np.uint8)}, "needs uvs"),
    ],
)
def test_invalid_input_raises(changes, message):
    arguments = {"vertices": TRIANGLE, "triangles": [[0, 1, 2]]} | changes
    with pytest.raises(InvalidInputError, match=message):
        Mesh(**arguments)


def test_to_file_frame_negates_y_and_is_its_own_inverse(mesh):
    y_up = to_file_frame(mesh.vertices, "y_up")
    np.testing.assert_array_equal(y_up, mesh.vertices * np.float32([1, -1, 1]))
    np.testing.assert_array_equal(to_file_frame(y_up, "y_up"), mesh.vertices)
    raw = to_file_frame(mesh.vertices, "image")
    np.testing.assert_array_equal(raw, mesh.vertices)
    assert raw.flags.writeable and not np.shares_memory(raw, mesh.vertices)
    with pytest.raises(InvalidInputError, match="frame"):
        to_file_frame(mesh.vertices, "z_up")


def test_pixel_uv_convention():
    # Pixel centres of a 4-row, 8-column image: row 0 is the top, so it has the largest v.
    xy = np.array([[0, 0], [7, 3], [3.5, 1.5]], dtype=np.float32)
    uv = pixel_to_uv(xy, (4, 8))
    np.testing.assert_allclose(uv, [[1 / 16, 7 / 8], [15 / 16, 1 / 8], [0.5, 0.5]], atol=1e-7)
    np.testing.assert_allclose(uv_to_pixel(uv, (4, 8)), xy, atol=1e-5)
    # The image corners map to the uv corners: top-left corner of pixel (0, 0) is (0, 1).
    np.testing.assert_allclose(pixel_to_uv([[-0.5, -0.5], [7.5, 3.5]], (4, 8)), [[0, 1], [1, 0]])


def test_pixel_uv_validation():
    with pytest.raises(InvalidInputError, match="shape"):
        pixel_to_uv(np.zeros((3, 3)), (4, 8))
    with pytest.raises(InvalidInputError, match="size"):
        uv_to_pixel(np.zeros((3, 2)), (0, 8))
