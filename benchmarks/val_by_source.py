"""Landmark error by photo source on a data build's validation split, and how far the labels
of the real photos are from the landmarks they were fitted to.

For each ``--weights`` file, every sample of the build's ``val`` split is predicted as the
trainer validates (``val_predictions.py``) and its 68 decoded landmarks are compared in 2D
with the sample's own position-map landmarks (its label). Per group (source: UTKFace's
aligned portraits or 300-W's in-the-wild photos; the photo itself or a synthetic view) it
reports the count and the mean NME (% of sqrt(w*h) of the label's landmark box) over all 68
points, the 51 inner points (17-67) and the 17 jaw points (0-16): the jaw of a 300-W photo
is the annotators' 2D silhouette, its inner points are not a matter of convention; and the
inner points' NME per |yaw| bin of the sample's head (0-30, 30-60, 60-90 degrees). Also,
once (no weights involved), for the real photos: the labels' mean 2D distance to the
landmarks they were fitted to (``annotation``: the 300-W annotation or the 3DDFA_V2
teacher's points) per part, and the mean inner-mouth opening (mean y of points 65-67 minus
that of 61-63, % of the box) of labels and annotation: the landmark snap
(``facerecon.morphable.snap``) moves the mesh smoothly and cannot part lips the fit closed.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/val_by_source.py \
        --build /work/data/build-v3 \
        --weights v6=src/facerecon/models/weights/mobile_posmap128.safetensors

Writes benchmarks/results/val_by_source.json and prints the same JSON.
"""

from __future__ import annotations

import numpy as np
from common import LANDMARK_PARTS, mouth_opening, write_result
from val_predictions import parse_weights_on_build, predict_landmarks

from facerecon.data.shards import read_shard_meta
from facerecon.evaluate.metrics import bbox_normalizer
from facerecon.train.dataset import ShardDataset

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/val_by_source.py "
           "--build BUILD --weights NAME=FILE [NAME=FILE ...]")
POINT_SETS = {"all": slice(0, 68), "inner": slice(17, 68), "jaw": slice(0, 17)}
YAW_BINS = ((0, 30), (30, 60), (60, 91))  # |yaw| degrees, [low, high)


def groups(metas: list[dict]) -> dict[str, np.ndarray]:
    """(N,) bool masks of the samples: source family x photo / synthetic view."""
    family = np.array([str(meta["source"]).split("/")[0] for meta in metas])
    synthetic = np.array([bool(meta["synthetic"]) for meta in metas])
    return {f"{name} {kind}": (family == name) & (synthetic == is_view)
            for name in ("utkface", "300w")
            for kind, is_view in (("photos", False), ("synthetic views", True))}


def errors_by_group(predicted: np.ndarray, labels: np.ndarray, masks: dict[str, np.ndarray],
                    yaw: np.ndarray) -> dict[str, dict]:
    """Per group: samples, the mean NME % over each point set and the inner points' per
    |yaw| bin (``[samples, NME %]``; NME None for an empty bin; module docstring)."""
    box = np.atleast_1d(bbox_normalizer(labels))
    error = np.linalg.norm(predicted - labels, axis=2) / box[:, None] * 100  # (N, 68)
    inner = error[:, POINT_SETS["inner"]].mean(1)
    rows = {}
    for name, mask in masks.items():
        row = {"samples": int(mask.sum())}
        row.update({f"nme_{points}": round(float(error[mask][:, part].mean()), 2)
                    for points, part in POINT_SETS.items()})
        for low, high in YAW_BINS:
            chosen = mask & (np.abs(yaw) >= low) & (np.abs(yaw) < high)
            row[f"nme_inner_yaw_{low}_{high}"] = [
                int(chosen.sum()), round(float(inner[chosen].mean()), 2) if chosen.any() else None]
        rows[name] = row
    return rows


def label_fidelity(dataset: ShardDataset, real: np.ndarray) -> dict:
    """The real photos' labels against their annotation (module docstring)."""
    samples = [dataset[int(i)] for i in np.flatnonzero(real)]
    labels = np.stack([sample["landmarks"][:, :2] for sample in samples])
    annotation = np.stack([sample["annotation"][:, :2] for sample in samples])
    box = np.atleast_1d(bbox_normalizer(labels))
    distance = np.linalg.norm(labels - annotation, axis=2) / box[:, None] * 100
    worst = np.argsort(distance.mean(0))[::-1][:8]
    return {"photos": len(samples),
            "label_to_annotation_nme": round(float(distance.mean()), 2),
            "by_part": {name: round(float(distance[:, part].mean()), 2)
                        for name, part in LANDMARK_PARTS.items()},
            "worst_points": {int(i): round(float(distance[:, i].mean()), 2) for i in worst},
            "mouth_opening_label": round(float(mouth_opening(labels, box).mean()), 2),
            "mouth_opening_annotation": round(float(mouth_opening(annotation, box).mean()), 2)}


def main() -> int:
    named, dataset = parse_weights_on_build(__doc__.splitlines()[0])
    metas = [meta for shard in dataset.shards for meta in read_shard_meta(shard)]
    masks = groups(metas)
    yaw = np.array([meta["yaw"] for meta in metas], np.float64)
    real = masks["utkface photos"] | masks["300w photos"]
    models = {}
    for name, path in named.items():
        predicted, labels = predict_landmarks(dataset, path)
        models[name] = {"weights": str(path),
                        "groups": errors_by_group(predicted, labels, masks, yaw)}
    write_result("val_by_source", {
        "command": COMMAND, "build": str(dataset.data_dirs[0]), "val_samples": len(dataset),
        "models": models, "real_photo_labels": label_fidelity(dataset, real)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
