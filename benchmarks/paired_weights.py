"""Is new weights' gain over old weights real? Paired per-image comparison on AFLW2000-3D,
300-W and the dense synthetic faces.

Runs both ``.safetensors`` of the default model through the benchmarks' own protocols
(AFLW2000-3D: ROI-box crops, 2D NME / sqrt(w*h) of the ground-truth box against the
original annotation; 300-W held-out split: ground-truth box crops, inter-ocular NME; with
``--ict``, the 100 held-out synthetic ICT faces: dense 3D error / inter-ocular, and the
angle between predicted and true surface normals in degrees) and
reports, per benchmark, both means, the mean per-image difference new - old with its
standard error (sample std / sqrt(n)) and how many images the new weights do better on;
for AFLW2000-3D also per image (with the ``.mat`` pose) and split by |pitch| >= 30 degrees.
``--old-supersample`` / ``--new-supersample`` override how each side's crops are sampled
(:meth:`facerecon.crop.CropTransform.warp`; default the model's ``crop_supersample``), so
the same weights can be compared with two crop samplings; ``--old-surface-sigma`` /
``--new-surface-sigma`` likewise override the smoothing of each side's maps
(:func:`facerecon.posmap.smooth`; default the model's ``surface_sigma``), and
``--old-refine`` / ``--new-refine`` give a side a refiner network (the pipeline's
``refiner``: a second pass of those weights on an upright landmark crop).

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/paired_weights.py \
        --shared ../shared/data --old OLD.safetensors --new NEW.safetensors \
        [--ict ../shared/data/ict-facekit/FaceXModel] [--old-supersample K] [--new-supersample K]
        [--old-surface-sigma S] [--new-surface-sigma S] [--old-refine FILE]
        [--new-refine FILE] [--name paired_weights]

Writes benchmarks/results/<name>.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from common import write_result

from facerecon.data.aflw2000 import Aflw2000Dataset, read_aflw_mat
from facerecon.evaluate.aflw2000 import evaluate_aflw2000, predict_dataset
from facerecon.evaluate.dense import evaluate_dense
from facerecon.evaluate.predictors import make_reconstructor, pipeline_predictor, predict_images
from facerecon.evaluate.w300 import evaluate_300w, load_300w_split
from facerecon.morphable.ict import load_ict

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/paired_weights.py "
           "--shared ../shared/data --old OLD.safetensors --new NEW.safetensors "
           "--ict ../shared/data/ict-facekit/FaceXModel")
STRONG_PITCH_DEG = 30.0


def paired(old: np.ndarray, new: np.ndarray) -> dict:
    """Summary of (N,) per-image errors in % of two weights on the same images."""
    difference = new - old
    return {"images": int(old.size), "mean_old": round(float(old.mean()), 2),
            "mean_new": round(float(new.mean()), 2),
            "mean_difference": round(float(difference.mean()), 3),
            "standard_error": round(float(difference.std(ddof=1) / np.sqrt(old.size)), 3),
            "new_better_on": int((difference < 0).sum())}


def reconstructor(weights: Path, supersample: int | None, surface_sigma: float | None,
                  refine: Path | None):
    """The default model with ``weights``; its crops sampled with ``supersample``, its maps
    smoothed with ``surface_sigma``, and refined by a second network of ``refine`` weights
    (:class:`facerecon.api.FaceReconstructor`'s ``refiner``), each if given."""
    result = make_reconstructor(weights=weights, surface_sigma=surface_sigma,
                                refiner=refine)
    if supersample is not None:
        result.predictor.crop_supersample = supersample
    return result


def aflw_errors(rec, dataset: Aflw2000Dataset) -> np.ndarray:
    """(N,) % NME (original 2D annotation) of ``rec`` on the dataset's images, in its order."""
    predictions = predict_dataset(pipeline_predictor(rec, "aflw_roi"), dataset)
    return evaluate_aflw2000(dataset, predictions).per_image["original"] * 100


def w300_errors(rec, samples: list) -> np.ndarray:
    """(N,) % inter-ocular NME of ``rec`` on the 300-W held-out ``samples``."""
    names = [sample.name for sample in samples]
    predictions = predict_images(
        pipeline_predictor(rec, "landmarks"), names,
        [sample.image_path for sample in samples], np.stack([sample.box for sample in samples]))
    return evaluate_300w(samples, predictions).per_image * 100


def dense_errors(rec, ict) -> tuple[np.ndarray, np.ndarray]:
    """(100,) % dense 3D error and (100,) surface normal error in degrees of ``rec`` on the
    held-out synthetic ICT faces."""
    result = evaluate_dense(rec, ict)
    return result.per_image["dense_3d"] * 100, result.normal_error_deg


def paired_dense(old_rec, new_rec, ict) -> dict:
    """``{"dense_3d": ..., "dense_normal_error_deg": ...}``: :func:`paired` summaries of two
    reconstructors on the held-out synthetic ICT faces."""
    (old_dense, old_normals), (new_dense, new_normals) = (dense_errors(old_rec, ict),
                                                          dense_errors(new_rec, ict))
    return {"dense_3d": paired(old_dense, new_dense),
            "dense_normal_error_deg": paired(old_normals, new_normals)}


def load_held_out(shared: Path, ict_dir: Path) -> tuple:
    """(AFLW2000-3D dataset, 300-W held-out samples, ICT model): what :func:`held_out_means`
    scores on."""
    return (Aflw2000Dataset(shared / "aflw2000-3d"), load_300w_split(shared / "300w", "val"),
            load_ict(ict_dir))


def held_out_means(rec, held_out: tuple) -> dict:
    """Mean scores of ``rec`` on :func:`load_held_out`'s data, rounded to 3 decimals: AFLW2000-3D
    plain mean NME %, 300-W held-out NME %, dense 3D error %, dense normal error in degrees."""
    aflw, w300, ict = held_out
    dense, normals = dense_errors(rec, ict)
    return {"aflw2000_mean": round(float(aflw_errors(rec, aflw).mean()), 3),
            "300w_val": round(float(w300_errors(rec, w300).mean()), 3),
            "dense_3d": round(float(dense.mean()), 3),
            "dense_normal_error_deg": round(float(normals.mean()), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="the shared/data folder")
    parser.add_argument("--old", type=Path, required=True, help="baseline .safetensors")
    parser.add_argument("--new", type=Path, required=True, help="candidate .safetensors")
    parser.add_argument("--ict", type=Path, default=None,
                        help="ICT-FaceKit FaceXModel folder: adds the dense benchmark")
    for side in ("old", "new"):
        parser.add_argument(f"--{side}-supersample", type=int, default=None,
                            help=f"crop supersampling for --{side} (default: the model's)")
        parser.add_argument(f"--{side}-surface-sigma", type=float, default=None,
                            help=f"map smoothing for --{side} (default: the model's)")
        parser.add_argument(f"--{side}-refine", type=Path, default=None, metavar="FILE",
                            help=f"refiner network weights for --{side} (default: none)")
    parser.add_argument("--name", default="paired_weights",
                        help="result file name under benchmarks/results (no .json)")
    args = parser.parse_args()
    old_rec = reconstructor(args.old, args.old_supersample, args.old_surface_sigma,
                            args.old_refine)
    new_rec = reconstructor(args.new, args.new_supersample, args.new_surface_sigma,
                            args.new_refine)
    dataset = Aflw2000Dataset(args.shared / "aflw2000-3d")
    old, new = aflw_errors(old_rec, dataset), aflw_errors(new_rec, dataset)
    pitch = np.array([np.degrees(read_aflw_mat(sample.mat_path).pitch) for sample in dataset])
    strong = np.abs(pitch) >= STRONG_PITCH_DEG
    images = [{"image": name, "pitch": round(float(p), 1), "nme_old": round(float(a), 2),
               "nme_new": round(float(b), 2)}
              for name, p, a, b in zip(dataset.names, pitch, old, new, strict=True)]
    w300 = load_300w_split(args.shared / "300w", "val")
    w300_old, w300_new = w300_errors(old_rec, w300), w300_errors(new_rec, w300)
    result = {
        "command": COMMAND, "arguments": sys.argv[1:], "old": str(args.old),
        "new": str(args.new),
        "crop_supersample": {"old": old_rec.predictor.crop_supersample,
                             "new": new_rec.predictor.crop_supersample},
        "surface_sigma": {"old": old_rec.surface_sigma, "new": new_rec.surface_sigma},
        "refine": {"old": None if args.old_refine is None else str(args.old_refine),
                   "new": None if args.new_refine is None else str(args.new_refine)},
        "aflw2000": {"all": paired(old, new),
                     "abs_pitch_ge_30": paired(old[strong], new[strong]),
                     "abs_pitch_lt_30": paired(old[~strong], new[~strong]),
                     "images": images},
        "300w_val": paired(w300_old, w300_new)}
    if args.ict is not None:
        result.update(paired_dense(old_rec, new_rec, load_ict(args.ict)))
    write_result(args.name, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
