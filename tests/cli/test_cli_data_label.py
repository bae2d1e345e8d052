import json
import shutil

import numpy as np
import pytest
from shared_data import require_shared

from facerecon.cli.main import main

NAME = "image00050"


@pytest.fixture(scope="module")
def teacher_dir():
    return require_shared("teacher-3ddfa")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One weights cache for the module, so the checkpoint is converted once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def folder(tmp_path):
    """One AFLW2000-3D photo with a .pts file written from its ground truth."""
    root = require_shared("aflw2000-3d")
    data = tmp_path / "images"
    data.mkdir()
    shutil.copy(root / f"{NAME}.jpg", data / f"{NAME}.jpg")
    names = (root / "AFLW2000-3D.list").read_text().split()
    gt = np.load(root / "AFLW2000-3D.pts68.npy")[names.index(f"{NAME}.jpg")].T
    (data / f"{NAME}.pts").write_text("".join(f"{x:.6f} {y:.6f}\n" for x, y, _ in gt))
    return data, gt


def _run(args, monkeypatch, cache) -> int:
    monkeypatch.setenv("FACERECON_CACHE", str(cache))
    return main(["data", "label", *args])


def test_label_from_pts_boxes(folder, teacher_dir, tmp_path, monkeypatch, cache, capsys):
    data, gt = folder
    out = tmp_path / "labels.json"
    code = _run(
        [str(data), "-o", str(out), "--teacher", str(teacher_dir), "--boxes-from", "pts"],
        monkeypatch,
        tmp_path,
    )
    assert code == 0 and "labelled 1 faces" in capsys.readouterr().out
    document = json.loads(out.read_text())
    assert document["roi_rule"] == "landmarks_tuned"
    (faces,) = document["images"].values()
    landmarks = np.array(faces[0]["landmarks"])
    assert landmarks.shape == (68, 3)
    size = np.sqrt(np.prod(np.ptp(gt[:, :2], axis=0)))
    assert np.linalg.norm(landmarks[:, :2] - gt[:, :2], axis=1).mean() / size < 0.06


def test_label_from_json_boxes_and_whole(folder, teacher_dir, tmp_path, monkeypatch, cache):
    data, _ = folder
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({f"{NAME}.jpg": [[120, 120, 330, 330], [100, 100, 300, 300]]}))
    out = tmp_path / "labels.json"
    args = [str(data / f"{NAME}.jpg"), "-o", str(out), "--teacher", str(teacher_dir)]
    assert _run([*args, "--boxes-from", str(boxes)], monkeypatch, cache) == 0
    (faces,) = json.loads(out.read_text())["images"].values()
    assert len(faces) == 2
    assert _run([*args, "--boxes-from", "whole"], monkeypatch, cache) == 0
    (faces,) = json.loads(out.read_text())["images"].values()
    assert faces[0]["roi"] == [-0.5, -0.5, 449.5, 449.5]


def test_label_errors_exit_1(folder, teacher_dir, tmp_path, monkeypatch, cache, capsys):
    data, _ = folder
    (data / f"{NAME}.pts").unlink()
    out = tmp_path / "labels.json"
    args = [str(data), "-o", str(out), "--teacher", str(teacher_dir), "--boxes-from", "pts"]
    assert _run(args, monkeypatch, cache) == 1
    assert "no .pts" in capsys.readouterr().err and not out.exists()


def test_label_from_detector_boxes(teacher_dir, tmp_path, monkeypatch, cache, capsys):
    from facerecon.data.pts import read_pts
    from facerecon.evaluate.metrics import nme_interocular
    from facerecon.imageio import write_image

    root = require_shared("300w")
    data = tmp_path / "images"
    data.mkdir()
    photos = [root / "helen-train" / "100032540_1.jpg", root / "afw" / "1051618982_1.jpg"]
    for photo in photos:  # the photos only: the .pts stay behind as ground truth
        shutil.copy(photo, data / photo.name)
    write_image(data / "blank.png", np.full((120, 120, 3), 128, np.uint8))
    out = tmp_path / "labels.json"
    args = [str(data), "-o", str(out), "--teacher", str(teacher_dir), "--boxes-from", "detect"]
    assert _run(args, monkeypatch, cache) == 0
    assert "(1 without a detected face)" in capsys.readouterr().out
    document = json.loads(out.read_text())
    assert document["roi_rule"] == "dlib_hog" and document["boxes_from"] == "detect:dlib_hog"
    assert document["images"][str(data / "blank.png")] == []
    for photo in photos:
        (face,) = document["images"][str(data / photo.name)]
        gt = read_pts(photo.with_suffix(".pts"))
        assert nme_interocular(np.array(face["landmarks"])[:, :2], gt) < 0.1


def test_detector_option_needs_detect(folder, teacher_dir, tmp_path, monkeypatch, cache, capsys):
    data, _ = folder
    args = [str(data), "-o", str(tmp_path / "l.json"), "--teacher", str(teacher_dir)]
    assert _run([*args, "--boxes-from", "pts", "--detector", "dlib_hog"], monkeypatch, cache) == 1
    assert "--detector needs --boxes-from detect" in capsys.readouterr().err
