"""``facerecon data ...``: dataset tools. ``data label`` runs the 3DDFA_V2 teacher;
``data build`` and ``data profile`` are in :mod:`facerecon.cli.data_build`.

``facerecon data label INPUT... -o labels.json --teacher DIR --boxes-from SOURCE`` labels
every image (files, or folders searched recursively) with 68 3D landmarks in image pixels.
Box sources: ``pts`` (the 68-point ``.pts`` beside each image, its landmark box), ``whole``
(the whole image: UTKFace photos are aligned face crops), ``detect`` (every face that
``--detector`` finds, default dlib_hog; images without a face get an empty list), or a JSON
file ``{"<image path or file name>": [x1, y1, x2, y2] | [[x1, y1, x2, y2], ...]}``. The box
becomes the teacher's ROI with ``--roi-rule`` (see docs/teacher.md for the measured choice).

Output JSON: ``{"teacher": ..., "boxes_from": ..., "roi_rule": ..., "images": {"<path>":
[{"box": [4], "roi": [4], "landmarks": [[x, y, z] x 68]}, ...]}}``, written atomically.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from facerecon.errors import DataNotFoundError, InvalidInputError

# Names of facerecon.data.teacher.ROI_RULES plus "whole" (kept literal so --help stays fast).
ROI_RULE_CHOICES = ("landmarks_tuned", "landmarks", "dlib_hog", "detector", "whole")


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="dataset tools (labelling with the teacher)")
    data_sub = data.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)
    label = data_sub.add_parser(
        "label",
        help="label images with 68 3D landmarks from the 3DDFA_V2 teacher",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    label.add_argument("inputs", nargs="+", type=Path, help="image files or folders")
    label.add_argument("-o", "--output", type=Path, required=True, help="output .json")
    label.add_argument("--teacher", type=Path, required=True, help="teacher-3ddfa folder")
    label.add_argument(
        "--boxes-from", required=True, help="'pts', 'whole', 'detect' or a boxes .json file"
    )
    label.add_argument(
        "--detector", default=None, help="detector for --boxes-from detect (default: dlib_hog)"
    )
    label.add_argument(
        "--roi-rule",
        choices=ROI_RULE_CHOICES,
        default=None,
        help="box -> ROI rule; default 'landmarks_tuned' for pts, 'whole' for whole, the "
        "detector's own rule for detect ('dlib_hog'; 'detector' for detectors without one), "
        "'detector' for a JSON of detector boxes",
    )
    label.add_argument("--batch-size", type=int, default=32)
    label.set_defaults(func=run_label)
    from facerecon.cli import data_build

    data_build.register(data_sub)


def _collect_images(inputs: list[Path]) -> list[Path]:
    from facerecon.data.images import iter_image_files

    images: list[Path] = []
    for item in inputs:
        if item.is_dir():
            images.extend(iter_image_files(item, recursive=True))
        elif item.is_file():
            images.append(item)
        else:
            raise DataNotFoundError(f"no such file or folder: {item}")
    if not images:
        raise DataNotFoundError("no images found in the inputs")
    return images


def _load_box_json(path: Path) -> dict[str, np.ndarray]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidInputError(f"cannot read boxes from {path}: {error}") from error
    boxes = {}
    for key, value in raw.items():
        array = np.asarray(value, dtype=np.float32)
        boxes[key] = array.reshape(-1, 4) if array.size % 4 == 0 else None
        if boxes[key] is None or len(boxes[key]) == 0:
            raise InvalidInputError(f"{path}: boxes of {key!r} must be [x1, y1, x2, y2] lists")
    return boxes


def _boxes_for(image_path: Path, image: np.ndarray, source: str, table, detector) -> np.ndarray:
    from facerecon.data.pts import read_pts
    from facerecon.data.teacher import landmark_box

    if source == "detect":
        return np.array([face.box for face in detector.detect(image)], np.float32).reshape(-1, 4)
    if source == "pts":
        pts = image_path.with_suffix(".pts")
        if not pts.is_file():
            raise DataNotFoundError(f"no .pts beside {image_path}")
        return landmark_box(read_pts(pts))[None]
    if source == "whole":
        # Pixel centres are integers, so the image's extent is [-0.5, size - 0.5].
        height, width = image.shape[:2]
        return np.array([[-0.5, -0.5, width - 0.5, height - 0.5]], dtype=np.float32)
    for key in (str(image_path), image_path.name):
        if key in table:
            return table[key]
    raise InvalidInputError(f"no box for {image_path} in the boxes JSON")


def _roi(box: np.ndarray, rule: str) -> np.ndarray:
    from facerecon.data.teacher import roi_from_box

    if rule == "whole":
        # A square ROI around the whole box: the box itself when it is square.
        side = float(max(box[2] - box[0], box[3] - box[1]))
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], np.float32)
    return roi_from_box(box, rule)


def _rounded(array: np.ndarray) -> list:
    # float64 first, so the JSON holds 12.345 rather than float32's 12.345000267028809.
    return np.asarray(array, dtype=np.float64).round(3).tolist()


def run_label(args) -> int:
    from tqdm import tqdm

    from facerecon.atomic import write_text
    from facerecon.data.teacher import Teacher
    from facerecon.imageio import read_image

    source = args.boxes_from
    table = detector = None
    if args.detector is not None and source != "detect":
        raise InvalidInputError("--detector needs --boxes-from detect")
    default_rule = {"pts": "landmarks_tuned", "whole": "whole"}.get(source, "detector")
    if source == "detect":
        from facerecon.data.teacher import ROI_RULES
        from facerecon.detection import DEFAULT_DETECTOR, create_detector

        detector = create_detector(args.detector or DEFAULT_DETECTOR)
        # A detector with a measured rule of its own (docs/teacher.md) gets it.
        default_rule = detector.name if detector.name in ROI_RULES else "detector"
    elif source not in ("pts", "whole"):
        table = _load_box_json(Path(source))
    rule = args.roi_rule or default_rule
    if args.batch_size < 1:
        raise InvalidInputError("--batch-size must be >= 1")
    teacher = Teacher.from_folder(args.teacher)
    images = _collect_images(args.inputs)
    labels: dict[str, list] = {}
    pending: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []

    def flush() -> None:
        if not pending:
            return
        rois = np.stack([item[3] for item in pending])
        points = teacher.predict_batch([item[1] for item in pending], rois)
        for (key, _, box, roi), landmarks in zip(pending, points, strict=True):
            labels.setdefault(key, []).append(
                {
                    "box": _rounded(box),
                    "roi": _rounded(roi),
                    "landmarks": _rounded(landmarks),
                }
            )
        pending.clear()

    for image_path in tqdm(images, desc="label", unit="img", file=sys.stderr):
        image = read_image(image_path)
        boxes = _boxes_for(image_path, image, source, table, detector)
        if len(boxes) == 0:
            labels[str(image_path)] = []  # detect found no face: kept, so it can be told apart
        for box in boxes:
            pending.append((str(image_path), image, box, _roi(box, rule)))
        if len(pending) >= args.batch_size:
            flush()
    flush()
    document = {
        "teacher": "3DDFA_V2 mb05_120x120 (facerecon port)",
        "boxes_from": source if detector is None else f"detect:{detector.name}",
        "roi_rule": rule,
        "coordinates": "image pixels, x right, y down, larger z nearer, z origin arbitrary",
        "images": labels,
    }
    write_text(args.output, json.dumps(document) + "\n")
    faces = sum(len(v) for v in labels.values())
    empty = sum(1 for value in labels.values() if not value)
    note = f" ({empty} without a detected face)" if empty else ""
    print(f"labelled {faces} faces in {len(labels)} images{note} -> {args.output}")
    return 0
