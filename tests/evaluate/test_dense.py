"""Dense protocol: exact predictions score ~0, a known shift scores its known value."""

import json

import numpy as np
import pytest

from facerecon.api import FaceReconstructor
from facerecon.cli import evaluate as evaluate_cli
from facerecon.cli.main import main
from facerecon.data.synthetic import GroundTruthPredictor
from facerecon.evaluate.dense import (
    DENSE_SEED,
    dense_cases,
    dense_errors,
    evaluate_dense,
    render_case,
)
from facerecon.morphable.ict import load_ict
from facerecon.posmap import encode
from facerecon.topology import load_topology

COUNT = 3


@pytest.fixture(scope="module")
def ict(ict_dir):
    return load_ict(ict_dir)


@pytest.fixture(scope="module")
def topology():
    return load_topology(128)


class CaseOracle:
    """Exact position maps for the held-out cases, in the order the evaluator renders them
    (a GroundTruthPredictor per case), optionally shifted by ``offset`` crop pixels."""

    name = "case_oracle"
    input_size = 128
    resolution = 128
    crop_supersample = 1

    def __init__(self, ict, topology, count, offset=(0.0, 0.0, 0.0)):
        cases = dense_cases(count)
        self.faces = [render_case(c, ict, topology, seed=i) for i, c in enumerate(cases)]
        self.topology = topology
        self.offset = np.asarray(offset, np.float32)
        self.index = 0

    def __call__(self, crops, transforms):
        face = self.faces[self.index]
        self.index += 1
        exact = GroundTruthPredictor(self.topology, [face.vertices], self.input_size)
        maps = exact(crops, transforms)
        maps[:, self.topology.uv_mask] += self.offset
        return maps


def test_cases_are_fixed_by_seed():
    first, again = dense_cases(4), dense_cases(4)
    assert all(np.array_equal(a.identity, b.identity) and a.yaw == b.yaw
               for a, b in zip(first, again, strict=True))
    other = dense_cases(4, seed=DENSE_SEED + 1)
    assert not np.array_equal(first[0].identity, other[0].identity)
    assert dense_cases(2)[1].yaw == first[1].yaw  # case i depends only on (seed, i)
    for case in first:
        assert np.count_nonzero(case.expression) == 4 and abs(case.yaw) <= 70


def test_exact_predictions_score_zero(ict, topology):
    oracle = CaseOracle(ict, topology, COUNT)
    result = evaluate_dense(FaceReconstructor(model=oracle, detector=None), ict, COUNT)
    assert oracle.index == COUNT
    assert result.per_image["dense_3d"].max() < 1e-5
    assert result.per_image["dense_2d"].max() < 1e-5
    # the 68 landmarks come from the fitted UV lookup: small but not exactly zero
    assert result.per_image["landmarks_2d"].max() < 2e-3
    assert sum(result.summary["dense_3d"].counts) == COUNT
    assert result.normal_error_deg.shape == (COUNT,) and result.normal_error_deg.max() < 1e-3
    assert result.as_dict()["normal_error_deg"]["mean"] == 0.0


def test_known_offset_gives_known_error(ict, topology):
    face = render_case(dense_cases(1)[0], ict, topology)
    posmap = encode(face.vertices, topology)
    marks = face.landmarks.astype(np.float64)
    inter_ocular = np.linalg.norm(marks[36] - marks[45])
    shifted = posmap.copy()
    shifted[topology.uv_mask] += np.array([3.0, 4.0, 0.0], np.float32)
    errors = dense_errors(shifted, face.vertices, topology)
    assert errors["dense_2d"] == pytest.approx(5.0 / inter_ocular, rel=1e-4)
    assert errors["dense_3d"] == pytest.approx(5.0 / inter_ocular, rel=1e-4)
    deeper = posmap.copy()
    deeper[topology.uv_mask] += np.array([0.0, 0.0, 7.0], np.float32)  # depth origin only
    assert dense_errors(deeper, face.vertices, topology)["dense_3d"] < 1e-5


def test_dense_cli_with_an_injected_predictor(ict, ict_dir, topology, tmp_path, monkeypatch,
                                               capsys):
    oracle = CaseOracle(ict, topology, 2)
    monkeypatch.setattr(evaluate_cli, "build_reconstructor",
                        lambda args: FaceReconstructor(model=oracle, detector=None))
    code = main(["evaluate", "dense", "--ict", str(ict_dir), "--count", "2",
                 "--output-dir", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| case_oracle | dense 3D (z centred) |" in printed
    assert "Surface normals: 0.00 degrees" in printed
    report = json.loads((tmp_path / "dense.json").read_text())
    assert report["pipeline"] == {"predictor": "case_oracle", "crop_supersample": 1,
                                  "surface_sigma": 0.0, "second_pass": False, "refiner": None}
    row = report["rows"]["case_oracle"]
    assert row["num_images"] == 2 and row["seed"] == DENSE_SEED
    assert row["tables"]["dense_3d"]["mean"] < 1e-3  # percent
    assert (tmp_path / "dense_ced.png").stat().st_size > 1000
