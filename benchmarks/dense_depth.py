"""How deep the predicted faces are, against the dense benchmark's faces and the build labels.

The dense benchmark (``facerecon evaluate dense``) draws ICT identities from N(0, 1) in all 100
modes; a fit to 68 landmarks keeps most modes near 0 (identity norm about 2-3 against about
10). This measures whether the surfaces differ in depth, rotation-invariantly:
``flatness`` = sqrt(smallest eigenvalue) / sqrt(mean of the two largest) of the 3D covariance
of the UV-mask points of a position map (image pixels; orthographic, so z is in the same
units). Per model (``--weights NAME=FILE``, maps unsmoothed), medians over the 100 dense
faces of:

- ``flatness`` of the predicted surface and ``flatness_ratio`` = predicted / true;
- ``size_ratio``: sqrt(trace of the predicted covariance / the true one's), the surface's
  overall 3D size against the truth's;
- ``dense_3d_pct``: the benchmark's error (z centred, % of the true outer inter-ocular
  distance) and ``dense_3d_depth_scaled_pct``: the same after the best per-face scale of
  the predicted z (least squares), i.e. what a depth-scale bias alone costs;
- ``best_depth_scale``: that scale.

The truth's ``flatness`` and identity norms are reported beside them, and with ``--builds``
the same ``flatness`` of each build's real (not synthetic) label maps in the first
``--shards`` training shards (UTKFace and 300-W separately).

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/dense_depth.py \\
        --ict ../shared/data/ict-facekit/FaceXModel --weights v6=FILE run_v30=FILE \\
        [--builds /work/data/build-v8 /work/data/build-v10] [--name dense_depth]

Writes benchmarks/results/<name>.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from common import add_named_weights, named_weights, set_threads, write_result

from facerecon.data.shards import list_shards, read_shard
from facerecon.evaluate.dense import dense_cases, dense_errors, render_case
from facerecon.evaluate.metrics import OUTER_EYE_CORNERS
from facerecon.evaluate.predictors import make_reconstructor
from facerecon.morphable.ict import load_ict
from facerecon.posmap import encode

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/dense_depth.py "
           "--ict ../shared/data/ict-facekit/FaceXModel --weights NAME=FILE ...")


def flatness(points: np.ndarray) -> float:
    """sqrt(smallest) / sqrt(mean of the two largest) eigenvalue of the (N, 3) covariance."""
    eigenvalues = np.linalg.eigvalsh(np.cov(np.asarray(points, np.float64).T))
    return float(np.sqrt(eigenvalues[0] / eigenvalues[1:].mean()))


def size(points: np.ndarray) -> float:
    """sqrt of the trace of the (N, 3) covariance: the points' overall spread."""
    return float(np.sqrt(np.trace(np.cov(np.asarray(points, np.float64).T))))


def depth_scaled_error(pred: np.ndarray, true: np.ndarray, inter_ocular: float) -> tuple:
    """(error fraction, scale): mean 3D distance, both z centred, after the least-squares
    scale of the predicted z."""
    pred, true = pred.astype(np.float64).copy(), true.astype(np.float64).copy()
    pred[:, 2] -= pred[:, 2].mean()
    true[:, 2] -= true[:, 2].mean()
    scale = float(pred[:, 2] @ true[:, 2] / max(pred[:, 2] @ pred[:, 2], 1e-12))
    pred[:, 2] *= scale
    return float(np.linalg.norm(pred - true, axis=1).mean() / inter_ocular), scale


def median(values) -> float:
    return round(float(np.median(values)), 4)


def model_rows(weights: dict[str, Path], faces: list, topology) -> dict:
    rows = {}
    for name, path in weights.items():
        rec = make_reconstructor(weights=path, surface_sigma=0.0)
        measures = {key: [] for key in ("flatness", "flatness_ratio", "size_ratio", "dense_3d_pct",
                                        "dense_3d_depth_scaled_pct", "best_depth_scale")}
        for face, true_map, true_flatness in faces:
            (result,) = rec(face.image, boxes=face.box[None], box_source="landmarks")
            pred = np.asarray(result.posmap, np.float64)[topology.uv_mask]
            errors = dense_errors(result.posmap, face.vertices, topology)
            marks = np.asarray(face.vertices, np.float64)[topology.landmark_vertices]
            inter_ocular = float(np.linalg.norm(np.subtract(*marks[list(OUTER_EYE_CORNERS)])))
            scaled, scale = depth_scaled_error(pred, true_map, inter_ocular)
            measures["flatness"].append(flatness(pred))
            measures["flatness_ratio"].append(flatness(pred) / true_flatness)
            measures["size_ratio"].append(size(pred) / size(true_map))
            measures["dense_3d_pct"].append(errors["dense_3d"] * 100)
            measures["dense_3d_depth_scaled_pct"].append(scaled * 100)
            measures["best_depth_scale"].append(scale)
        rows[name] = {"weights": str(path), **{k: median(v) for k, v in measures.items()},
                      "dense_3d_mean_pct": round(float(np.mean(measures["dense_3d_pct"])), 3)}
    return rows


def build_rows(builds: list[Path], shards: int, topology) -> dict:
    rows = {}
    for build in builds:
        by_source: dict[str, list[float]] = {}
        for shard in list_shards(build, "train")[:shards]:
            for sample in read_shard(shard):
                if sample["meta"]["synthetic"]:
                    continue
                source = "utkface" if sample["meta"]["source"] == "utkface" else "300w"
                by_source.setdefault(source, []).append(
                    flatness(np.asarray(sample["posmap"], np.float64)[topology.uv_mask]))
        rows[str(build)] = {source: {"real_samples": len(values), "flatness": median(values)}
                            for source, values in sorted(by_source.items())}
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ict", type=Path, required=True, help="ICT-FaceKit FaceXModel folder")
    add_named_weights(parser, "the models to measure")
    parser.add_argument("--builds", type=Path, nargs="*", default=[])
    parser.add_argument("--shards", type=int, default=10, help="training shards per build")
    parser.add_argument("--count", type=int, default=100, help="dense faces")
    parser.add_argument("--name", default="dense_depth")
    args = parser.parse_args()
    weights = named_weights(parser, args.weights)
    set_threads(2)
    ict = load_ict(args.ict)
    topology = make_reconstructor(weights=next(iter(weights.values()))).topology
    faces, norms = [], []
    cases = dense_cases(args.count, identity_modes=ict.identity_deltas.shape[0],
                        expression_count=ict.expression_deltas.shape[0])
    for index, case in enumerate(cases):
        face = render_case(case, ict, topology, seed=index)
        true_map = encode(np.asarray(face.vertices, np.float32), topology)[topology.uv_mask]
        faces.append((face, true_map, flatness(true_map)))
        norms.append(float(np.linalg.norm(case.identity)))
    result = {"command": COMMAND, "arguments": sys.argv[1:],
              "dense_truth": {"faces": len(faces),
                              "flatness": median([f for _, _, f in faces]),
                              "identity_norm": median(norms)},
              "models": model_rows(weights, faces, topology),
              "build_labels": build_rows(args.builds, args.shards, topology)}
    write_result(args.name, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
