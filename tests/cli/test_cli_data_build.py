"""``facerecon data profile`` and ``facerecon data build`` end to end on a few real photos."""

from __future__ import annotations

import json
import shutil

import numpy as np

from facerecon.cli.main import main
from facerecon.data.shards import list_shards, read_shard, read_shard_meta


def test_profile_writes_views_and_a_sheet(shared_data, tmp_path):
    name = "100032540_1"
    for suffix in (".jpg", ".pts"):
        shutil.copy(shared_data / "300w" / "helen-train" / f"{name}{suffix}", tmp_path)
    out = tmp_path / "out"
    code = main(["data", "profile", str(tmp_path / f"{name}.jpg"), "-o", str(out),
                 "--shared-data", str(shared_data), "--yaws=-60,45", "--crop-size", "128",
                 "--sheet", str(tmp_path / "sheet.png")])
    assert code == 0
    views = sorted(path.name for path in out.glob("*.npz"))
    assert views == [f"{name}_photo.npz", f"{name}_yaw+45.npz", f"{name}_yaw-60.npz"]
    with np.load(out / f"{name}_yaw+45.npz") as view:
        assert view["posmap"].shape == (128, 128, 3) and view["visible"].shape == (68,)
    assert (tmp_path / "sheet.png").stat().st_size > 0


def test_build_writes_shards_and_a_manifest(shared_data, tmp_path):
    out = tmp_path / "build"
    args = ["data", "build", "--shared-data", str(shared_data), "-o", str(out), "--limit", "2",
            "--rotations", "1", "--workers", "1", "--seed", "3", "--sources", "300w/afw",
            "--labels-300w", "teacher", "--teacher-jaw-outline"]
    assert main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["labels_300w"] == "teacher"
    assert manifest["config"]["teacher_jaw_outline"] is True
    teacher = [s for shard in list_shards(out) for s in read_shard(shard)
               if s["meta"]["labels"] == "teacher3d" and not s["meta"]["synthetic"]]
    assert teacher  # the jaw fitted as an outline: its z is not a label
    for sample in teacher:
        assert np.isnan(sample["annotation"][:17, 2]).all()
        assert np.isfinite(sample["annotation"][17:]).all()
    real = [meta for shard in list_shards(out) for meta in read_shard_meta(shard)
            if not meta["synthetic"]]
    assert real and all(meta["labels"] == ("teacher3d" if meta["split"] == "train" else "human2d")
                        for meta in real)
    kept = manifest["photos"] - sum(manifest["photos_dropped"].values())
    assert manifest["photos"] == 2 and manifest["samples"] == 2 * kept
    assert sum(manifest["yaw_histogram"]["real"]) == kept
    assert manifest["this_run"]["shards_built"] == manifest["shards"]
    # The same command again finds everything done.
    assert main(args) == 0
    again = json.loads((out / "manifest.json").read_text())
    assert again["this_run"]["shards_built"] == 0 and again["samples"] == manifest["samples"]
