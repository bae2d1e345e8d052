"""Held-out check of the ROI rules and of a second teacher pass from a tight first box.

On 300-W AFW (all 337 images, NME / outer inter-ocular distance) and the 16 AFLW2000-3D
images (NME / sqrt(w*h), original annotations), with ROIs built from the ground-truth 68-point
box: the ``landmarks`` and ``landmarks_tuned`` rules, and a "tight" rule that frames the face
the way UTKFace's whole 200x200 photos do (landmark box about 0.87 of the side and its centre
0.064 of the side below the image centre, from benchmarks/teacher_utkface_whole.py: scale
1/0.87 = 1.15, shift -0.074) alone and followed by a second pass that re-crops around the
first pass's landmarks with ``landmarks_tuned``.

    PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/teacher_two_pass.py \
        --shared ../shared/data

Writes benchmarks/results/teacher_two_pass.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from common import write_result

from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.data.pts import iter_300w
from facerecon.data.teacher import ROI_RULES, RoiRule, Teacher, landmark_box, roi_from_box
from facerecon.evaluate.metrics import binned_errors, nme_bbox, nme_interocular
from facerecon.imageio import read_image

TIGHT = RoiRule(scale=1.15, shift_y=-0.074, size_from="max")


def predict(teacher: Teacher, images, boxes, rule: RoiRule) -> np.ndarray:
    rois = np.stack([roi_from_box(box, rule) for box in boxes])
    return np.concatenate(
        [
            teacher.predict_batch(images[i : i + 64], rois[i : i + 64])
            for i in range(0, len(images), 64)
        ]
    )


def variants(teacher: Teacher, images, gt_boxes) -> dict[str, np.ndarray]:
    out = {
        name: predict(teacher, images, gt_boxes, ROI_RULES[name])
        for name in ("landmarks", "landmarks_tuned")
    }
    out["tight"] = predict(teacher, images, gt_boxes, TIGHT)
    first_boxes = [landmark_box(points) for points in out["tight"]]
    out["tight_then_second_pass"] = predict(
        teacher, images, first_boxes, ROI_RULES["landmarks_tuned"]
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="shared/data folder")
    args = parser.parse_args()
    # Accuracy only; one thread because two threads stall badly on the shared 2-core machine.
    torch.set_num_threads(1)
    teacher = Teacher.from_folder(args.shared / "teacher-3ddfa")
    pairs = list(iter_300w(args.shared / "300w" / "afw"))
    images = [read_image(path) for path, _ in pairs]
    gt = np.stack([points for _, points in pairs])
    afw = {
        name: float(np.mean(nme_interocular(pred[..., :2], gt)) * 100)
        for name, pred in variants(teacher, images, [landmark_box(p) for p in gt]).items()
    }
    dataset = Aflw2000Dataset(args.shared / "aflw2000-3d")
    images = [read_image(s.image_path) for s in dataset]
    gt = np.stack([s.pts68[:, :2] for s in dataset])
    yaw = [s.yaw for s in dataset]
    aflw = {}
    for name, pred in variants(teacher, images, [landmark_box(p) for p in gt]).items():
        table = binned_errors(nme_bbox(pred[..., :2], gt), yaw)
        aflw[name] = {"mean": table.mean * 100, "mean_of_bins": table.mean_of_bins * 100}
    report = {
        "command": "PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/teacher_two_pass.py "
        "--shared ../shared/data",
        "tight_rule": vars(TIGHT),
        "afw_nme_io_percent": afw,
        "aflw16_nme_bbox_percent_original_fitted_yaw": aflw,
    }
    write_result("teacher_two_pass", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
