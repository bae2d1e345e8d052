"""Properties every writer shares: winding after export, atomic single-file writes."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from facerecon.mesh.glb import write_glb
from facerecon.mesh.obj import write_obj, write_textured_obj
from facerecon.mesh.ply import write_ply

WRITERS = {
    "face.obj": write_obj,
    "textured.obj": write_textured_obj,
    "face.ply": write_ply,
    "face.glb": write_glb,
}


def _trimesh_normals(path: Path) -> np.ndarray:
    import trimesh

    loaded = trimesh.load(path, process=False, force="mesh", maintain_order=True)
    return np.asarray(loaded.face_normals)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_front_faces_point_to_the_viewer_after_export(frontal_mesh, tmp_path, name):
    WRITERS[name](frontal_mesh, tmp_path / name)
    normals = _trimesh_normals(tmp_path / name)
    assert normals.shape == (frontal_mesh.num_triangles, 3)
    # The bump is shallow (slopes below 45 degrees), so every normal leans to +z.
    assert np.all(normals[:, 2] > 0.7)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_back_faces_and_raw_frame_point_away(frontal_mesh, tmp_path, name):
    # The same check sees reversed winding, and the unconverted left-handed frame, as -z.
    reversed_mesh = dataclasses.replace(frontal_mesh, triangles=frontal_mesh.triangles[:, ::-1])
    WRITERS[name](reversed_mesh, tmp_path / name)
    assert np.all(_trimesh_normals(tmp_path / name)[:, 2] < -0.7)
    raw = tmp_path / "raw" / name
    WRITERS[name](frontal_mesh, raw, frame="image")
    assert np.all(_trimesh_normals(raw)[:, 2] < -0.7)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_failure_mid_write_leaves_nothing(mesh, tmp_path, monkeypatch, name):
    original = Path.write_bytes

    def half_then_fail(self, data):
        original(self, data[: len(data) // 2])
        raise OSError("simulated failure mid-write")

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        WRITERS[name](mesh, tmp_path / name)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_rewrite_replaces_the_file_whole(mesh, tmp_path, name):
    import trimesh

    path = tmp_path / name
    WRITERS[name](dataclasses.replace(mesh, vertices=mesh.vertices * 2), path)
    WRITERS[name](mesh, path)
    loaded = trimesh.load(path, process=False, force="mesh", maintain_order=True)
    np.testing.assert_allclose(loaded.vertices, mesh.vertices * np.float32([1, -1, 1]), atol=1e-5)
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]


def test_importing_the_package_does_not_import_trimesh():
    import subprocess
    import sys

    code = "import sys, facerecon.mesh; print('trimesh' in sys.modules, 'PIL' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def _ict_face_region(ict_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """ICT's neutral face region (vertices 0-9408, quads 0-9229) as y-up vertices, triangles."""
    import lzma

    with lzma.open(ict_dir / "generic_neutral_mesh.obj.xz", "rt") as handle:
        lines = handle.read().splitlines()
    vertices = np.array([line.split()[1:4] for line in lines if line.startswith("v ")], float)
    quads = [
        [int(token.split("/")[0]) - 1 for token in line.split()[1:]]
        for line in lines
        if line.startswith("f ")
    ][:9230]
    triangles = np.array([[q[0], q[i], q[i + 1]] for q in quads for i in (1, 2)])
    return vertices[:9409], triangles


@pytest.mark.parametrize("name", ["face.glb", "face.ply"])
def test_ict_face_keeps_its_orientation_through_our_frames(ict_dir, tmp_path, name):
    from facerecon.mesh.mesh import Mesh

    y_up, triangles = _ict_face_region(ict_dir)
    p0, p1, p2 = (y_up[triangles[:, k]] for k in range(3))
    original = np.cross(p1 - p0, p2 - p0)
    original /= np.linalg.norm(original, axis=1, keepdims=True)
    # ICT follows the OBJ rule: most of the face (not the ear backs, nostrils) faces +z.
    assert np.mean(original[:, 2] > 0) > 0.8

    mesh = Mesh(y_up * [1, -1, 1], triangles)  # into the image frame (y down)
    q0, q1, q2 = (mesh.vertices[mesh.triangles[:, k]].astype(np.float64) for k in range(3))
    signed = (q1[:, 0] - q0[:, 0]) * (q2[:, 1] - q0[:, 1]) - (q2[:, 0] - q0[:, 0]) * (
        q1[:, 1] - q0[:, 1]
    )
    # Our image-frame front-face rule picks out exactly ICT's +z faces.
    np.testing.assert_array_equal(signed < 0, original[:, 2] > 0)
    WRITERS[name](mesh, tmp_path / name)
    np.testing.assert_allclose(_trimesh_normals(tmp_path / name), original, atol=1e-4)
