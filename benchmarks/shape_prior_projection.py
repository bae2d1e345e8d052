"""Would a face-shape prior fix the AFLW2000-3D error? Project the predicted surface onto
ICT-FaceKit's linear model and score the projected landmarks.

For each image of ``--data`` (ROI-box crops, the benchmark's protocol) the pipeline's dense
surface (``Face.vertices``, (N, 3) image pixels, sigma as shipped) is replaced by the
closest face of ICT's linear model seen through a 3D similarity: alternately the similarity
(Umeyama, all surface points) and the 153 coefficients (100 identity, 53 expression;
ridge ``lam * |c|^2`` on the unit-free weights, no bounds) are solved by least squares,
``--iterations`` times from the neutral face. The projected surface's 68 landmarks (the
topology's landmarks as ``facerecon.posmap.decode`` reads them from the map) are scored like the
raw ones: 2D NME / sqrt(w*h) of the ground-truth box, mean of |yaw| bins and plain mean. If
the network's errors were implausible deformations (a mouth no face makes), projecting
would remove them; if they are plausible faces in the wrong shape or pose, it would not.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=2 python benchmarks/shape_prior_projection.py \
        --data ../shared/data/aflw2000-3d --ict ../shared/data/ict-facekit/FaceXModel

Writes benchmarks/results/shape_prior_projection.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import write_result

from facerecon.apps.pose import umeyama
from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.evaluate.metrics import binned_errors, nme_bbox
from facerecon.evaluate.predictors import make_reconstructor
from facerecon.imageio import read_image
from facerecon.morphable.ict import IctModel, load_ict
from facerecon.posmap import decode
from facerecon.topology import UVTopology
from facerecon.topology.build import to_image_frame

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=2 python benchmarks/shape_prior_projection.py "
           "--data ../shared/data/aflw2000-3d --ict ../shared/data/ict-facekit/FaceXModel")


class LinearSurface:
    """ICT's linear model sampled at a topology's valid UV pixels, image frame (y down)."""

    def __init__(self, model: IctModel, topology: UVTopology):
        def at_pixels(vertices: np.ndarray) -> np.ndarray:  # (V, 3) ICT -> (N, 3)
            return to_image_frame(np.asarray(topology.surface_matrix @ vertices, np.float64))

        self.topology = topology
        self.mean = at_pixels(model.neutral)  # (N, 3)
        deltas = np.concatenate([model.identity_deltas, model.expression_deltas])
        self.basis = np.stack([at_pixels(delta).ravel() for delta in deltas], axis=1)  # (3N, K)
        self.gram = self.basis.T @ self.basis  # (K, K)

    def project(self, points: np.ndarray, lam: float, iterations: int) -> np.ndarray:
        """(N, 3) the model face closest to ``points`` (N, 3) through a similarity."""
        coefficients = np.zeros(self.basis.shape[1])
        ridge = lam * np.eye(len(coefficients))
        for _ in range(iterations):
            shape = self.mean + (self.basis @ coefficients).reshape(-1, 3)
            pose = umeyama(shape, points)
            in_model_frame = pose.inverse().apply(points)
            coefficients = np.linalg.solve(
                self.gram + ridge, self.basis.T @ (in_model_frame - self.mean).ravel())
        return pose.apply(self.mean + (self.basis @ coefficients).reshape(-1, 3))

    def landmarks(self, points: np.ndarray) -> np.ndarray:
        """(68, 3) landmarks of (N, 3) surface points, read by the codec from their map."""
        size = self.topology.resolution
        posmap = np.zeros((size * size, 3))
        posmap[self.topology.valid_indices] = points
        return decode(posmap.reshape(size, size, 3), self.topology).landmarks

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="an aflw2000-3d folder")
    parser.add_argument("--ict", type=Path, required=True, help="ICT-FaceKit FaceXModel folder")
    parser.add_argument("--weights", type=Path, default=None, help="default: shipped weights")
    parser.add_argument("--lams", default="0.01,1,10,100,1000", help="ridge weights to try")
    parser.add_argument("--iterations", type=int, default=6)
    args = parser.parse_args()
    dataset = Aflw2000Dataset(args.data)
    reconstructor = make_reconstructor(weights=args.weights)
    surface = LinearSurface(load_ict(args.ict), reconstructor.topology)
    lams = [float(value) for value in args.lams.split(",")]
    landmarks = {"raw": []} | {f"lam {lam:g}": [] for lam in lams}
    for sample in dataset:
        face = reconstructor(read_image(sample.image_path), boxes=sample.roi_box[None],
                             box_source="aflw_roi")[0]
        landmarks["raw"].append(face.landmarks)
        vertices = face.vertices.astype(np.float64)
        for lam in lams:
            projected = surface.project(vertices, lam, args.iterations)
            landmarks[f"lam {lam:g}"].append(surface.landmarks(projected))
    truth = np.stack([sample.pts68[:, :2] for sample in dataset])
    yaw = [sample.yaw for sample in dataset]
    rows = {}
    for name, points in landmarks.items():
        errors = np.atleast_1d(nme_bbox(np.stack(points)[..., :2], truth))
        summary = binned_errors(errors, yaw)
        rows[name] = {"mean_of_bins": round(summary.mean_of_bins * 100, 2),
                      "mean": round(summary.mean * 100, 2),
                      "per_image": [round(float(e) * 100, 2) for e in errors]}
    write_result("shape_prior_projection", {
        "command": COMMAND, "arguments": {"weights": str(args.weights or "shipped"),
                                          "iterations": args.iterations},
        "images": list(dataset.names), "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
