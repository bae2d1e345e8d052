"""Does the network read a face's size, proportions and place from the photo, or from the crop?

Each face of the 300-W held-out split and of the AFLW2000-3D images is cropped with the
pipeline's 68-point recipe from its ground-truth landmark box (``crop_from_box`` with
``BOX_CROP_PARAMS["landmarks"]``), and again with the crop side multiplied by ``k`` in
``CROP_FACTORS`` about the same centre (``k`` > 1: the face is smaller in the crop). For each
weights and crop factor it reports:

- ``nme_box``: mean 68-point 2D error / sqrt(w*h) of the ground-truth box, %;
- ``size_ratio_x`` / ``size_ratio_y``: mean over faces of (mean |x - mean x| of the predicted
  points) / (the same of the true points), likewise for y: 1 is the true size;
- per feature, the mean signed vertical offset (``dy_pct``, % of sqrt(w*h), y down).

and per weights ``scale_following`` = 1 - d ln(size ratio) / d ln(k) (least squares over
``k``, size ratio the geometric mean of x and y): 1 when the predicted face keeps its size
in the photo whatever the crop (the network reads the size from the face), 0 when it keeps
its size in the crop (the network draws a face of one size into every crop);
``aspect_error`` = size_ratio_y / size_ratio_x - 1 at k = 1 (> 0: drawn too tall for its
width). Likewise the crop (k = 1) is moved down and up by ``SHIFT`` of its side:
``shift_following_y`` = 1 - (mean predicted y movement in the photo) / (crop movement), 1 when
the face stays where it is in the photo, 0 when it moves with the crop.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/scale_following.py \
        --shared ../shared/data --weights NAME=FILE [NAME=FILE ...]

Writes benchmarks/results/scale_following.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import LANDMARK_PARTS, add_named_weights, named_weights, write_result

from facerecon.crop import BOX_CROP_PARAMS
from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.evaluate.metrics import bbox_normalizer
from facerecon.evaluate.predictors import make_reconstructor, pipeline_predictor, predict_images
from facerecon.evaluate.w300 import load_300w_split

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/scale_following.py "
           "--shared ../shared/data --weights NAME=FILE [NAME=FILE ...]")
CROP_FACTORS = (0.88, 1.0, 1.12)
SHIFT = 0.06  # of the crop side
FEATURES = {name: LANDMARK_PARTS[name] for name in ("chin", "mouth", "nose", "eyes", "brows")}


def moved_boxes(boxes: np.ndarray, factor: float, shift_down: float = 0.0) -> np.ndarray:
    """(N, 4) ``xyxy`` boxes whose ``"landmarks"`` crop is that of ``boxes`` with its side
    times ``factor`` about the same centre, then moved down by ``shift_down`` of its new side
    (the recipe's centre shift scales with the box, so the box centre is moved to keep the
    crop centre)."""
    params = BOX_CROP_PARAMS["landmarks"]
    size = boxes[:, 2:] - boxes[:, :2]
    mean_side = size.mean(axis=1)
    zero = np.zeros_like(mean_side)
    crop_centre = (boxes[:, :2] + boxes[:, 2:]) / 2 + np.stack(
        [zero, params.center_shift * mean_side], axis=1)
    crop_centre[:, 1] += shift_down * params.scale * factor * mean_side
    centre = crop_centre - np.stack([zero, params.center_shift * factor * mean_side], axis=1)
    return np.concatenate([centre - factor * size / 2, centre + factor * size / 2], axis=1)


def size_ratios(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(2,) mean over faces of the predicted / true spread about the centroid, x and y."""
    spread = [np.abs(points - points.mean(axis=1, keepdims=True)).mean(axis=1)
              for points in (predicted, truth)]  # (N, 2) each
    return (spread[0] / spread[1]).mean(axis=0)


def predict(rec, names, paths, boxes: np.ndarray) -> np.ndarray:
    """(N, 68, 2) float64 predicted landmarks of ``rec`` in image pixels."""
    found = predict_images(pipeline_predictor(rec, "landmarks"), names, paths, boxes)
    return np.stack([found[name][:, :2] for name in names]).astype(np.float64)


def score(rec, names, paths, truth: np.ndarray) -> dict:
    """Per crop factor: NME, size ratios and feature offsets of ``rec``; and the summary."""
    boxes = np.concatenate([truth.min(axis=1), truth.max(axis=1)], axis=1).astype(np.float64)
    extent = truth.max(axis=1) - truth.min(axis=1)
    normaliser = bbox_normalizer(truth)
    rows = []
    for factor in CROP_FACTORS:
        predicted = predict(rec, names, paths, moved_boxes(boxes, factor))
        offset = (predicted - truth) / normaliser[:, None, None] * 100
        ratio = size_ratios(predicted, truth)
        rows.append({
            "crop_factor": factor,
            "nme_box": round(float((np.linalg.norm(offset, axis=2).mean(axis=1)).mean()), 3),
            "size_ratio_x": round(float(ratio[0]), 4), "size_ratio_y": round(float(ratio[1]), 4),
            "dy_pct": {feature: round(float(offset[:, part, 1].mean()), 2)
                       for feature, part in FEATURES.items()}})
    log_ratio = [0.5 * np.log(row["size_ratio_x"] * row["size_ratio_y"]) for row in rows]
    slope = np.polyfit(np.log(CROP_FACTORS), log_ratio, 1)[0]
    middle = rows[CROP_FACTORS.index(1.0)]
    down, up = (predict(rec, names, paths, moved_boxes(boxes, 1.0, sign * SHIFT))
                for sign in (1, -1))
    crop_side = BOX_CROP_PARAMS["landmarks"].scale * (extent[:, 0] + extent[:, 1]) / 2
    moved = (down[..., 1] - up[..., 1]).mean(axis=1) / (2 * SHIFT * crop_side)
    return {"scale_following": round(float(1 - slope), 3),
            "aspect_error": round(middle["size_ratio_y"] / middle["size_ratio_x"] - 1, 4),
            "shift_following_y": round(float(1 - moved.mean()), 3),
            "crops": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="the shared/data folder")
    add_named_weights(parser, "named .safetensors of the default model")
    args = parser.parse_args()
    weights = named_weights(parser, args.weights)
    w300 = load_300w_split(args.shared / "300w", "val")
    aflw = Aflw2000Dataset(args.shared / "aflw2000-3d")
    faces = {
        "300w_val": ([s.name for s in w300], [s.image_path for s in w300],
                     np.stack([s.landmarks[:, :2] for s in w300]).astype(np.float64)),
        "aflw2000": (list(aflw.names), [s.image_path for s in aflw],
                     np.stack([s.pts68[:, :2] for s in aflw]).astype(np.float64))}
    results = {}
    for name, path in weights.items():
        rec = make_reconstructor(weights=path)
        results[name] = {"pipeline": rec.settings,
                         **{data: score(rec, *columns) for data, columns in faces.items()}}
    write_result("scale_following", {
        "command": COMMAND, "weights": {name: str(path) for name, path in weights.items()},
        "crop_factors": list(CROP_FACTORS),
        "crops": "68-point recipe from the ground-truth landmark box, side times the factor",
        "shift": SHIFT,
        "faces": {data: len(columns[0]) for data, columns in faces.items()},
        "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
