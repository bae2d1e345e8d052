"""The landmark error on the path a user takes: faces framed by the shipped detector's own
boxes instead of the benchmarks' boxes made from the ground truth.

The AFLW2000-3D protocol crops each face from its ROI box and the 300-W and dense protocols
from the box of the true 68 points: both know where the face is. ``facerecon reconstruct``
frames a face from the detector's box (``dlib_hog`` with its crop parameters,
:data:`facerecon.crop.BOX_CROP_PARAMS`), which lies a few per cent off the landmark crop.
This runs the default detector (default settings) on each whole photo and keeps, per
annotated face, the detection with the highest IoU with its true 68-point box if that IoU
is >= 0.4 (as benchmarks/detectors.py); faces without one are counted as missed and not
scored. On the found faces every model is scored twice, from the benchmark's box and from
the detector's box, with the benchmark's metric:

- ``aflw2000``: 2D NME / sqrt(w*h) of the true box (original annotation), mean of |yaw|
  bins and plain mean (%), the benchmark's box being the ROI box;
- ``300w``: inter-ocular NME (%) on the held-out split (``val``; ``--w300-split train``: the
  training split, data no benchmark uses, e.g. to choose between candidates), the
  benchmark's box being the true landmark box; mean and failure rate (> 8 %).

The 3DDFA_V2 teacher is the reference row: from the ROI box (AFLW2000-3D), the ``landmarks``
ROI rule on the true box (300-W) and its ``dlib_hog`` ROI rule on the detector's box. Both
``dlib_hog`` rules were tuned on all 1,207 300-W faces (docs/crop.md), held-out split
included: two medians, a negligible leak for the 300-W row, none for AFLW2000-3D.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/detector_path.py \
        --data ../shared/data/aflw2000-3d --w300 ../shared/data/300w \
        --weights NAME=FILE [NAME=FILE ...] [--surface-sigma NAME=SIGMA ...] \
        [--second-pass NAME ...] [--refine NAME=FILE ...] [--w300-split train] [--no-aflw]

``--no-aflw`` scores 300-W alone. Writes benchmarks/results/<name>.json (default
detector_path) and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

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
from facerecon.detection import DEFAULT_DETECTOR, create_detector
from facerecon.evaluate.metrics import binned_errors, nme_bbox, nme_interocular
from facerecon.evaluate.predictors import pipeline_predictor, teacher_predictor
from facerecon.evaluate.w300 import FAILURE_THRESHOLD, load_300w_split
from facerecon.imageio import read_image

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/detector_path.py "
           "--data ../shared/data/aflw2000-3d --w300 ../shared/data/300w "
           "--weights NAME=FILE [NAME=FILE ...] [--surface-sigma NAME=SIGMA ...] "
           "[--second-pass NAME ...] [--refine NAME=FILE ...]")
MIN_IOU = 0.4


@dataclass(frozen=True)
class AnnotatedFace:
    """One face to score: its photo, true (68, 2) points, the benchmark's box (``xyxy``),
    the yaw (degrees; None for 300-W) and the matched detector box (None: missed)."""

    name: str
    image: np.ndarray
    truth: np.ndarray
    benchmark_box: np.ndarray
    yaw: float | None
    detector_box: np.ndarray | None


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two ``xyxy`` boxes."""
    low, high = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    inter = float(np.prod(np.clip(high - low, 0, None)))
    area = float(np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]))
    return inter / (area - inter)


def matched_box(detector, image: np.ndarray, truth: np.ndarray) -> np.ndarray | None:
    """The detection of ``image`` with the highest IoU (>= :data:`MIN_IOU`) with the box of
    the (68, 2) ``truth`` points, or None."""
    truth_box = np.concatenate([truth.min(axis=0), truth.max(axis=0)])
    best, best_iou = None, MIN_IOU
    for detection in detector.detect(image):
        iou = box_iou(np.asarray(detection.box, np.float64), truth_box)
        if iou >= best_iou:
            best, best_iou = np.asarray(detection.box, np.float32), iou
    return best


def aflw_faces(folder: Path, detector) -> Iterator[AnnotatedFace]:
    """The AFLW2000-3D photos under ``folder`` with their ROI boxes."""
    for sample in Aflw2000Dataset(folder):
        image = read_image(sample.image_path)
        truth = sample.pts68[:, :2].astype(np.float64)
        yield AnnotatedFace(sample.name, image, truth, sample.roi_box, sample.yaw,
                            matched_box(detector, image, truth))


def w300_faces(folder: Path, detector, split: str = "val") -> Iterator[AnnotatedFace]:
    """The 300-W faces of ``split`` under ``folder`` with their true landmark boxes."""
    for sample in load_300w_split(folder, split):
        image = read_image(sample.image_path)
        truth = sample.landmarks.astype(np.float64)
        yield AnnotatedFace(sample.name, image, truth, sample.box.astype(np.float32), None,
                            matched_box(detector, image, truth))


PredictFace = Callable[[np.ndarray, np.ndarray], np.ndarray]


def score(faces: list[AnnotatedFace], benchmark: PredictFace, detector: PredictFace,
          metric: str) -> dict:
    """``metric`` ("bbox" or "interocular") of the found ``faces`` from each box (%)."""
    found = [face for face in faces if face.detector_box is not None]
    measure = nme_bbox if metric == "bbox" else nme_interocular
    row = {}
    for box_name, predict in (("benchmark_box", benchmark), ("detector_box", detector)):
        errors = np.array([
            float(measure(predict(face.image, getattr(face, box_name))[:, :2], face.truth))
            for face in found])
        if metric == "bbox":
            binned = binned_errors(errors, [face.yaw for face in found])
            summary = {"mean_of_bins": binned.mean_of_bins * 100, "mean": binned.mean * 100,
                       "counts": list(binned.counts)}
        else:
            summary = {"mean": float(errors.mean()) * 100,
                       "failure_rate": float(np.mean(errors > FAILURE_THRESHOLD)) * 100}
        row[box_name] = {key: round(value, 3) if isinstance(value, float) else value
                         for key, value in summary.items()}
    return row


def one_face(predict_batch) -> PredictFace:
    """``(image, box) -> (68, 3)`` from a ``predict_batch``."""
    return lambda image, box: predict_batch([image], np.asarray(box, np.float32)[None])[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_aflw_arguments(parser)
    parser.add_argument("--w300", type=Path, required=True, help="a 300w folder")
    parser.add_argument("--w300-split", choices=("val", "train"), default="val",
                        help="300-W split to score (default: the held-out val)")
    parser.add_argument("--no-aflw", action="store_true", help="skip AFLW2000-3D")
    add_named_weights(parser, "named .safetensors of the default model")
    add_pipeline_options(parser)
    parser.add_argument("--name", default="detector_path",
                        help="result file name under benchmarks/results (without .json)")
    args = parser.parse_args()
    weights = named_weights(parser, args.weights)
    reconstructors = pipeline_reconstructors(parser, args, weights)
    detector = create_detector(DEFAULT_DETECTOR)
    datasets = {} if args.no_aflw else {
        "aflw2000": (list(aflw_faces(args.data, detector)), "aflw_roi", None, "bbox")}
    datasets["300w"] = (list(w300_faces(args.w300, detector, args.w300_split)), "landmarks",
                        "landmarks", "interocular")
    teacher = Teacher.from_folder(teacher_folder(args))
    results = {}
    for dataset, (faces, box_source, teacher_rule, metric) in datasets.items():
        rows = {}
        for name, reconstructor in reconstructors.items():
            rows[name] = score(
                faces, one_face(pipeline_predictor(reconstructor, box_source)),
                one_face(pipeline_predictor(reconstructor, DEFAULT_DETECTOR)),
                metric)
        rows["teacher"] = score(
            faces, one_face(teacher_predictor(teacher, teacher_rule)),
            one_face(teacher_predictor(teacher, DEFAULT_DETECTOR)), metric)
        results[dataset] = {
            "faces": len(faces),
            "found": sum(face.detector_box is not None for face in faces),
            "missed": [face.name for face in faces if face.detector_box is None],
            "nme": rows}
    write_result(args.name, {
        "command": COMMAND, "arguments": sys.argv[1:], "detector": DEFAULT_DETECTOR,
        "min_iou": MIN_IOU, "w300_split": args.w300_split,
        "weights": {name: str(path) for name, path in weights.items()},
        "pipelines": {name: rec.settings for name, rec in reconstructors.items()},
        "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
