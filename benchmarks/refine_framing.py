"""How much does refine mode owe to its framing? The refiner's crop made other ways, JSON out.

Refine mode (``FaceReconstructor(refiner="shipped")``) frames the refiner's crop from the
first network's 68 landmarks (``FaceReconstructor.refiner_crops``: since session 17 the
canonical face's landmarks placed by their similarity fit, turned upright by its roll).
This script scores the same two networks with that crop made other ways, on the benchmarks'
own protocols (AFLW2000-3D ROI boxes, original 2D NME; 300-W held-out, inter-ocular NME;
with ``--ict`` the 100 synthetic ICT faces, dense 3D error):

- ``shipped``: as the pipeline does it;
- ``first_landmarks``: from the first network's landmarks themselves (their extents),
  turned upright by their roll: the pipeline's framing until session 17;
- ``no_roll``: as shipped, not turned upright (roll 0);
- ``refiner_twice``: the shipped crop, then the refiner's own 68 landmarks frame a second
  crop the shipped way (``NetworkPredictor.predict_landmarks``), on which the refiner
  predicts;
- ``true_landmarks``: the crop framed from the ground-truth 68 landmarks (x, y) and the roll
  of their 2D similarity fit to the canonical face's (AFLW2000-3D and 300-W only): the
  framing a perfect first network would give;
- ``true_centre``, ``true_side``, ``true_roll``: the shipped crop with one of its three
  parameters (centre, side, turn) taken from the ``true_landmarks`` crop: which part of the
  framing the gap comes from.

Each variant is paired with ``shipped`` per image (mean difference, its standard error, how
many images it does better on). ``shipped_framing_error``: how far the shipped crop is from
the ``true_landmarks`` one (centre, side, turn; mean and standard deviation over the faces).

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/refine_framing.py \\
        --shared ../shared/data --ict ../shared/data/ict-facekit/FaceXModel

(``refine_framing.json``, ``refine_framing_v39.json`` and ``refine_framing_choice_*.json``
were made at commit aaf7467, when the pipeline framed from the first network's landmark
extents: their ``shipped`` is today's ``first_landmarks`` and their ``fitted_landmarks``
today's ``shipped``.)

``--refiner FILE`` runs another refiner in the same places. Writes
benchmarks/results/refine_framing.json (``--name``) and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from common import write_result
from paired_weights import paired

from facerecon.api import FaceReconstructor, fitted_crop
from facerecon.apps.pose import euler_from_rotation
from facerecon.crop import CropTransform, box_crop_params, crop_from_box, crop_from_landmarks
from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.evaluate.aflw2000 import evaluate_aflw2000
from facerecon.evaluate.dense import evaluate_dense
from facerecon.evaluate.w300 import evaluate_300w, load_300w_split
from facerecon.face import canonical_landmarks, landmark_pose_fitter
from facerecon.imageio import load_image
from facerecon.morphable.ict import load_ict
from facerecon.topology import load_topology

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/refine_framing.py "
           "--shared ../shared/data --ict ../shared/data/ict-facekit/FaceXModel")
VARIANTS = ("shipped", "first_landmarks", "no_roll", "refiner_twice", "true_landmarks",
            "true_centre", "true_side", "true_roll")
TRUTH_VARIANTS = ("true_landmarks", "true_centre", "true_side", "true_roll")


def roll_2d(landmarks: np.ndarray, canonical: np.ndarray) -> float:
    """Degrees (positive clockwise on screen, as ``Pose.roll``) of the 2D similarity that
    best maps the canonical (68, >=2) landmarks' x, y onto ``landmarks``' x, y."""
    source = canonical[:, :2] - canonical[:, :2].mean(0)
    target = landmarks[:, :2] - landmarks[:, :2].mean(0)
    cross = np.sum(source[:, 0] * target[:, 1] - source[:, 1] * target[:, 0])
    dot = np.sum(source[:, 0] * target[:, 0] + source[:, 1] * target[:, 1])
    return float(np.degrees(np.arctan2(cross, dot)))


class FramedReconstructor(FaceReconstructor):
    """Refine mode with the refiner's crop framed by ``variant`` (module docstring).

    For ``true_landmarks`` set :attr:`truth` ((68, >=2) image pixels) before each call.
    ``refiner``: the shipped one, or a weights file (its maps smoothed at its model's sigma).
    """

    def __init__(self, variant: str, refiner: str = "shipped"):
        super().__init__(detector=None, refiner=refiner)
        self.variant = variant
        self.truth: np.ndarray | None = None
        self._canonical = canonical_landmarks(load_topology(self.predictor.resolution))

    def refiner_crops(self, image, crops):
        size = self.refiner.input_size
        if self.variant in TRUTH_VARIANTS:
            true = crop_from_landmarks(self.truth[:, :2], size,
                                       roll=roll_2d(self.truth, self._canonical))
            if self.variant == "true_landmarks":
                return [true for _ in crops]
            part = self.variant.removeprefix("true_")
            return [_mixed(shipped, true, part)
                    for shipped in super().refiner_crops(image, crops)]
        if self.variant in ("first_landmarks", "no_roll"):
            return [self._framing(self.predictor, image, crop,
                                  placed=self.variant == "no_roll",
                                  turned=self.variant == "first_landmarks")
                    for crop in crops]
        shipped = super().refiner_crops(image, crops)
        if self.variant == "shipped":
            return shipped
        return [self._framing(self.refiner, image, crop)  # refiner_twice
                for crop in shipped]

    def _framing(self, predictor, image, crop, placed: bool = True, turned: bool = True):
        """The refiner's crop from ``predictor``'s landmarks on ``crop``: the pipeline's
        (:func:`facerecon.api.fitted_crop`) by default; else from those landmarks themselves
        (not ``placed``) or not turned upright (not ``turned``)."""
        patch = crop.warp(image, predictor.crop_supersample)[None]
        landmarks = crop.to_image(predictor.predict_landmarks(patch, [crop])[0])
        topology = load_topology(predictor.resolution)
        size = self.refiner.input_size
        if placed and turned:
            return fitted_crop(landmarks, topology, size)
        fit = landmark_pose_fitter(topology).similarity(landmarks)
        roll = euler_from_rotation(fit.rotation)[2] if turned else 0.0
        points = fit.apply(canonical_landmarks(topology)) if placed else landmarks
        return crop_from_landmarks(points, size, roll=roll)


def _parameters(crop: CropTransform) -> dict:
    """Centre (image pixels), side (image pixels) and turn (radians) of a square crop."""
    half = (crop.size - 1) / 2.0
    linear = crop.matrix[:, :2]
    return {"centre": crop.to_image(np.array([half, half])),
            "side": crop.size / np.hypot(*linear[0]),
            "roll": np.arctan2(linear[1, 0], linear[0, 0])}


def _mixed(shipped: CropTransform, true: CropTransform, part: str) -> CropTransform:
    """``shipped`` with its ``part`` ("centre", "side" or "roll") taken from ``true``."""
    params = {**_parameters(shipped), part: _parameters(true)[part]}
    scale, angle = shipped.size / params["side"], params["roll"]
    linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shift = (shipped.size - 1) / 2.0 - linear @ params["centre"]
    return CropTransform(np.concatenate([linear, shift[:, None]], axis=1), shipped.size)


def framing_errors(rec: FramedReconstructor, samples, truths, boxes, box_source: str) -> dict:
    """The shipped refiner crop against the ``true_landmarks`` one, per face: centre offset
    in the true crop's upright frame (x right, y down) and side ratio - 1, in % of the true
    side, and the turn's difference in degrees; their means and standard deviations."""
    params = box_crop_params(box_source)
    size = rec.refiner.input_size
    rows = []
    for sample, truth, box in zip(samples, truths, boxes, strict=True):
        image = load_image(sample.image_path)
        first = crop_from_box(box, rec.predictor.input_size, params.scale, params.center_shift)
        shipped = _parameters(FaceReconstructor.refiner_crops(rec, image, [first])[0])
        true = _parameters(crop_from_landmarks(truth[:, :2], size,
                                               roll=roll_2d(truth, rec._canonical)))
        turn = np.array([[np.cos(true["roll"]), np.sin(true["roll"])],
                         [-np.sin(true["roll"]), np.cos(true["roll"])]])  # image -> upright
        offset = turn @ (shipped["centre"] - true["centre"]) / true["side"] * 100
        rows.append([*offset, (shipped["side"] / true["side"] - 1) * 100,
                     np.degrees(shipped["roll"] - true["roll"])])
    rows = np.array(rows)
    names = ("centre_x_percent", "centre_y_percent", "side_percent", "roll_deg")
    return {name: {"mean": round(float(column.mean()), 2), "std": round(float(column.std()), 2)}
            for name, column in zip(names, rows.T, strict=True)}


def landmark_predictions(rec: FramedReconstructor, samples, truths, boxes, box_source: str):
    """(name -> (68, 3) prediction) of ``rec`` on images given as paths, one box each."""
    predictions = {}
    for sample, truth, box in zip(samples, truths, boxes, strict=True):
        rec.truth = truth
        image = load_image(sample.image_path)
        predictions[sample.name] = rec(image, boxes=box[None], box_source=box_source)[0].landmarks
    return predictions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="the shared/data folder")
    parser.add_argument("--ict", type=Path, default=None,
                        help="ICT-FaceKit FaceXModel folder: adds the dense benchmark")
    parser.add_argument("--refiner", default="shipped",
                        help="refiner weights (default: the shipped refiner)")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS),
                        help="framings to score (shipped is always scored)")
    parser.add_argument("--w300-split", choices=("val", "train"), default="val",
                        help="300-W split (train: for choosing, not a benchmark)")
    parser.add_argument("--no-aflw", action="store_true", help="skip AFLW2000-3D")
    parser.add_argument("--name", default="refine_framing",
                        help="result file name under benchmarks/results (no .json)")
    args = parser.parse_args()
    aflw_dataset = None if args.no_aflw else Aflw2000Dataset(args.shared / "aflw2000-3d")
    aflw = None if aflw_dataset is None else list(aflw_dataset)
    w300 = load_300w_split(args.shared / "300w", args.w300_split)
    ict = load_ict(args.ict) if args.ict is not None else None
    variants = ["shipped", *(v for v in args.variants if v != "shipped")]
    errors: dict[str, dict[str, np.ndarray]] = {}
    for variant in variants:
        rec = FramedReconstructor(variant, args.refiner)
        scores = {}
        if aflw is not None:
            predictions = landmark_predictions(rec, aflw, [s.pts68 for s in aflw],
                                          [s.roi_box for s in aflw], "aflw_roi")
            scores["aflw2000"] = evaluate_aflw2000(aflw_dataset, predictions
                                                   ).per_image["original"] * 100
        predictions = landmark_predictions(rec, w300, [s.landmarks for s in w300],
                                      [s.box for s in w300], "landmarks")
        scores["300w"] = evaluate_300w(w300, predictions).per_image * 100
        if ict is not None and variant not in TRUTH_VARIANTS:
            scores["dense_3d"] = evaluate_dense(rec, ict).per_image["dense_3d"] * 100
        errors[variant] = scores
        print(variant, {k: round(float(v.mean()), 3) for k, v in scores.items()}, file=sys.stderr)
    shipped = FramedReconstructor("shipped", args.refiner)
    framing = {"300w": framing_errors(shipped, w300, [s.landmarks for s in w300],
                                      [s.box for s in w300], "landmarks")}
    if aflw is not None:
        framing["aflw2000"] = framing_errors(shipped, aflw, [s.pts68 for s in aflw],
                                             [s.roi_box for s in aflw], "aflw_roi")
    result = {"command": COMMAND, "arguments": sys.argv[1:], "w300_split": args.w300_split,
              "shipped_framing_error": framing,
              "means": {variant: {k: round(float(v.mean()), 3) for k, v in scores.items()}
                        for variant, scores in errors.items()},
              "paired_with_shipped": {
                  variant: {k: paired(errors["shipped"][k], v) for k, v in scores.items()}
                  for variant, scores in errors.items() if variant != "shipped"}}
    write_result(args.name, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
