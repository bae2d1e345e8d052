"""How much to smooth the predicted surface: a sweep of ``facerecon.posmap.smooth``'s sigma.

For each sigma the default model's position maps (``--weights``, default the shipped file)
are smoothed and scored on a data build's ``val`` split, predicted as the trainer
validates (``val_predictions.py``):

- ``normal_error_deg``: mean angle between predicted and true facet normals
  (:mod:`facerecon.evaluate.surface`, against the unclipped label maps);
- ``nme_bbox``: 68-point 2D NME, % of sqrt(w*h) of the label landmarks' box;
- ``nme_interocular_300w``: % inter-ocular NME of the real 300-W photos in the split
  against their human annotation.

The real 300-W photos of a build's ``val`` split are the photos of the 300-W held-out
benchmark (the same split rule), scored here on the build's crops. The model's
``surface_sigma`` is chosen on these validation numbers alone: the sigma with
the lowest normal error among those whose ``nme_bbox`` and 300-W NME are no worse than
sigma 0's plus ``--nme-tolerance`` percentage points (default 0; ``chosen_sigma`` in the
output). With ``--shared`` and ``--ict`` the held-out
benchmarks are scored as well, for the record only (AFLW2000-3D plain mean, 300-W held-out
split, dense 3D error and normal error on the synthetic ICT faces, through the pipeline).

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/surface_smoothing.py \
        --build /work/data/build-v3 [--weights FILE] [--sigmas 0,0.75,1,1.5,2,2.5,3] \
        [--shared ../shared/data --ict ../shared/data/ict-facekit/FaceXModel] \
        [--nme-tolerance 0] [--name surface_smoothing]

Writes benchmarks/results/<name>.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from common import set_threads, write_result
from val_predictions import MODEL, val_batches

from facerecon.evaluate.metrics import nme_bbox, nme_interocular
from facerecon.evaluate.surface import normal_error_deg
from facerecon.models import get_config, shipped_weights
from facerecon.posmap import decode, smooth
from facerecon.topology import load_topology
from facerecon.train.dataset import ShardDataset

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/surface_smoothing.py "
           "--build /work/data/build-v3 --shared ../shared/data "
           "--ict ../shared/data/ict-facekit/FaceXModel")


def validation_sweep(dataset: ShardDataset, weights: Path, sigmas: list[float]) -> list[dict]:
    """Per sigma: the three validation scores of the module docstring."""
    topology = load_topology(get_config(MODEL).output_size)
    scores = {sigma: {"normals": [], "bbox": [], "w300": []} for sigma in sigmas}
    for samples, posmaps in val_batches(dataset, weights):
        labels = np.stack([sample["landmarks"] for sample in samples])
        true_maps = np.stack([sample["posmap"] for sample in samples])
        real = np.array([sample["is_300w_real"] for sample in samples])
        for sigma in sigmas:
            smoothed = smooth(posmaps, topology, sigma)
            landmarks = decode(smoothed, topology).landmarks
            row = scores[sigma]
            row["normals"].append(normal_error_deg(smoothed, true_maps, topology.uv_mask))
            row["bbox"].append(np.atleast_1d(nme_bbox(landmarks, labels)))
            if real.any():
                annotation = np.stack([sample["annotation"] for sample in samples])[real]
                row["w300"].append(np.atleast_1d(nme_interocular(landmarks[real], annotation)))
    return [{"sigma": sigma,
             "normal_error_deg": round(float(np.concatenate(row["normals"]).mean()), 3),
             "nme_bbox": round(float(np.concatenate(row["bbox"]).mean() * 100), 3),
             "nme_interocular_300w": round(float(np.concatenate(row["w300"]).mean() * 100), 3)}
            for sigma, row in scores.items()]


def choose(rows: list[dict], tolerance: float = 0.0) -> float:
    """The rule of the module docstring (rows[0] must be sigma 0; ``tolerance`` in
    percentage points of NME)."""
    raw = rows[0]
    allowed = [row for row in rows if row["nme_bbox"] <= raw["nme_bbox"] + tolerance
               and row["nme_interocular_300w"] <= raw["nme_interocular_300w"] + tolerance]
    return min(allowed, key=lambda row: row["normal_error_deg"])["sigma"]


def held_out(weights: Path, sigmas: list[float], shared: Path, ict_dir: Path) -> list[dict]:
    """Per sigma, through the pipeline: AFLW2000-3D, 300-W held-out, dense (for the record)."""
    from paired_weights import held_out_means, load_held_out

    from facerecon.evaluate.predictors import make_reconstructor

    data = load_held_out(shared, ict_dir)
    return [{"sigma": sigma, **held_out_means(
                make_reconstructor(weights=weights, surface_sigma=sigma), data)}
            for sigma in sigmas]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True, help="a data build folder")
    parser.add_argument("--weights", type=Path, default=None, help="default: the shipped file")
    parser.add_argument("--sigmas", default="0,0.75,1,1.5,2,2.5,3")
    parser.add_argument("--shared", type=Path, default=None, help="the shared/data folder")
    parser.add_argument("--ict", type=Path, default=None, help="ICT-FaceKit FaceXModel folder")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nme-tolerance", type=float, default=0.0,
                        help="NME (percentage points) a sigma may cost over sigma 0 (default 0)")
    parser.add_argument("--name", default="surface_smoothing",
                        help="result file name under benchmarks/results (no .json)")
    args = parser.parse_args()
    sigmas = sorted({float(value) for value in args.sigmas.split(",")})
    if sigmas[0] != 0:
        parser.error("--sigmas must include 0 (the unsmoothed reference)")
    if (args.shared is None) != (args.ict is None):
        parser.error("give --shared and --ict together")
    weights = args.weights or shipped_weights(MODEL)
    torch.set_num_threads(args.threads)
    set_threads(args.threads)
    dataset = ShardDataset(args.build, "val", get_config(MODEL))
    rows = validation_sweep(dataset, weights, sigmas)
    result = {"command": COMMAND, "arguments": sys.argv[1:], "weights": str(weights),
              "build": str(args.build),
              "val_samples": len(dataset), "validation": rows, "nme_tolerance": args.nme_tolerance,
              "chosen_sigma": choose(rows, args.nme_tolerance)}
    if args.shared is not None:
        result["held_out"] = held_out(weights, sigmas, args.shared, args.ict)
    write_result(args.name, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
