"""How the landmark error grows with the head's roll and with a less exact face box, on the
AFLW2000-3D photos.

The pipeline's crops are axis-aligned (docs/crop.md): the network sees a tilted head tilted
and has to regress the tilt, and it sees the face where the box put it. Training draws
roll, shift and scale only in the augmentation's geometric step (UTKFace's photos have
their roll removed, and the build frames every face by one recipe), so a recipe without
it may only hold near the upright head in the benchmark's exact box. Two families of
changes, each scored alone (each family's list includes the unchanged case):

- ``roll``: for each angle of ``--angles`` (degrees, positive turns the photo
  counter-clockwise as displayed) every photo is rotated about its ROI box's centre
  (``cv2.warpAffine``, bilinear, border reflected so that no black wedge marks the turn),
  its ground truth with the same matrix, and it is predicted with its ROI box unchanged
  (same centre and size; the face keeps its size);
- ``box``: the photo as it is, its ROI box moved by 10 % of its side left, right, up or
  down, or scaled about its centre by 0.9 or 1.15 (about as far as a detector's crop lies
  from the landmark crop: dlib HOG's centre 6.5 % of the crop side off at the median, 9.5 %
  at p90, its side 0.93-1.16 times; docs/crop.md).

NME: mean 2D error / sqrt(w*h) of the unturned ground-truth box (%), original annotation,
as the benchmark; each family also reports its mean over its changes. The 3DDFA_V2 teacher
on the same boxes is the reference row.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/aflw2000_robustness.py \
        --data ../shared/data/aflw2000-3d --weights NAME=FILE [NAME=FILE ...] \
        [--surface-sigma NAME=SIGMA ...] [--second-pass NAME ...] [--refine NAME=FILE ...]

Writes benchmarks/results/<name>.json (default aflw2000_robustness) and prints the same JSON.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
from common import (
    add_aflw_arguments,
    add_named_weights,
    add_pipeline_options,
    named_weights,
    pipeline_reconstructors,
    teacher_folder,
    write_result,
)

from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.data.teacher import Teacher
from facerecon.evaluate.metrics import bbox_normalizer
from facerecon.evaluate.predictors import pipeline_predictor, teacher_predictor
from facerecon.imageio import read_image

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/aflw2000_robustness.py "
           "--data ../shared/data/aflw2000-3d --weights NAME=FILE [NAME=FILE ...] "
           "[--surface-sigma NAME=SIGMA ...] [--second-pass NAME ...] [--refine NAME=FILE ...]")
ANGLES = (-45.0, -30.0, -15.0, 0.0, 15.0, 30.0, 45.0)
#: name -> (x shift, y shift, scale): shifts in box sides, scale about the box centre.
BOX_CHANGES = {"as_is": (0.0, 0.0, 1.0), "left": (-0.1, 0.0, 1.0), "right": (0.1, 0.0, 1.0),
               "up": (0.0, -0.1, 1.0), "down": (0.0, 0.1, 1.0), "smaller": (0.0, 0.0, 0.9),
               "larger": (0.0, 0.0, 1.15)}


def turned(image: np.ndarray, points: np.ndarray, roi: np.ndarray,
           angle: float) -> tuple[np.ndarray, np.ndarray]:
    """``image`` (H, W, 3) and its (68, 2) ``points`` rotated by ``angle`` degrees
    (counter-clockwise as displayed) about the centre of the ``xyxy`` ``roi``."""
    centre = ((roi[0] + roi[2]) / 2.0, (roi[1] + roi[3]) / 2.0)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)  # (2, 3)
    height, width = image.shape[:2]
    rotated = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT_101)
    return rotated, points @ matrix[:, :2].T + matrix[:, 2]


def changed_box(roi: np.ndarray, shift_x: float, shift_y: float, scale: float) -> np.ndarray:
    """The ``xyxy`` ``roi`` moved by (shift_x, shift_y) of its width / height and scaled by
    ``scale`` about its centre; (4,) float32."""
    size = roi[2:] - roi[:2]
    centre = (roi[:2] + roi[2:]) / 2.0 + np.array([shift_x, shift_y]) * size
    half = size * scale / 2.0
    return np.concatenate([centre - half, centre + half]).astype(np.float32)


def score(predict, dataset: Aflw2000Dataset, angles: list[float]) -> dict[str, dict]:
    """Family -> change -> mean NME (%) of ``predict`` on ``dataset``, plus ``mean``."""
    errors: dict[str, dict[str, list[float]]] = {"roll": {}, "box": {}}
    for sample in dataset:
        image = read_image(sample.image_path)
        truth = sample.pts68[:, :2].astype(np.float64)
        normaliser = float(bbox_normalizer(truth))
        cases = [("roll", f"{angle:g}", *turned(image, truth, sample.roi_box, angle),
                  sample.roi_box) for angle in angles]
        cases += [("box", name, image, truth, changed_box(sample.roi_box, *change))
                  for name, change in BOX_CHANGES.items()]
        for family, name, photo, expected, box in cases:
            points = predict([photo], box[None])[0][:, :2]
            error = np.linalg.norm(points - expected, axis=1).mean() / normaliser * 100
            errors[family].setdefault(name, []).append(float(error))
    rows = {}
    for family, changes in errors.items():
        row = {name: round(float(np.mean(values)), 2) for name, values in changes.items()}
        row["mean"] = round(float(np.mean([np.mean(values) for values in changes.values()])), 2)
        rows[family] = row
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_aflw_arguments(parser)
    add_named_weights(parser, "named .safetensors of the default model")
    parser.add_argument("--angles", type=float, nargs="+", default=list(ANGLES),
                        help="roll angles in degrees (default: -45 -30 -15 0 15 30 45)")
    add_pipeline_options(parser)
    parser.add_argument("--name", default="aflw2000_robustness",
                        help="result file name under benchmarks/results (without .json)")
    args = parser.parse_args()
    weights = named_weights(parser, args.weights)
    dataset = Aflw2000Dataset(args.data)
    reconstructors = pipeline_reconstructors(parser, args, weights)
    rows = {name: score(pipeline_predictor(rec, "aflw_roi"), dataset, args.angles)
            for name, rec in reconstructors.items()}
    teacher = Teacher.from_folder(teacher_folder(args))
    rows["teacher"] = score(teacher_predictor(teacher, None), dataset, args.angles)
    write_result(args.name, {
        "command": COMMAND, "weights": {name: str(path) for name, path in weights.items()},
        "pipelines": {name: rec.settings for name, rec in reconstructors.items()},
        "images": len(dataset), "angles_deg": args.angles,
        "box_changes": {name: dict(zip(("shift_x", "shift_y", "scale"), change, strict=True))
                        for name, change in BOX_CHANGES.items()},
        "nme": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
