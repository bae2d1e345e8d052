"""Where a model's AFLW2000-3D error comes from: per image pose, error, and bias per feature.

For the images in ``--data`` (ROI-box crops, the benchmark's protocol) this scores the model
and the 3DDFA_V2 teacher against the original 2D ground truth, and reports per image the
pose of its ``.mat`` (``Pose_Para``: pitch, yaw, roll in degrees), both NMEs and the model's
distance to the teacher's points; then, over all images, the mean signed offset (x, y; %
of sqrt(w*h) of the ground-truth box; y down) of each feature (jaw, brows, nose, eyes,
mouth) for model and teacher: a systematic bias shows as an offset far from the teacher's.
``mean_nme_by_feature``: each feature's mean point error (% of sqrt(w*h)), for model and
teacher. How much of the error such biases make: ``mean_nme_minus_mean_offsets``, the mean
NME after subtracting from every point its mean signed offset over the images (what would
remain if every bias were corrected perfectly).

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/aflw2000_diagnosis.py \
        --data ../shared/data/aflw2000-3d [--weights FILE --name aflw2000_diagnosis_run_vNN]
        [--surface-sigma S]

Writes benchmarks/results/<name>.json (default aflw2000_diagnosis) and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from common import LANDMARK_PARTS, add_aflw_arguments, teacher_folder, write_result

from facerecon.data.aflw2000 import Aflw2000Dataset, read_aflw_mat
from facerecon.data.teacher import Teacher
from facerecon.evaluate.aflw2000 import predict_dataset
from facerecon.evaluate.metrics import bbox_normalizer, nme_bbox
from facerecon.evaluate.predictors import make_reconstructor, pipeline_predictor, teacher_predictor

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/aflw2000_diagnosis.py "
           "--data ../shared/data/aflw2000-3d")
FEATURES = {name: LANDMARK_PARTS[name] for name in ("jaw", "brows", "nose", "eyes", "mouth")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_aflw_arguments(parser)
    parser.add_argument("--weights", type=Path, default=None, help="default: shipped weights")
    parser.add_argument("--surface-sigma", type=float, default=None,
                        help="smoothing of the model's maps (default: the model's own)")
    parser.add_argument("--name", default="aflw2000_diagnosis",
                        help="result file name under benchmarks/results (without .json)")
    args = parser.parse_args()
    dataset = Aflw2000Dataset(args.data)
    teacher = Teacher.from_folder(teacher_folder(args))
    model = make_reconstructor(weights=args.weights, surface_sigma=args.surface_sigma)
    predictions = {
        "model": predict_dataset(pipeline_predictor(model, "aflw_roi"), dataset),
        "teacher": predict_dataset(teacher_predictor(teacher, None), dataset)}
    truth = np.stack([sample.pts68[:, :2] for sample in dataset])
    box = np.atleast_1d(bbox_normalizer(truth))  # (N,) sqrt(w*h) of the ground-truth box
    points = {name: np.stack([p[n][:, :2] for n in dataset.names])
              for name, p in predictions.items()}
    nme = {name: nme_bbox(p, truth) * 100 for name, p in points.items()}
    offsets = {name: (p - truth) / box[:, None, None] * 100 for name, p in points.items()}
    to_teacher = np.linalg.norm(points["model"] - points["teacher"], axis=2).mean(1) / box * 100
    images = []
    for index, sample in enumerate(dataset):
        pose = read_aflw_mat(sample.mat_path) if sample.mat_path else None
        row = {"image": sample.name}
        if pose is not None:
            row.update({key: round(float(np.degrees(getattr(pose, key))), 1)
                        for key in ("pitch", "yaw", "roll")})
        row.update({f"nme_{name}": round(float(errors[index]), 2)
                    for name, errors in nme.items()})
        row["model_to_teacher"] = round(float(to_teacher[index]), 2)
        images.append(row)
    bias = {name: {feature: np.round(o[:, part].mean((0, 1), dtype=np.float64), 2).tolist()
                   for feature, part in FEATURES.items()} for name, o in offsets.items()}
    write_result(args.name, {
        "command": COMMAND, "arguments": sys.argv[1:],
        "weights": str(args.weights or "shipped"), "images": images,
        "mean_nme": {name: round(float(errors.mean()), 2) for name, errors in nme.items()},
        "mean_model_to_teacher": round(float(to_teacher.mean()), 2),
        "mean_nme_by_feature": {
            name: {feature: round(float(np.linalg.norm(o[:, part], axis=2).mean()), 2)
                   for feature, part in FEATURES.items()} for name, o in offsets.items()},
        "mean_offset_pct_xy": bias,
        "mean_nme_minus_mean_offsets": {
            name: round(float(np.linalg.norm(o - o.mean(0), axis=2).mean()), 2)
            for name, o in offsets.items()}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
