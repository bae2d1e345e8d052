"""What the whole-image box does on UTKFace's aligned 200x200 crops (no ground truth there).

UTKFace has no landmarks, so accuracy cannot be measured; this reports what can be: where
the teacher puts the face when the ROI is the whole image (landmark box size and centre
relative to the image), and how far a second pass moves the landmarks when it re-crops with
the ``landmarks`` rule around the first pass (mean 2D shift / sqrt(w*h) of the first-pass
box). Every 20th file of shared/data/utkface.

    PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/teacher_utkface_whole.py \
        --shared ../shared/data

Writes benchmarks/results/teacher_utkface_whole.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from common import write_result

from facerecon.data.images import iter_image_files
from facerecon.data.teacher import Teacher, landmark_box, roi_from_box
from facerecon.evaluate.metrics import nme_bbox
from facerecon.imageio import read_image


def stats(values: np.ndarray) -> dict:
    return {q: float(np.percentile(values, p)) for q, p in (("p5", 5), ("median", 50), ("p95", 95))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="shared/data folder")
    parser.add_argument("--step", type=int, default=20)
    args = parser.parse_args()
    # Accuracy only; one thread because two threads stall badly on the shared 2-core machine.
    torch.set_num_threads(1)
    teacher = Teacher.from_folder(args.shared / "teacher-3ddfa")
    paths = list(iter_image_files(args.shared / "utkface"))[:: args.step]
    images = [read_image(path) for path in paths]
    whole = np.stack([[-0.5, -0.5, im.shape[1] - 0.5, im.shape[0] - 0.5] for im in images]).astype(
        np.float32
    )
    first = np.concatenate(
        [
            teacher.predict_batch(images[i : i + 64], whole[i : i + 64])
            for i in range(0, len(images), 64)
        ]
    )
    boxes = np.stack([landmark_box(points) for points in first])
    rois = np.stack([roi_from_box(box, "landmarks") for box in boxes])
    second = np.concatenate(
        [
            teacher.predict_batch(images[i : i + 64], rois[i : i + 64])
            for i in range(0, len(images), 64)
        ]
    )
    side = whole[:, 2] - whole[:, 0]
    report = {
        "command": "PYTHONPATH=src OMP_NUM_THREADS=2 python benchmarks/teacher_utkface_whole.py "
        f"--shared ../shared/data --step {args.step}",
        "images": len(images),
        "first_pass_box_side_over_image_side": stats(
            np.maximum(*(boxes[:, 2:] - boxes[:, :2]).T) / side
        ),
        "first_pass_box_centre_minus_image_centre_over_side": {
            "x": stats(((boxes[:, 0] + boxes[:, 2]) / 2 - (whole[:, 0] + whole[:, 2]) / 2) / side),
            "y": stats(((boxes[:, 1] + boxes[:, 3]) / 2 - (whole[:, 1] + whole[:, 3]) / 2) / side),
        },
        "second_pass_shift_percent_of_box": stats(nme_bbox(second[..., :2], first[..., :2]) * 100),
        "note": "no ground truth: these are consistency figures, not accuracy",
    }
    write_result("teacher_utkface_whole", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
