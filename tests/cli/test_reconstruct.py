"""`facerecon reconstruct` end to end: a synthetic photo, an oracle model, every output."""

import json

import numpy as np
import pytest
from PIL import Image

from facerecon import mesh as mesh_io
from facerecon.api import FaceReconstructor
from facerecon.cli import reconstruct
from facerecon.cli.main import main
from facerecon.data.synthetic import render_synthetic_face
from facerecon.imageio import read_image
from facerecon.topology import load_topology
from facerecon.types import Detection

YAW, PITCH, ROLL = 30.0, -8.0, 6.0


@pytest.fixture(scope="module")
def topology():
    return load_topology(256)


@pytest.fixture(scope="module")
def scene(topology):
    return render_synthetic_face(topology, yaw=YAW, pitch=PITCH, roll=ROLL)


class SceneDetector:
    """Finds the synthetic face (its box is the landmark box), and nothing in a flat image."""

    name = "landmarks"

    def __init__(self, box):
        self.box = box

    def detect(self, image):
        return [Detection(box=self.box, score=0.9)] if image.std() > 5 else []


@pytest.fixture
def use_oracle(monkeypatch, topology, scene, make_oracle):
    def build(args):
        return FaceReconstructor(
            model=make_oracle(topology, [scene.vertices]),
            detector=None if args.box else SceneDetector(scene.box),
        )

    monkeypatch.setattr(reconstruct, "build_reconstructor", build)


def test_every_output_is_written_and_reloads(tmp_path, scene, use_oracle):
    photo = tmp_path / "photo.png"
    Image.fromarray(scene.image).save(photo)
    out = tmp_path / "out"
    box = ",".join(f"{v:.3f}" for v in scene.box)
    code = main(["reconstruct", str(photo), "-o", str(out), "--box", box, "--save",
                 *reconstruct.SAVE_CHOICES, "--texture-size", "128"])
    assert code == 0
    summary = json.loads((out / "photo.json").read_text())
    assert summary["schema"] == "facerecon.reconstruction/1"
    assert summary["pipeline"] == {"predictor": summary["model"], "crop_supersample": 1,
                                   "surface_sigma": 0.0, "second_pass": False,
                                   "refiner": None}
    assert (summary["width"], summary["height"]) == (scene.image.shape[1], scene.image.shape[0])
    face = summary["faces"][0]
    landmarks = np.array(face["landmarks"])
    assert np.linalg.norm(landmarks - scene.landmarks, axis=1).max() < 1.0
    for name, truth in (("yaw", YAW), ("pitch", PITCH), ("roll", ROLL)):
        assert abs(face["pose"][name] - truth) < 1.0
    n = int(load_topology(256).uv_mask.sum())
    for reader, name in ((mesh_io.read_obj, "photo_face0.obj"), (mesh_io.read_ply,
                         "photo_face0.ply"), (mesh_io.read_glb, "photo_face0.glb")):
        mesh = reader(out / name)
        assert mesh.vertices.shape == (n, 3) and mesh.colors is not None
    textured = mesh_io.read_obj(out / "photo_face0_textured.obj")
    assert textured.texture.shape == (128, 128, 3) and textured.uvs.shape == (n, 2)
    np.testing.assert_allclose(
        np.loadtxt(out / "photo_face0_landmarks.txt"), landmarks, atol=2e-3
    )
    pose = json.loads((out / "photo_face0_pose.json").read_text())
    assert abs(pose["yaw"] - YAW) < 1.0
    depth = np.load(out / "photo_depth.npy")
    assert depth.shape == scene.image.shape[:2] and (depth != 0).any()
    assert read_image(out / "photo_depth.png").shape == scene.image.shape
    assert np.load(out / "photo_face0_posmap.npy").shape == (256, 256, 3)
    assert read_image(out / "photo_overlay.png").shape == scene.image.shape
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_front_meshes_are_aligned(tmp_path, scene, use_oracle, topology):
    photo = tmp_path / "photo.png"
    Image.fromarray(scene.image).save(photo)
    code = main(["reconstruct", str(photo), "-o", str(tmp_path / "o"), "--save", "mesh",
                 "--front"])
    assert code == 0
    mesh = mesh_io.read_obj(tmp_path / "o" / "photo_face0.obj")  # back in the image frame
    canonical = topology.canonical_posmap[topology.uv_mask]
    assert np.abs(mesh.vertices - canonical).mean() < 0.5


def _write_bad_inputs(folder, scene):
    folder.mkdir()
    Image.fromarray(scene.image).save(folder / "good.png")
    Image.fromarray(scene.image).convert("L").save(folder / "gray.png")
    Image.fromarray(scene.image).convert("RGBA").save(folder / "rgba.png")
    sixteen = (scene.image[..., 0].astype(np.uint16) * 257)
    Image.fromarray(sixteen).save(folder / "deep16.png")
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(folder / "blank.png")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.jpg").write_text("this is not an image\n")
    Image.fromarray(scene.image).save(folder / "cut.jpg", quality=90)
    data = (folder / "cut.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(data[: len(data) // 2])
    # A PNG header that claims 30000 x 30000 pixels: refused before decoding.
    import struct
    import zlib

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk
    png += struct.pack(">I", zlib.crc32(chunk)) + b"\x00" * 16
    (folder / "huge.png").write_bytes(png)


def test_batch_with_bad_inputs_goes_on_and_fails(tmp_path, scene, use_oracle, capsys):
    folder = tmp_path / "in"
    _write_bad_inputs(folder, scene)
    out = tmp_path / "out"
    code = main(["reconstruct", str(folder), str(tmp_path / "missing.jpg"), "-o", str(out),
                 "--save", "mesh"])
    assert code == 1
    errors = capsys.readouterr().err
    for name in ("missing.jpg", "empty.jpg", "notes.jpg", "cut.jpg", "huge.png", "blank.png"):
        line = next((line for line in errors.splitlines() if name in line), None)
        assert line is not None, f"{name} not reported:\n{errors}"
    assert "no face" in next(line for line in errors.splitlines() if "blank.png" in line)
    for stem in ("good", "gray", "rgba", "deep16"):
        assert (out / f"{stem}.json").is_file(), stem
        assert (out / f"{stem}_face0.obj").is_file(), stem
    for stem in ("empty", "notes", "cut", "huge"):
        assert not list(out.glob(f"{stem}*")), stem
    assert json.loads((out / "blank.json").read_text())["faces"] == []
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_without_weights_the_message_says_what_to_do(tmp_path, scene, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(scene.image).save(photo)
    code = main(
        ["reconstruct", str(photo), "-o", str(tmp_path / "o"), "--model", "prn_resfcn256"]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "no trained weights are installed" in err and "--weights" in err


def test_bad_box_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["reconstruct", "x.jpg", "-o", str(tmp_path), "--box", "1,2,3"])
    assert "--box" in capsys.readouterr().err


def test_surface_sigma_reaches_the_network_from_both_commands():
    from facerecon.cli import evaluate as evaluate_cli
    from facerecon.cli.main import build_parser
    from facerecon.models import DEFAULT_MODEL, get_config

    parser = build_parser()
    args = parser.parse_args(["reconstruct", "x.jpg", "-o", "out", "--surface-sigma", "0"])
    assert reconstruct.build_reconstructor(args).surface_sigma == 0.0
    args = parser.parse_args(["reconstruct", "x.jpg", "-o", "out"])
    assert (reconstruct.build_reconstructor(args).surface_sigma
            == get_config(DEFAULT_MODEL).surface_sigma)
    args = parser.parse_args(["evaluate", "dense", "--ict", "ict", "--surface-sigma", "2.5"])
    assert evaluate_cli.build_reconstructor(args).surface_sigma == 2.5


def test_refine_weights_reach_the_pipeline_and_its_report(tmp_path, scene):
    """A real (random-weight) network pair: --refine-weights makes the second network
    predict the faces, and the JSON names both weight files."""
    import torch

    from facerecon.models import create_model
    from facerecon.models.weights_io import save_weights

    torch.manual_seed(0)  # fixed random weights: a steady, non-degenerate first pass
    first, second = tmp_path / "first.safetensors", tmp_path / "second.safetensors"
    save_weights(create_model("mobile_posmap128"), first)
    save_weights(create_model("mobile_posmap128"), second)
    photo = tmp_path / "photo.png"
    Image.fromarray(scene.image).save(photo)
    box = ",".join(f"{v:.3f}" for v in scene.box)
    code = main(["reconstruct", str(photo), "-o", str(tmp_path / "out"), "--box", box,
                 "--model", "mobile_posmap128", "--weights", str(first),
                 "--refine-weights", str(second)])
    assert code == 0
    pipeline = json.loads((tmp_path / "out" / "photo.json").read_text())["pipeline"]
    assert pipeline["weights_file"] == first.name
    assert pipeline["refiner"]["weights_file"] == second.name
    assert pipeline["refiner"]["weights_sha256"] != pipeline["weights_sha256"]


def test_refine_and_refine_weights_exclude_each_other(tmp_path, scene, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(scene.image).save(photo)
    code = main(["reconstruct", str(photo), "-o", str(tmp_path / "out"), "--refine",
                 "--refine-weights", str(tmp_path / "r.safetensors")])
    assert code != 0
    assert "exclude each other" in capsys.readouterr().err
