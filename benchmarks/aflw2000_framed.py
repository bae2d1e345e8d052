"""Does a model find the chin where the photo ends? AFLW2000-3D framed like UTKFace.

UTKFace's photos (91 % of the training samples) are tight crops: the photo ends just below
the chin. This measures where, on a data build's real UTKFace samples (the dark margin of
each stored crop, every 10th training shard): the median distance from the 68-point label
box to the photo's edge on each side, as a fraction of the box's width (left, right) or
height (top, bottom). It then blacks out every AFLW2000-3D photo outside its ground-truth
68-point box widened by those margins, and scores each model and the 3DDFA_V2 teacher with
the benchmark's protocol (ROI-box crops, 2D NME / sqrt(w*h) of the ground-truth box,
original annotation; mean of |yaw| bins and plain mean) on the photos as they are and
framed, with the mean signed vertical offset of the mouth and chin points (% of sqrt(w*h),
y down).

The framed photos leak the ground truth (the frame sits where the true chin is): a model
that gains much more from it than the teacher does reads the chin off the photo's edge. The
same frame with its bottom edge moved further down (``BOTTOM_MARGINS``, fractions of the
box height below the chin; the other sides at UTKFace's medians) shows how far the chin
follows the edge (``chin_dy`` per margin). The ``padded`` view pads each photo with
``PAD`` pixels of its replicated border (predictions mapped back): the benchmark's crops
lie inside the photos, so it should score as the photos do.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/aflw2000_framed.py \
        --data ../shared/data/aflw2000-3d --build /path/to/build --weights NAME=FILE [...]

Writes benchmarks/results/aflw2000_framed.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from common import (
    LANDMARK_PARTS,
    add_aflw_arguments,
    add_named_weights,
    named_weights,
    teacher_folder,
    write_result,
)

from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.data.shards import list_shards, read_shard
from facerecon.data.teacher import Teacher
from facerecon.evaluate.aflw2000 import evaluate_aflw2000
from facerecon.evaluate.metrics import bbox_normalizer
from facerecon.evaluate.predictors import make_reconstructor, pipeline_predictor, teacher_predictor
from facerecon.imageio import read_image

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/aflw2000_framed.py "
           "--data ../shared/data/aflw2000-3d --build BUILD --weights NAME=FILE [NAME=FILE ...]")
SIDES = ("left", "top", "right", "bottom")
PHOTO_LEVEL = 8  # max(R, G, B) above this is photo, not the crop's black margin
PHOTO_SHARE = 0.3  # a crop row/column is inside the photo when this share of it is photo
BOTTOM_MARGINS = (0.15, 0.3, 0.6)  # further frames: bottom edge this far below the chin
PAD = 300  # pixels of replicated border around each photo in the ``padded`` view


def photo_margins(build: Path, shard_step: int = 10) -> dict:
    """Median margin from the label box to the photo's edge per side (fraction of the box's
    width or height; < 0: the photo cuts the box) over the build's real UTKFace samples."""
    margins = []
    for shard in list_shards(build, "train")[::shard_step]:
        for sample in read_shard(shard):
            if sample["meta"]["synthetic"] or sample["meta"]["source"] != "utkface":
                continue
            photo = sample["image"].max(axis=2) > PHOTO_LEVEL
            columns = np.flatnonzero(photo.mean(axis=0) > PHOTO_SHARE)
            rows = np.flatnonzero(photo.mean(axis=1) > PHOTO_SHARE)
            points = sample["annotation"][:, :2]
            low, high = points.min(axis=0), points.max(axis=0)
            width, height = high - low
            margins.append([(low[0] - columns[0]) / width, (low[1] - rows[0]) / height,
                            (columns[-1] - high[0]) / width, (rows[-1] - high[1]) / height])
    margins = np.asarray(margins)
    return {"photos": len(margins),
            "median": dict(zip(SIDES, np.round(np.median(margins, 0), 3).tolist(), strict=True)),
            "p10": dict(zip(SIDES, np.round(np.percentile(margins, 10, 0), 3).tolist(),
                            strict=True)),
            "p90": dict(zip(SIDES, np.round(np.percentile(margins, 90, 0), 3).tolist(),
                            strict=True))}


def framed(image: np.ndarray, truth: np.ndarray, margins: dict) -> np.ndarray:
    """``image`` black outside the (68, 2) ``truth`` box widened by ``margins`` (fractions)."""
    low, high = truth.min(axis=0), truth.max(axis=0)
    width, height = high - low
    left = int(round(low[0] - margins["left"] * width))
    top = int(round(low[1] - margins["top"] * height))
    right = int(round(high[0] + margins["right"] * width))
    bottom = int(round(high[1] + margins["bottom"] * height))
    out = np.zeros_like(image)
    rows, columns = slice(max(top, 0), max(bottom + 1, 0)), slice(max(left, 0), max(right + 1, 0))
    out[rows, columns] = image[rows, columns]
    return out


def score(predict, dataset: Aflw2000Dataset, margins: dict) -> dict:
    """``{view: {mean_of_bins, mean, mouth_dy, chin_dy}}`` (%) of ``predict``; views
    ``as_is``, ``padded``, ``framed`` (UTKFace's margins) and ``framed_bottom_<m>``
    (BOTTOM_MARGINS)."""
    frames = {"framed": margins} | {f"framed_bottom_{m}": margins | {"bottom": m}
                                    for m in BOTTOM_MARGINS}
    predictions: dict[str, dict] = {"as_is": {}, "padded": {}} | {name: {} for name in frames}
    for sample in dataset:
        image = read_image(sample.image_path)
        truth = sample.pts68[:, :2].astype(np.float64)
        shown = {"as_is": image} | {name: framed(image, truth, frame)
                                    for name, frame in frames.items()}
        for name, picture in shown.items():
            predictions[name][sample.image_path.name] = predict([picture], sample.roi_box[None])[0]
        padded = cv2.copyMakeBorder(image, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
        points = predict([padded], sample.roi_box[None] + PAD)[0].copy()
        points[:, :2] -= PAD
        predictions["padded"][sample.image_path.name] = points
    truth = np.stack([sample.pts68[:, :2] for sample in dataset])
    box = np.atleast_1d(bbox_normalizer(truth))
    rows = {}
    for name, found in predictions.items():
        summary = evaluate_aflw2000(dataset, found).summary["original"]
        points = np.stack([found[n][:, :2] for n in dataset.names])
        offset_y = (points[..., 1] - truth[..., 1]) / box[:, None] * 100
        rows[name] = {"mean_of_bins": round(summary.mean_of_bins * 100, 2),
                      "mean": round(summary.mean * 100, 2),
                      "mouth_dy": round(float(offset_y[:, LANDMARK_PARTS["mouth"]].mean()), 2),
                      "chin_dy": round(float(offset_y[:, LANDMARK_PARTS["chin"]].mean()), 2)}
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_aflw_arguments(parser)
    parser.add_argument("--build", type=Path, required=True,
                        help="a `facerecon data build` folder (UTKFace margins)")
    add_named_weights(parser, "named .safetensors of the default model")
    args = parser.parse_args()
    weights = named_weights(parser, args.weights)
    dataset = Aflw2000Dataset(args.data)
    margins = photo_margins(args.build)
    predictors = {name: pipeline_predictor(make_reconstructor(weights=path), "aflw_roi")
                  for name, path in weights.items()}
    teacher = Teacher.from_folder(teacher_folder(args))
    predictors["teacher"] = teacher_predictor(teacher, None)
    rows = {name: score(predict, dataset, margins["median"])
            for name, predict in predictors.items()}
    write_result("aflw2000_framed", {
        "command": COMMAND, "build": str(args.build),
        "weights": {name: str(path) for name, path in weights.items()},
        "images": len(dataset), "utkface_margins": margins, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
