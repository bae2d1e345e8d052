import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from facerecon.apps.viewer import viewer_html
from facerecon.errors import InvalidInputError
from facerecon.mesh import Mesh


def grid_mesh(rng, textured: bool) -> Mesh:
    rows, cols = np.mgrid[0:20, 0:30]
    vertices = np.stack([cols * 4.0, rows * 4.0, 10 * np.sin(cols / 5.0)], -1).reshape(-1, 3)
    index = np.arange(600).reshape(20, 30)
    a, b, c, d = index[:-1, :-1], index[:-1, 1:], index[1:, :-1], index[1:, 1:]
    triangles = np.concatenate([np.stack([a, c, b], -1), np.stack([b, c, d], -1)]).reshape(-1, 3)
    colors = rng.uniform(size=(600, 3)).astype(np.float32)
    if not textured:
        return Mesh(vertices, triangles, colors=colors)
    uvs = np.stack([cols / 29.0, 1 - rows / 19.0], -1).reshape(-1, 2)
    texture = rng.integers(0, 256, size=(16, 24, 3), dtype=np.uint8)
    return Mesh(vertices, triangles, colors=colors, uvs=uvs, texture=texture)


def embedded(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="mesh-data">(.*?)</script>', page,
                      re.S)
    assert match
    return json.loads(match.group(1))


def decoded(text: str, dtype) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


@pytest.mark.parametrize("textured", [False, True])
def test_page_is_self_contained_and_holds_the_mesh(rng, textured):
    mesh = grid_mesh(rng, textured)
    page = viewer_html(mesh, title="face <1>")
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<(script|link|img)[^>]*\s(src|href)=", page)
    assert "<title>face &lt;1&gt;</title>" in page
    data = embedded(page)
    assert data["vertex_count"] == mesh.num_vertices
    assert data["triangle_count"] == mesh.num_triangles
    positions = decoded(data["positions"], "<f4").reshape(-1, 3)
    expected = mesh.vertices * np.array([1, -1, 1], np.float32)  # y-up, as the exporters
    np.testing.assert_array_equal(positions, expected)
    indices = decoded(data["indices"], "<u4").reshape(-1, 3)
    np.testing.assert_array_equal(indices, mesh.triangles)
    colors = decoded(data["colors"], np.uint8).reshape(-1, 3)
    assert np.abs(colors / 255 - mesh.colors).max() <= 0.5 / 255 + 1e-6
    if textured:
        np.testing.assert_array_equal(decoded(data["uvs"], "<f4").reshape(-1, 2), mesh.uvs)
        png = Image.open(io.BytesIO(base64.b64decode(data["texture_png"])))
        np.testing.assert_array_equal(np.asarray(png.convert("RGB")), mesh.texture)
    else:
        assert "texture_png" not in data


def test_script_end_in_title_cannot_break_the_page(rng):
    page = viewer_html(grid_mesh(rng, False), title="</script><script>alert(1)</script>")
    assert page.count("</script>") == 2  # the data block and the viewer
    with pytest.raises(InvalidInputError, match="Mesh"):
        viewer_html({"vertices": []})
