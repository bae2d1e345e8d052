"""``facerecon evaluate {aflw2000,300w,dense}``: the benchmark protocols of docs/evaluation.md.

Each prints a Markdown table (one row per predictor and error kind) and, with
``--output-dir``, writes ``<protocol>.json`` (tables, per-image errors, settings) and
``<protocol>_ced.png`` (cumulative error curves). Rows: our pipeline (``--model`` /
``--weights``; by default the shipped model, skipped with a note when none is installed),
the 3DDFA_V2 teacher (``--teacher DIR``; by default the ``teacher-3ddfa`` folder beside
``--data`` when there is one), and predictions made elsewhere (``--predictions-in``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from facerecon.cli.reconstruct import add_refiner_arguments, refiner_option
from facerecon.errors import InvalidInputError, WeightsError

TEACHER_FOLDER = "teacher-3ddfa"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="benchmark protocols: AFLW2000-3D, 300-W held-out split, dense synthetic",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="evaluate_command", metavar="PROTOCOL", required=True)
    aflw = sub.add_parser("aflw2000", help="AFLW2000-3D: NME / sqrt(w*h), |yaw| bins")
    aflw.add_argument("--data", type=Path, required=True,
                      help="folder laid out like shared/data/aflw2000-3d")
    aflw.add_argument("--pose", choices=("fitted", "new"), default="fitted",
                      help="yaw for the bins: AFLW2000-3D.pose.npy (fitted) or -new.pose.npy")
    w300 = sub.add_parser("300w", help="300-W held-out split: inter-ocular NME")
    w300.add_argument("--data", type=Path, required=True,
                      help="folder of image + .pts pairs laid out like shared/data/300w")
    w300.add_argument("--split", choices=("val", "train"), default="val")
    for protocol in (aflw, w300):
        _row_options(protocol)
        protocol.add_argument("--predictions", type=Path, metavar="FILE.json",
                              help="write the model row's landmarks (else the teacher's): "
                                   '{"<image>": [[x, y, z] x 68]} in image pixels')
        protocol.add_argument("--predictions-in", type=Path, action="append", default=[],
                              metavar="FILE.json", help="score these predictions too")
    dense = sub.add_parser("dense", help="held-out synthetic ICT faces: dense vertex error")
    dense.add_argument("--ict", type=Path, required=True, help="ICT-FaceKit FaceXModel folder")
    dense.add_argument("--count", type=int, default=100, help="number of faces")
    dense.add_argument("--seed", type=int, default=None, help="base seed (default: fixed)")
    _model_options(dense)
    for protocol, func in ((aflw, run_aflw2000), (w300, run_300w), (dense, run_dense)):
        protocol.add_argument("--output-dir", type=Path, help="write JSON and the CED PNG here")
        protocol.set_defaults(func=func)


def _model_options(parser) -> None:
    parser.add_argument("--model", default=None,
                        help="model name (default: the one --weights was trained as, else the "
                        "shipped one)")
    parser.add_argument("--weights", type=Path, default=None, help=".safetensors weights")
    parser.add_argument("--device", default="cpu",
                        help="torch device: cpu, cuda, cuda:N, or auto (cuda when present)")
    parser.add_argument("--second-pass", action="store_true", help="re-crop from landmarks")
    add_refiner_arguments(parser)
    parser.add_argument("--flip-average", action="store_true",
                        help="average with the mirrored crop's prediction")
    parser.add_argument("--surface-sigma", type=float, default=None,
                        help="smooth predicted maps by this Gaussian in UV pixels "
                             "(default: the model's; 0: raw network maps)")


def _row_options(parser) -> None:
    _model_options(parser)
    parser.add_argument("--teacher", type=Path, default=None,
                        help=f"3DDFA_V2 teacher folder (default: {TEACHER_FOLDER} beside --data)")
    parser.add_argument("--no-teacher", action="store_true", help="no teacher row")


def build_reconstructor(args):
    """The pipeline the arguments ask for (tests replace this to inject a predictor)."""
    from facerecon.evaluate.predictors import make_reconstructor

    return make_reconstructor(args.model, args.weights, args.device, args.second_pass,
                              args.flip_average, args.surface_sigma, refiner_option(args))


def _reconstructor_or_none(args, required: bool):
    """The model row's reconstructor; None (with a note) when the default model has no
    weights installed and the user did not ask for a model."""
    explicit = required or args.model is not None or args.weights is not None
    try:
        return build_reconstructor(args)
    except WeightsError as error:
        if explicit:
            raise
        print(f"note: no model row: {error}", file=sys.stderr)
        return None


def _model_label(args, reconstructor) -> str:
    """The model row's name: the predictor, its weights file if given, and its refiner."""
    name = reconstructor.predictor.name
    label = f"{name} ({args.weights.name})" if args.weights else name
    refiner = reconstructor.refiner
    if refiner is not None:
        label += f" + refiner ({getattr(refiner, 'weights_file', None) or refiner.name})"
    return label


def _teacher(args):
    """(label, Teacher) or None."""
    if args.no_teacher:
        return None
    folder = args.teacher
    if folder is None:
        folder = args.data.resolve().parent / TEACHER_FOLDER
        if not folder.is_dir():
            return None
    from facerecon.data.teacher import Teacher

    return "3DDFA_V2 teacher", Teacher.from_folder(folder)


def _read_predictions(path: Path, names: list[str]) -> dict[str, np.ndarray]:
    """Predictions of the images in ``names`` from a JSON file; others are ignored."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidInputError(f"cannot read predictions {path}: {error}") from error
    if not isinstance(content, dict):
        raise InvalidInputError(f"{path}: expected {{\"<image>\": [[x, y, z] x 68], ...}}")
    ignored = len(set(content) - set(names))
    if ignored:
        print(f"note: {path.name}: ignored {ignored} images not in --data", file=sys.stderr)
    try:
        return {name: np.asarray(content[name], np.float64) for name in names if name in content}
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{path}: landmarks must be numbers: {error}") from error


def _write_predictions(path: Path, predictions: dict[str, np.ndarray]) -> None:
    from facerecon.atomic import write_text

    table = {name: np.asarray(points, np.float64).round(4).tolist()
             for name, points in predictions.items()}
    write_text(path, json.dumps(table) + "\n")


def _write_outputs(args, protocol: str, report: dict, curves: dict, title: str) -> None:
    from facerecon.atomic import write_bytes, write_text
    from facerecon.evaluate.curves import draw_ced, encode_png

    if args.output_dir is None:
        return
    args.output_dir.mkdir(parents=True, exist_ok=True)
    write_text(args.output_dir / f"{protocol}.json", json.dumps(report, indent=1) + "\n")
    chart = draw_ced({k: np.asarray(v) * 100 for k, v in curves.items()}, title=title)
    write_bytes(args.output_dir / f"{protocol}_ced.png", encode_png(chart))
    print(f"\nwrote {args.output_dir / (protocol + '.json')} and {protocol}_ced.png")


def _collect_rows(args, names, predict_model, predict_teacher
                  ) -> tuple[dict[str, dict], dict | None]:
    """(label -> name -> (68, 2|3) predictions, for every row the arguments ask for; the
    model row's reconstructor settings, None without a model row)."""
    rows: dict[str, dict] = {}
    reconstructor = _reconstructor_or_none(args, required=False) if (
        args.model or args.weights or not args.predictions_in) else None
    if reconstructor is not None:
        rows[_model_label(args, reconstructor)] = predict_model(reconstructor)
    teacher = _teacher(args)
    if teacher is not None:
        rows[teacher[0]] = predict_teacher(teacher[1])
    if args.predictions:
        if not rows:
            raise InvalidInputError("--predictions needs a model or teacher row")
        _write_predictions(args.predictions, next(iter(rows.values())))
    for path in args.predictions_in:
        rows[path.name] = _read_predictions(path, names)
    if not rows:
        raise InvalidInputError("nothing to evaluate: no model weights, no teacher, no "
                                "--predictions-in")
    return rows, (reconstructor.settings if reconstructor is not None else None)


def run_aflw2000(args) -> int:
    from facerecon.data.aflw2000 import Aflw2000Dataset
    from facerecon.evaluate.aflw2000 import evaluate_aflw2000, predict_dataset
    from facerecon.evaluate.predictors import pipeline_predictor, teacher_predictor
    from facerecon.evaluate.report import binned_table

    dataset = Aflw2000Dataset(args.data)
    rows, pipeline = _collect_rows(
        args, dataset.names,
        lambda rec: predict_dataset(pipeline_predictor(rec, "aflw_roi"), dataset),
        lambda teacher: predict_dataset(teacher_predictor(teacher, None), dataset),
    )
    results = {label: evaluate_aflw2000(dataset, pred, args.pose) for label, pred in rows.items()}
    print(f"AFLW2000-3D: {len(dataset)} images of {args.data}; NME (%) = mean 2D error / "
          f"sqrt(w*h) of the GT 68-point box; 3D: z centred per face; |yaw| from "
          f"{next(iter(results.values())).as_dict()['pose_file']}; crops from the ROI boxes\n")
    print(binned_table({label: r.summary for label, r in results.items()}))
    report = {"protocol": "aflw2000", "data": str(args.data), "images": dataset.names,
              "crop": "BOX_CROP_PARAMS['aflw_roi'] about AFLW2000-3D_crop.roi_box.npy rows; "
                      "teacher: the same ROI boxes",
              "pipeline": pipeline,
              "rows": {label: r.as_dict() for label, r in results.items()}}
    curves = {label: r.per_image["original"] for label, r in results.items()}
    _write_outputs(args, "aflw2000", report, curves, "AFLW2000-3D, original 68 points")
    return 0


def run_300w(args) -> int:
    from facerecon.evaluate.predictors import (
        pipeline_predictor,
        predict_images,
        teacher_predictor,
    )
    from facerecon.evaluate.report import w300_table
    from facerecon.evaluate.w300 import evaluate_300w, load_300w_split

    samples = load_300w_split(args.data, args.split)
    names = [s.name for s in samples]
    paths = [s.image_path for s in samples]
    boxes = np.stack([s.box for s in samples])
    rows, pipeline = _collect_rows(
        args, names,
        lambda rec: predict_images(pipeline_predictor(rec, "landmarks"), names, paths, boxes),
        lambda teacher: predict_images(teacher_predictor(teacher, "landmarks"), names, paths,
                                       boxes),
    )
    results = {label: evaluate_300w(samples, pred) for label, pred in rows.items()}
    print(f"300-W {args.split} split: {len(samples)} faces of {args.data}; NME (%) = mean 2D "
          f"error / outer inter-ocular distance; crops from the GT 68-point box\n")
    print(w300_table(results))
    report = {"protocol": "300w", "data": str(args.data), "split": args.split,
              "split_rule": "facerecon.data.splits.split_300w (sha1 of the photo id, 10 % val)",
              "crop": "ours: BOX_CROP_PARAMS['landmarks'] about the GT 68-point box; teacher: "
                      "ROI_RULES['landmarks'] about the same box",
              "pipeline": pipeline,
              "rows": {label: r.as_dict() for label, r in results.items()}}
    curves = {label: r.per_image for label, r in results.items()}
    _write_outputs(args, "300w", report, curves, f"300-W {args.split}, inter-ocular NME")
    return 0


def run_dense(args) -> int:
    from facerecon.evaluate.dense import DENSE_SEED, evaluate_dense
    from facerecon.evaluate.report import binned_table
    from facerecon.morphable.ict import load_ict

    if args.count < 1:
        raise InvalidInputError(f"--count must be >= 1, got {args.count}")
    reconstructor = _reconstructor_or_none(args, required=True)
    seed = DENSE_SEED if args.seed is None else args.seed
    result = evaluate_dense(reconstructor, load_ict(args.ict), args.count, seed)
    label = _model_label(args, reconstructor)
    print(f"Dense: {args.count} held-out synthetic ICT faces (seed {seed}); error (%) / true 3D "
          f"outer inter-ocular distance, no alignment\n")
    print(binned_table({label: result.summary}))
    print(f"\nSurface normals: {result.normal_error_deg.mean():.2f} degrees from the true ones "
          "(mean over faces of the mean over UV facets)")
    report = {"protocol": "dense", "ict": str(args.ict),
              "pipeline": reconstructor.settings, "rows": {label: result.as_dict()}}
    _write_outputs(args, "dense", report, {label: result.per_image["dense_3d"]},
                   "Synthetic ICT faces, dense 3D error")
    return 0
