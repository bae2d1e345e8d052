"""Measure crop parameters per box source on the 300-W images (HELEN train subset + AFW).

For each source (5-point landmarks, OpenCV's Haar cascade, dlib's HOG detector) this fits
``BoxCropParams`` so that ``crop_from_box(box)`` matches the 68-point landmark crop
(``facerecon.crop.fit_box_crop_params``), and reports how far the fitted crops still are
from the landmark crops: centre offset and side ratio, as quantiles over the faces.

A detector box counts for a face when its IoU with the 68-point landmark box is >= 0.4 (the
best such box per image). Detector settings are written into the JSON; the detection
module's own wrappers should re-run this fit with their settings.

    FACERECON_SHARED_DATA=/work/shared/data PYTHONPATH=src OMP_NUM_THREADS=2 \
        /work/venv/bin/python benchmarks/crop_params.py

(``FACERECON_SHARED_DATA`` is the data folder, ``../shared/data`` by default.)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from common import write_result

from facerecon.crop import crop_from_box, crop_from_landmarks, fit_box_crop_params
from facerecon.detection.base import box_iou

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACERECON_SHARED_DATA", REPO.parent / "shared" / "data")) / "300w"
COMMAND = ("FACERECON_SHARED_DATA=/work/shared/data PYTHONPATH=src OMP_NUM_THREADS=2 "
           "/work/venv/bin/python benchmarks/crop_params.py")
HAAR_SETTINGS = {"cascade": "haarcascade_frontalface_default.xml", "scaleFactor": 1.1,
                 "minNeighbors": 5, "minSize": [30, 30]}
DLIB_SETTINGS = {"detector": "get_frontal_face_detector", "upsample": 0}


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """(68, 2) -> (5, 2): eye centres (36-41, 42-47), nose tip 30, mouth corners 48, 54."""
    return np.stack([landmarks[36:42].mean(0), landmarks[42:48].mean(0), landmarks[30],
                     landmarks[48], landmarks[54]])



def best_match(boxes: list[np.ndarray], target: np.ndarray) -> np.ndarray | None:
    scored = [(float(box_iou(target, [box])[0]), box) for box in boxes]
    scored = [item for item in scored if item[0] >= 0.4]
    return max(scored, key=lambda item: item[0])[1] if scored else None


def residuals(boxes, landmarks, params) -> dict:
    """Fitted box crop vs landmark crop: centre offset / landmark crop side, side ratio."""
    offsets, ratios, x_offsets = [], [], []
    for box, points in zip(boxes, landmarks, strict=True):
        by_box = crop_from_box(box, 256, params.scale, params.center_shift)
        by_marks = crop_from_landmarks(points, 256)
        centre = np.array([[127.5, 127.5]])
        shift = by_box.to_image(centre) - by_marks.to_image(centre)
        offsets.append(float(np.linalg.norm(shift)) * by_marks.scale / 256)
        ratios.append(by_marks.scale / by_box.scale)
        x_offsets.append(float(shift[0, 0]) * by_marks.scale / 256)
    q = [50, 90]
    return {"centre_offset_over_side_p50_p90": np.percentile(offsets, q).round(4).tolist(),
            "centre_x_offset_over_side_median": round(float(np.median(x_offsets)), 4),
            "side_ratio_p10_p50_p90": np.percentile(ratios, [10, 50, 90]).round(4).tolist()}


def main() -> None:
    import dlib

    haar = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / HAAR_SETTINGS["cascade"]))
    hog = dlib.get_frontal_face_detector()
    records = {"five_points": ([], []), "opencv_haar": ([], []), "dlib_hog": ([], [])}
    images = sorted(DATA.glob("*/*.jpg"))
    if not images:
        sys.exit(f"no 300-W images under {DATA}")
    started = time.perf_counter()
    for path in images:
        marks = np.loadtxt(path.with_suffix(".pts"), dtype=np.float64)
        mark_box = np.concatenate([marks.min(0), marks.max(0)])
        five = five_points(marks)
        records["five_points"][0].append(np.concatenate([five.min(0), five.max(0)]))
        records["five_points"][1].append(marks)
        gray = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2GRAY)
        found = haar.detectMultiScale(gray, scaleFactor=HAAR_SETTINGS["scaleFactor"],
                                      minNeighbors=HAAR_SETTINGS["minNeighbors"],
                                      minSize=tuple(HAAR_SETTINGS["minSize"]))
        haar_boxes = [np.array([x, y, x + w, y + h], dtype=float) for x, y, w, h in found]
        hog_boxes = [np.array([r.left(), r.top(), r.right() + 1, r.bottom() + 1], dtype=float)
                     for r in hog(gray, DLIB_SETTINGS["upsample"])]
        for name, boxes in (("opencv_haar", haar_boxes), ("dlib_hog", hog_boxes)):
            match = best_match(boxes, mark_box)
            if match is not None:
                records[name][0].append(match)
                records[name][1].append(marks)
    results = {}
    for name, (boxes, marks) in records.items():
        params = fit_box_crop_params(np.array(boxes), np.array(marks))
        results[name] = {"faces_matched": len(boxes), "faces_total": len(images),
                         "scale": round(params.scale, 3),
                         "center_shift": round(params.center_shift, 3),
                         **residuals(boxes, marks, params)}
    report = {"command": COMMAND, "data": "300-W helen-train + afw in shared/data/300w",
              "match_rule": "best detector box with IoU >= 0.4 vs the 68-point landmark box",
              "dlib_box_convention": "rectangle left, top, right + 1, bottom + 1",
              "haar_settings": HAAR_SETTINGS, "dlib_settings": DLIB_SETTINGS,
              "versions": {"opencv": cv2.__version__, "dlib": dlib.__version__},
              "seconds": round(time.perf_counter() - started, 1), "sources": results}
    write_result("crop_params", report, indent=1)


if __name__ == "__main__":
    main()
