"""Crop parameters for AFLW2000-3D's benchmark ROI boxes (``BOX_CROP_PARAMS["aflw_roi"]``).

The ROI boxes (``AFLW2000-3D_crop.roi_box.npy``) are 3DDFA's landmark ROI rule applied to
the ground-truth landmarks: a square of side sqrt(2) x max(w, h) of the 68-point box, on the
box centre (``roi_from_box(box, "landmarks")`` of the teacher). That is much looser than the
landmark box the pipeline's "given" entry assumes, so they get their own entry.

The AFLW landmarks are the test labels, so nothing is fitted on them. The parameters are
fitted on 300-W (HELEN train subset + AFW in shared/data): the ROI the rule gives from each
face's 68-point box, against the 68-point landmark crop (``fit_box_crop_params``). On the
AFLW images only a check is made: how far each provided ROI is from the rule applied to its
ground-truth box (a test of the claim above, not a fit).

    FACERECON_SHARED_DATA=/work/shared/data PYTHONPATH=src OMP_NUM_THREADS=2 \
        /work/venv/bin/python benchmarks/aflw_roi_crop.py

Writes benchmarks/results/aflw_roi_crop.json and prints the same JSON.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from common import write_result

from facerecon.crop import crop_from_box, crop_from_landmarks, fit_box_crop_params
from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.data.pts import iter_300w
from facerecon.data.teacher import landmark_box, roi_from_box

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACERECON_SHARED_DATA", REPO.parent / "shared" / "data"))
COMMAND = ("FACERECON_SHARED_DATA=/work/shared/data PYTHONPATH=src OMP_NUM_THREADS=2 "
           "/work/venv/bin/python benchmarks/aflw_roi_crop.py")


def crop_residuals(boxes: np.ndarray, landmarks: np.ndarray, params) -> dict:
    """Box crop vs 68-point landmark crop: centre offset / landmark-crop side, side ratio."""
    offsets, ratios = [], []
    centre = np.array([[127.5, 127.5]])
    for box, points in zip(boxes, landmarks, strict=True):
        by_box = crop_from_box(box, 256, params.scale, params.center_shift)
        by_marks = crop_from_landmarks(points, 256)
        shift = by_box.to_image(centre) - by_marks.to_image(centre)
        offsets.append(float(np.linalg.norm(shift)) * by_marks.scale / 256)
        ratios.append(by_marks.scale / by_box.scale)
    return {
        "centre_offset_over_side_p50_p90": np.percentile(offsets, [50, 90]).round(4).tolist(),
        "side_ratio_p10_p50_p90": np.percentile(ratios, [10, 50, 90]).round(4).tolist(),
    }


def main() -> int:
    faces = [points for _, points in iter_300w(DATA / "300w")]
    landmarks = np.stack(faces).astype(np.float64)
    rois = np.stack([roi_from_box(landmark_box(points), "landmarks") for points in landmarks])
    params = fit_box_crop_params(rois, landmarks)

    dataset = Aflw2000Dataset(DATA / "aflw2000-3d")
    provided = np.stack([s.roi_box for s in dataset]).astype(np.float64)
    rule = np.stack([roi_from_box(landmark_box(s.pts68), "landmarks") for s in dataset])
    difference = np.abs(provided - rule)
    sides = provided[:, 2] - provided[:, 0]
    report = {
        "command": COMMAND,
        "fit": {
            "data": "300-W helen-train + afw in shared/data/300w (all faces)",
            "faces": len(landmarks),
            "boxes": "roi_from_box(68-point landmark box, 'landmarks'): side sqrt(2) max(w, h)",
            "scale": round(params.scale, 3),
            "center_shift": round(params.center_shift, 3),
            **crop_residuals(rois, landmarks, params),
        },
        "check_on_aflw2000": {
            "images": dataset.names,
            "provided_roi_vs_rule_max_abs_px": round(float(difference.max()), 3),
            "provided_roi_vs_rule_median_abs_px": round(float(np.median(difference)), 3),
            "roi_side_px_min_max": [float(sides.min()), float(sides.max())],
        },
    }
    write_result("aflw_roi_crop", report, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
