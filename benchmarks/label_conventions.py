"""Whose convention does a model follow? Per-feature offsets from human and 3D-fit truth.

Training labels come in two conventions: UTKFace's are the 3DDFA_V2 teacher's points, 300-W's
the annotators' (unless ``data build --labels-300w teacher`` or ``teacher_2d``).
AFLW2000-3D's ground truth comes from 3D model fits, like the teacher's training labels.
For each model (ROI crops of the benchmarks' protocols, pipeline as shipped: its registered
surface sigma) and the teacher this reports, on 300-W's held-out split against the human
points and on AFLW2000-3D against its original 2D ground truth: the box NME, the mean signed
offset (x, y; % of sqrt(w*h) of the truth's 68-point box; y down) of each feature, and the
predicted 68-point box's height and width over the truth's (mean ratios). A model whose
offsets match the teacher's on one set and the annotators' on the other has learned a
convention per kind of photo.

With ``--builds OLD NEW`` it also compares the labels (the fitted, snapped landmarks stored
as ``annotation``) of the real 300-W training photos present in both builds: mean NME of
NEW against OLD and the same per-feature offsets, i.e. how far a build option moved them.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/label_conventions.py \\
        --shared ../shared/data --weights NAME=FILE [NAME=FILE ...] [--builds OLD NEW] \\
        [--name label_conventions]

Writes benchmarks/results/<name>.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from common import LANDMARK_PARTS, add_named_weights, named_weights, write_result

from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.data.shards import list_shards, read_shard_meta
from facerecon.data.teacher import Teacher
from facerecon.evaluate.aflw2000 import predict_dataset
from facerecon.evaluate.metrics import bbox_normalizer
from facerecon.evaluate.predictors import (
    make_reconstructor,
    pipeline_predictor,
    predict_images,
    teacher_predictor,
)
from facerecon.evaluate.w300 import load_300w_split

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/label_conventions.py "
           "--shared ../shared/data --weights NAME=FILE [NAME=FILE ...] [--builds OLD NEW]")


def offsets(points: np.ndarray, truth: np.ndarray) -> dict:
    """NME, per-feature mean signed offsets and box ratios of (N, 68, 2) ``points``."""
    norm = np.atleast_1d(bbox_normalizer(truth))  # (N,)
    signed = (points - truth) / norm[:, None, None] * 100
    extent = np.ptp(points, axis=1) / np.ptp(truth, axis=1)  # (N, 2) width, height ratios
    return {"nme_box": round(float(np.linalg.norm(signed, axis=2).mean()), 2),
            "offset_pct_xy": {name: np.round(signed[:, part].mean((0, 1)), 2).tolist()
                              for name, part in LANDMARK_PARTS.items()},
            "height_ratio": round(float(extent[:, 1].mean()), 4),
            "width_ratio": round(float(extent[:, 0].mean()), 4)}


def real_300w_labels(build: Path) -> dict[str, np.ndarray]:
    """image id -> (68, 2) stored labels of the build's real 300-W training photos."""
    labels = {}
    for shard in list_shards(build, "train"):
        meta = read_shard_meta(shard)
        with np.load(shard, allow_pickle=False) as archive:
            annotation = archive["annotation"]
        for sample, points in zip(meta, annotation, strict=True):
            if not sample["synthetic"] and sample["source"].startswith("300w"):
                labels[sample["image_id"]] = points[:, :2]
    return labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="the shared/data folder")
    add_named_weights(parser, "models to measure")
    parser.add_argument("--builds", nargs=2, type=Path, metavar=("OLD", "NEW"), default=None,
                        help="compare the 300-W training labels of two data builds")
    parser.add_argument("--name", default="label_conventions",
                        help="result file name under benchmarks/results (without .json)")
    args = parser.parse_args()
    weights = named_weights(parser, args.weights)
    teacher = Teacher.from_folder(args.shared / "teacher-3ddfa")

    faces = load_300w_split(args.shared / "300w", "val")
    names = [face.name for face in faces]
    paths = [face.image_path for face in faces]
    boxes = np.stack([face.box for face in faces])
    w300_truth = np.stack([face.landmarks for face in faces])
    aflw = Aflw2000Dataset(args.shared / "aflw2000-3d")
    aflw_truth = np.stack([sample.pts68[:, :2] for sample in aflw])

    w300 = {"teacher": predict_images(teacher_predictor(teacher, "landmarks"), names, paths,
                                      boxes)}
    aflw_points = {"teacher": predict_dataset(teacher_predictor(teacher, None), aflw)}
    for name, path in weights.items():
        reconstructor = make_reconstructor(weights=path)
        w300[name] = predict_images(pipeline_predictor(reconstructor, "landmarks"), names,
                                    paths, boxes)
        aflw_points[name] = predict_dataset(pipeline_predictor(reconstructor, "aflw_roi"), aflw)
    result = {
        "command": COMMAND, "arguments": sys.argv[1:],
        "weights": {name: str(path) for name, path in weights.items()},
        "300w_val": {"faces": len(faces), "rows": {
            name: offsets(np.stack([p[n][:, :2] for n in names]), w300_truth)
            for name, p in w300.items()}},
        "aflw2000": {"images": len(aflw), "rows": {
            name: offsets(np.stack([p[n][:, :2] for n in aflw.names]), aflw_truth)
            for name, p in aflw_points.items()}}}
    if args.builds:
        old, new = (real_300w_labels(build) for build in args.builds)
        common = sorted(set(old) & set(new))
        result["build_labels"] = {
            "old": str(args.builds[0]), "new": str(args.builds[1]), "photos": len(common),
            "new_vs_old": offsets(np.stack([new[k] for k in common]),
                                  np.stack([old[k] for k in common]))}
    write_result(args.name, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
