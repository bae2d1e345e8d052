"""Detector recall, false detections, speed and box-vs-landmark-box relation on 300-W.

Each 300-W crop in ``shared/data/300w`` (helen-train, afw) has one annotated face whose
landmark box is the min/max of its 68 points. A face is found when some detection has
IoU >= 0.4 with that box. Detections that match nothing count as false; other people in a
crop are not annotated, so that count is an upper bound. The box relation is measured on the
best-IoU matching detection of each found face and says where the landmark box lies relative
to the detector's box: centre offset in units of the detector box's width/height, and
landmark-box size / detector-box size (medians and quartiles).

Speed: each image is timed once per detector (``detect`` only, image already decoded), all
detectors on one image before the next, after a warm-up of 5 images, 2 threads; median over
all images. The machine is shared, so times are noisy; interleaving makes load changes hit
every detector alike, and medians damp them.

    python benchmarks/detectors.py --data ../shared/data/300w

Backends that are not installed (mediapipe needs its numpy<2 extra) are recorded as
skipped; run the script in an environment with ``facerecon[mediapipe]`` to measure all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from common import RESULTS, set_threads, write_result  # noqa: E402

from facerecon.detection import create_detector  # noqa: E402
from facerecon.detection.base import box_iou
from facerecon.errors import MissingDependencyError  # noqa: E402
from facerecon.imageio import read_image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IOU_THRESHOLD = 0.4
WARMUP = 5
# (label, registry name, options): the defaults plus the variants worth comparing.
CONFIGS = [
    ("dlib_hog", "dlib_hog", {}),
    ("dlib_hog upsample=1", "dlib_hog", {"upsample": 1}),
    ("opencv_haar", "opencv_haar", {}),
    ("opencv_haar alt2", "opencv_haar", {"cascade": "haarcascade_frontalface_alt2.xml"}),
    ("mediapipe short", "mediapipe", {"model": "short"}),
    ("mediapipe full", "mediapipe", {"model": "full"}),
]


def load_samples(data: Path, every: int) -> list[tuple[str, Path, Path]]:
    """(subset, jpg, pts) for every ``every``-th image of each subset, sorted by name."""
    samples = []
    for subset in ("helen-train", "afw"):
        images = sorted((data / subset).glob("*.jpg"))
        if not images:
            raise SystemExit(f"no images in {data / subset}")
        samples += [(subset, jpg, jpg.with_suffix(".pts")) for jpg in images[::every]]
    return samples



def relation(det: np.ndarray, lm: np.ndarray) -> dict[str, float]:
    """Landmark box ``lm`` relative to detector box ``det`` (both xyxy)."""
    det_w, det_h = det[2] - det[0], det[3] - det[1]
    lm_w, lm_h = lm[2] - lm[0], lm[3] - lm[1]
    return {
        "center_dx": ((lm[0] + lm[2]) - (det[0] + det[2])) / 2 / det_w,
        "center_dy": ((lm[1] + lm[3]) - (det[1] + det[3])) / 2 / det_h,
        "width_ratio": lm_w / det_w,
        "height_ratio": lm_h / det_h,
        "size_ratio": float(np.sqrt(lm_w * lm_h / (det_w * det_h))),
    }


def quartiles(values: list[float]) -> dict[str, float]:
    p25, p50, p75 = (round(float(v), 4) for v in np.percentile(values, [25, 50, 75]))
    return {"median": p50, "p25": p25, "p75": p75}


def run_interleaved(detectors: dict, images: list[np.ndarray]) -> dict[str, tuple]:
    """Run every detector on every image, all detectors on one image before the next image,
    so that the shared machine's load changes hit all detectors alike.

    Returns label -> (milliseconds per image, list of (N, 4) xyxy boxes per image)."""
    for detector in detectors.values():
        for image in images[:WARMUP]:
            detector.detect(image)
    runs = {label: ([], []) for label in detectors}
    for image in images:
        for label, detector in detectors.items():
            start = time.perf_counter()
            detections = detector.detect(image)
            runs[label][0].append((time.perf_counter() - start) * 1000)
            boxes = np.array([d.box for d in detections], dtype=np.float64).reshape(-1, 4)
            runs[label][1].append(boxes)
    return runs


def summarize(times, boxes_per_image, landmark_boxes, subsets) -> dict:
    found, false, ious, relations = [], [], [], []
    for boxes, lm_box in zip(boxes_per_image, landmark_boxes, strict=True):
        overlaps = box_iou(lm_box, boxes) if len(boxes) else np.zeros(0)
        hit = bool(len(boxes)) and overlaps.max() >= IOU_THRESHOLD
        found.append(hit)
        false.append(int(np.sum(overlaps < IOU_THRESHOLD)))
        if hit:
            best = int(np.argmax(overlaps))
            ious.append(float(overlaps[best]))
            relations.append(relation(boxes[best], lm_box))
    found_array = np.array(found)
    per_subset = {
        name: round(float(found_array[np.array(subsets) == name].mean()), 4)
        for name in sorted(set(subsets))
    }
    return {
        "recall": round(float(found_array.mean()), 4),
        "recall_by_subset": per_subset,
        "false_per_image": round(float(np.mean(false)), 4),
        "ms_median": round(float(np.median(times)), 2),
        "ms_p90": round(float(np.percentile(times, 90)), 2),
        "matched_iou_median": round(float(np.median(ious)), 4) if ious else None,
        "landmark_box_vs_detection": (
            {key: quartiles([r[key] for r in relations]) for key in relations[0]}
            if relations
            else None
        ),
    }


def markdown_table(report: dict) -> str:
    """The docs/detection.md table from a results JSON."""
    lines = [
        "| detector | recall | helen-train | afw | false / image | ms / image (median) "
        "| ms p90 | median IoU | lm-box centre dx, dy (det. w, h) | lm-box / det. box w, h |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for label, row in report["results"].items():
        if "skipped" in row:
            lines.append(f"| {label} | not installed | | | | | | | | |")
            continue
        rel = row["landmark_box_vs_detection"]
        by_subset = row["recall_by_subset"]
        lines.append(
            f"| {label} | {row['recall']:.3f} | {by_subset['helen-train']:.3f} "
            f"| {by_subset['afw']:.3f} | {row['false_per_image']:.3f} | {row['ms_median']:.1f} "
            f"| {row['ms_p90']:.1f} | {row['matched_iou_median']:.3f} "
            f"| {rel['center_dx']['median']:+.3f}, {rel['center_dy']['median']:+.3f} "
            f"| {rel['width_ratio']['median']:.3f}, {rel['height_ratio']['median']:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = os.environ.get("FACERECON_SHARED_DATA") or ROOT.parent / "shared" / "data"
    parser.add_argument("--data", type=Path, default=Path(shared) / "300w")
    parser.add_argument("--every", type=int, default=1, help="use every n-th image per subset")
    parser.add_argument("--output", type=Path, default=RESULTS / "detectors.json")
    parser.add_argument(
        "--table", type=Path, help="print the Markdown table of this results JSON and stop"
    )
    args = parser.parse_args(argv)
    if args.table:
        print(markdown_table(json.loads(args.table.read_text())))
        return 0
    set_threads(2)

    samples = load_samples(args.data, args.every)
    images, landmark_boxes, subsets = [], [], []
    for subset, jpg, pts in samples:
        images.append(read_image(jpg))
        points = np.loadtxt(pts, dtype=np.float64).reshape(68, 2)
        landmark_boxes.append(np.concatenate([points.min(axis=0), points.max(axis=0)]))
        subsets.append(subset)
    sides = np.array([max(image.shape[:2]) for image in images])
    lm_sides = np.array([max(b[2] - b[0], b[3] - b[1]) for b in landmark_boxes])

    results, detectors = {}, {}
    for label, name, options in CONFIGS:
        results[label] = {"detector": name, "options": options}
        try:
            detectors[label] = create_detector(name, **options)
        except MissingDependencyError as error:
            results[label]["skipped"] = str(error)
    for label, (times, boxes) in run_interleaved(detectors, images).items():
        results[label].update(summarize(times, boxes, landmark_boxes, subsets))
        print(label, json.dumps(results[label]), file=sys.stderr)

    command = "python " + " ".join(["benchmarks/detectors.py", *(argv or sys.argv[1:])])
    report = {
        "command": command,
        "python": sys.executable,
        "platform": platform.platform(),
        "cpu_threads": 2,
        "opencv": cv2.__version__,
        "images": {
            "count": len(images),
            "every": args.every,
            "by_subset": {name: subsets.count(name) for name in sorted(set(subsets))},
            "longer_side_px": {"min": int(sides.min()), "max": int(sides.max())},
            "landmark_box_longer_side_px": quartiles(lm_sides.tolist()),
        },
        "iou_threshold": IOU_THRESHOLD,
        "timing": f"detect() only (image decoded before), one run per image and detector, "
        f"detectors interleaved image by image, after {WARMUP} warm-up images each; median over "
        "all images; shared 2-core machine, so noisy",
        "load_average_1_5_15_min_at_end": [round(v, 2) for v in os.getloadavg()],
        "false_per_image_note": "detections with IoU < 0.4 with the annotated face; "
        "unannotated people in the crops also count, so this is an upper bound",
        "relation_note": "landmark box relative to the matched detection box: centre offset "
        "in detection-box widths/heights (+x right, +y down), size ratios landmark/detection",
        "results": results,
    }
    write_result("detectors", report, path=args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
