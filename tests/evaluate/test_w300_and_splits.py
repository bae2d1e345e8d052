"""300-W protocol and the fixed train/val split rule."""

import json

import cv2
import numpy as np
import pytest
from shared_data import require_shared

from facerecon.cli.main import main
from facerecon.data.splits import photo_id_300w, split_300w, split_of, unit_hash
from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.evaluate.w300 import evaluate_300w, load_300w_split


def test_split_rule_is_fixed_and_keeps_photos_together():
    keys = [f"photo{i}" for i in range(20000)]
    share = np.mean([split_of("300w", key, 0.1) == "val" for key in keys])
    assert 0.09 < share < 0.11
    assert all(split_of("g", key, 0.0) == "train" and split_of("g", key, 1.0) == "val"
               for key in keys[:50])
    assert 0.0 <= unit_hash("x") < 1.0 and unit_hash("x") == unit_hash("x")
    assert photo_id_300w("helen-train/232194_1.jpg") == "232194"
    assert split_300w("a/232194_1.pts") == split_300w("b/232194_2.jpg")
    with pytest.raises(InvalidInputError):
        split_of("300w", "k", 1.5)


def _write_face(folder, stem, points):
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / f"{stem}.jpg"), np.zeros((200, 200, 3), np.uint8))
    np.savetxt(folder / f"{stem}.pts", points, fmt="%.6f")


def test_loads_only_the_split_and_scores_known_values(tmp_path, rng):
    keys = [f"{1000 + i}" for i in range(60)]
    val_keys = [k for k in keys if split_of("300w", k, 0.1) == "val"]
    assert val_keys, "the 60 fake photo ids must include some held-out ones"
    base = rng.uniform(40, 160, size=(68, 2))
    for key in keys:
        _write_face(tmp_path / "sub", f"{key}_1", base)
    samples = load_300w_split(tmp_path, "val")
    assert [s.name for s in samples] == sorted(f"sub/{k}_1.jpg" for k in val_keys)
    assert len(load_300w_split(tmp_path, "train")) == len(keys) - len(val_keys)
    shift = np.array([3.0, 4.0])
    result = evaluate_300w(samples, {s.name: s.landmarks + shift for s in samples})
    expected = 5.0 / np.linalg.norm(base[36] - base[45])
    np.testing.assert_allclose(result.per_image, expected, rtol=1e-5)
    table = result.as_dict()
    assert table["mean"] == pytest.approx(expected * 100, rel=1e-5)
    assert table["failure_rate"] == (100.0 if expected > 0.08 else 0.0)
    with pytest.raises(InvalidInputError):
        evaluate_300w(samples, {})
    with pytest.raises(DataNotFoundError):
        load_300w_split(tmp_path / "missing")


def test_cli_300w_scores_predictions_in_on_the_shared_val_split(tmp_path, capsys):
    data = require_shared("300w")
    samples = load_300w_split(data, "val")
    perfect = {s.name: s.landmarks.tolist() for s in samples}
    (tmp_path / "perfect.json").write_text(json.dumps(perfect))
    code = main(["evaluate", "300w", "--data", str(data), "--no-teacher",
                 "--predictions-in", str(tmp_path / "perfect.json"),
                 "--output-dir", str(tmp_path)])
    assert code == 0
    assert f"| perfect.json | {len(samples)} | 0.00 | 0.00 | 0.00 |" in capsys.readouterr().out
    report = json.loads((tmp_path / "300w.json").read_text())
    assert report["split"] == "val" and report["rows"]["perfect.json"]["num_images"] == 102
