"""`facerecon evaluate aflw2000` on the shared AFLW2000-3D images with the teacher row."""

import json
import shutil

import cv2
import numpy as np
import pytest
from shared_data import require_shared

from facerecon.cli import evaluate as evaluate_cli
from facerecon.cli.main import main
from facerecon.crop import BOX_CROP_PARAMS, crop_from_box, crop_from_landmarks
from facerecon.data import aflw2000 as aflw
from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.errors import WeightsError


def _no_weights(args):
    raise WeightsError("no trained weights in this test")


@pytest.fixture(scope="module")
def patch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory, patch_module):
    """One CLI run over the 16 images: teacher row only (no model weights installed)."""
    data = require_shared("aflw2000-3d")
    teacher = require_shared("teacher-3ddfa")
    patch_module.setenv("FACERECON_CACHE", str(tmp_path_factory.mktemp("cache")))
    patch_module.setattr(evaluate_cli, "build_reconstructor", _no_weights)
    out = tmp_path_factory.mktemp("aflw")
    code = main(["evaluate", "aflw2000", "--data", str(data), "--teacher", str(teacher),
                 "--output-dir", str(out / "report"), "--predictions", str(out / "pred.json")])
    assert code == 0
    return data, teacher, out


def test_teacher_row_reproduces_3ddfa_v2(teacher_run, capsys):
    _, _, out = teacher_run
    report = json.loads((out / "report" / "aflw2000.json").read_text())
    assert report["protocol"] == "aflw2000" and len(report["images"]) == 16
    assert report["pipeline"] is None  # no model row
    table = report["rows"]["3DDFA_V2 teacher"]["tables"]["original"]
    assert table["counts"] == [10, 4, 2]
    assert table["mean_of_bins"] == pytest.approx(3.67, abs=0.005)
    assert table["mean"] == pytest.approx(3.36, abs=0.005)
    assert set(report["rows"]["3DDFA_V2 teacher"]["tables"]) == {
        "original", "reannotated", "original_3d"}
    chart = cv2.imread(str(out / "report" / "aflw2000_ced.png"))
    assert chart is not None and chart.shape == (480, 640, 3) and chart.std() > 10


def test_predictions_file_format(teacher_run):
    data, _, out = teacher_run
    predictions = json.loads((out / "pred.json").read_text())
    assert sorted(predictions) == Aflw2000Dataset(data).names
    for points in predictions.values():
        array = np.asarray(points)
        assert array.shape == (68, 3) and np.all(np.isfinite(array))
        assert 0 <= array[:, 0].min() and array[:, 0].max() < 450  # image pixels of 450x450


def test_predictions_in_round_trip(teacher_run, tmp_path, capsys):
    data, _, out = teacher_run
    capsys.readouterr()
    code = main(["evaluate", "aflw2000", "--data", str(data), "--no-teacher",
                 "--predictions-in", str(out / "pred.json"), "--output-dir", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| pred.json | original 2D |" in printed and "| 3.67 | 3.36 |" in printed
    report = json.loads((tmp_path / "aflw2000.json").read_text())
    first = json.loads((out / "report" / "aflw2000.json").read_text())
    again = report["rows"]["pred.json"]["per_image_percent"]
    before = first["rows"]["3DDFA_V2 teacher"]["per_image_percent"]
    for name, errors in before.items():
        for key, value in errors.items():
            assert again[name][key] == pytest.approx(value, abs=1e-3)  # 4-decimal file


def test_scores_exactly_the_images_present(teacher_run, tmp_path):
    data, teacher, out = teacher_run
    names = ["image00050.jpg", "image02420.jpg", "image03324.jpg"]
    for name in [*names, aflw.LIST_FILE, aflw.PTS68_FILE, aflw.ROI_FILE, aflw.POSE_FILE]:
        shutil.copy(data / name, tmp_path / name)  # no .mat, no re-annotation
    code = main(["evaluate", "aflw2000", "--data", str(tmp_path), "--teacher", str(teacher),
                 "--output-dir", str(tmp_path / "r")])
    assert code == 0
    report = json.loads((tmp_path / "r" / "aflw2000.json").read_text())
    row = report["rows"]["3DDFA_V2 teacher"]
    assert report["images"] == names and sum(row["tables"]["original"]["counts"]) == 3
    assert set(row["tables"]) == {"original", "original_3d"}
    full = json.loads((out / "report" / "aflw2000.json").read_text())
    full_errors = full["rows"]["3DDFA_V2 teacher"]["per_image_percent"]
    for name in names:
        assert row["per_image_percent"][name]["original"] == pytest.approx(
            full_errors[name]["original"], abs=1e-4)


def test_roi_crop_matches_the_landmark_crop_on_aflw():
    """The fitted "aflw_roi" entry (fitted on 300-W) frames the AFLW faces like the 68-point
    landmark crop; the "given" entry would be ~1.4x too loose on these ROI boxes."""
    params = BOX_CROP_PARAMS["aflw_roi"]
    for sample in Aflw2000Dataset(require_shared("aflw2000-3d")):
        by_roi = crop_from_box(sample.roi_box, 256, params.scale, params.center_shift)
        by_marks = crop_from_landmarks(sample.pts68, 256)
        assert by_roi.scale / by_marks.scale == pytest.approx(1.0, abs=0.06)
        centre = np.array([[127.5, 127.5]])
        offset = np.linalg.norm(by_roi.to_image(centre) - by_marks.to_image(centre))
        assert offset * by_marks.scale / 256 < 0.02
        given = BOX_CROP_PARAMS["given"]
        loose = crop_from_box(sample.roi_box, 256, given.scale, given.center_shift)
        assert by_marks.scale / loose.scale > 1.3


def test_model_row_names_the_weights_and_the_refiner(make_oracle):
    from argparse import Namespace
    from pathlib import Path

    from facerecon.api import FaceReconstructor
    from facerecon.topology import load_topology

    topology = load_topology(256)
    oracle = make_oracle(topology, [topology.canonical_vertices])
    plain = FaceReconstructor(model=oracle, detector=None)
    refined = FaceReconstructor(model=oracle, detector=None, refiner=oracle)
    args = Namespace(weights=Path("/w/a.safetensors"))
    assert evaluate_cli._model_label(args, plain) == "ground_truth (a.safetensors)"
    assert (evaluate_cli._model_label(args, refined)
            == "ground_truth (a.safetensors) + refiner (ground_truth)")
    assert (evaluate_cli._model_label(Namespace(weights=None), refined)
            == "ground_truth + refiner (ground_truth)")
