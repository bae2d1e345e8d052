"""`facerecon demo`: the synthetic example always works offline; the photo example with weights."""

import json

import numpy as np
import pytest

from facerecon.cli.demo import DEMO_POSE
from facerecon.cli.main import main
from facerecon.mesh import read_glb
from facerecon.models import DEFAULT_MODEL, shipped_weights


def test_synthetic_demo_writes_outputs_that_match_the_truth(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path), "--synthetic"]) == 0
    summary = json.loads((tmp_path / "synthetic_photo.json").read_text())
    pose = summary["faces"][0]["pose"]
    for name, truth in DEMO_POSE.items():
        assert abs(pose[name] - truth) < 0.5
    assert read_glb(tmp_path / "synthetic_photo_face0.glb").vertices.shape[1] == 3
    for name in ("synthetic_photo_overlay.png", "synthetic_photo_depth.png",
                 "synthetic_photo_face0_textured.obj", "synthetic_photo_face0.obj"):
        assert (tmp_path / name).stat().st_size > 0
    assert "largest landmark error" in capsys.readouterr().out


@pytest.mark.skipif(shipped_weights(DEFAULT_MODEL) is None, reason="no weights shipped yet")
def test_photo_demo_finds_the_astronaut(tmp_path):
    pytest.importorskip("skimage", reason="the demo photo needs scikit-image (demo extra)")
    assert main(["demo", "-o", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "astronaut.json").read_text())
    assert len(summary["faces"]) == 1
    landmarks = np.array(summary["faces"][0]["landmarks"])
    # The face in the 512x512 portrait: eyes around y 110, chin around y 200 (by eye).
    assert 150 < landmarks[:, 0].mean() < 260 and 80 < landmarks[:, 1].mean() < 200
