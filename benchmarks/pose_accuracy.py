"""Pose recovery accuracy of facerecon.apps.pose.estimate_pose on ICT-FaceKit faces.

Canonical face: the ICT neutral mesh's "full face area" (vertices 0-9408), in the image frame
(ICT's y negated: x right, y down, z towards the viewer). For each of ``--poses`` random
poses (yaw U[-90, 90], pitch U[-90, 90], roll U[-180, 180] degrees, scale U[5, 12] pixels
per ICT unit, i.e. faces about 90-220 px wide, random translation) the observed vertices are
made under three conditions:

- ``same_shape_noise_{1,3}px``: the canonical face plus isotropic Gaussian noise (sigma 1 or
  3 px per axis);
- ``other_identity_noise_1px``: a random identity (10 identity modes, N(0, 1) weights), so
  the fit has a shape residual too, plus 1 px noise;
- ``other_identity_and_expression_noise_1px``: the same plus 6 expressions (jaw open, smiles,
  blink, brow, pucker) with U[0, 1] weights.

Errors: the geodesic angle between the fitted and true rotations, and the per-angle
differences of yaw, pitch and roll (reported for |yaw| <= 80 and over all poses: near
|yaw| = 90 pitch and roll alone are ill-conditioned while the rotation is not; see
docs/pose.md). Also the median latency of estimate_pose on the 9409 vertices.

Command: PYTHONPATH=src python benchmarks/pose_accuracy.py [--ict FaceXModel folder]
Writes benchmarks/results/pose_accuracy.json and prints the same JSON.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # before numpy: 2 BLAS threads, as all benchmarks

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from common import RESULTS, median_ms, write_result  # noqa: E402

from facerecon.apps.pose import Pose, estimate_pose  # noqa: E402
from facerecon.morphable.ict import load_ict  # noqa: E402
from facerecon.topology.build import to_image_frame  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EXPRESSIONS = ["jawOpen", "mouthSmile_L", "mouthSmile_R", "eyeBlink_L", "browInnerUp_R",
               "mouthPucker"]


def face_model(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ICT's face region (load_ict) in the image frame, float64: neutral (V, 3), the first 10
    identity deltas (10, V, 3) and the :data:`EXPRESSIONS` deltas (6, V, 3)."""
    model = load_ict(folder)
    chosen = [model.expression_names.index(name) for name in EXPRESSIONS]
    return (to_image_frame(model.neutral), to_image_frame(model.identity_deltas[:10]),
            to_image_frame(model.expression_deltas[chosen]))


def angle_errors(pose: Pose, truth: Pose) -> tuple[float, np.ndarray]:
    cos = np.clip((np.trace(pose.rotation.T @ truth.rotation) - 1.0) / 2.0, -1.0, 1.0)
    geodesic = float(np.rad2deg(np.arccos(cos)))
    diff = np.subtract((pose.yaw, pose.pitch, pose.roll), (truth.yaw, truth.pitch, truth.roll))
    return geodesic, np.abs((diff + 180.0) % 360.0 - 180.0)


def summarise(values: np.ndarray) -> dict:
    return {"mean": float(np.mean(values)), "median": float(np.median(values)),
            "p99": float(np.percentile(values, 99)), "max": float(np.max(values))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = Path(os.environ.get("FACERECON_SHARED_DATA", REPO.parent / "shared" / "data"))
    parser.add_argument("--ict", type=Path, default=shared / "ict-facekit" / "FaceXModel",
                        help="ICT FaceXModel folder (default: $FACERECON_SHARED_DATA/...)")
    parser.add_argument("--poses", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "pose_accuracy.json")
    args = parser.parse_args()

    neutral, identity, expression = face_model(args.ict)
    rng = np.random.default_rng(args.seed)

    # name: (random identity, random expression, noise sigma in px)
    conditions = {"same_shape_noise_1px": (False, False, 1.0),
                  "same_shape_noise_3px": (False, False, 3.0),
                  "other_identity_noise_1px": (True, False, 1.0),
                  "other_identity_and_expression_noise_1px": (True, True, 1.0)}
    results = {}
    for name, (other_identity, other_expression, sigma) in conditions.items():
        geodesic, per_angle, yaws = [], [], []
        for _ in range(args.poses):
            truth = Pose.from_euler(rng.uniform(-90, 90), rng.uniform(-90, 90),
                                    rng.uniform(-180, 180), scale=rng.uniform(5, 12),
                                    translation=rng.uniform([50, 50, -50], [450, 450, 50]))
            face = neutral
            if other_identity:
                face = face + np.tensordot(rng.normal(size=10), identity, 1)
            if other_expression:
                face = face + np.tensordot(rng.uniform(size=len(EXPRESSIONS)), expression, 1)
            observed = truth.project(face) + rng.normal(0, sigma, face.shape)
            pose = estimate_pose(observed.astype(np.float32), neutral)
            g, a = angle_errors(pose, truth)
            geodesic.append(g)
            per_angle.append(a)
            yaws.append(truth.yaw)
        per_angle, moderate = np.array(per_angle), np.abs(yaws) <= 80
        results[name] = {
            "noise_sigma_px": sigma,
            "random_identity": other_identity,
            "random_expression": other_expression,
            "rotation_geodesic_deg": summarise(np.array(geodesic)),
            "per_angle_abs_error_deg_abs_yaw_le_80": {
                "poses": int(moderate.sum()),
                **{k: summarise(per_angle[moderate, i])
                   for i, k in enumerate(("yaw", "pitch", "roll"))}},
            "per_angle_abs_error_deg_all": {
                k: summarise(per_angle[:, i]) for i, k in enumerate(("yaw", "pitch", "roll"))},
        }

    observed = Pose.from_euler(30, 10, 5, scale=8.0, translation=[200, 200, 0]).project(neutral)
    observed = observed.astype(np.float32)
    latency = median_ms(lambda: estimate_pose(observed, neutral), 100, 5, digits=None)

    report = {
        "command": " ".join(["PYTHONPATH=src python benchmarks/pose_accuracy.py", *sys.argv[1:]]),
        "canonical": "ICT-FaceKit generic_neutral_mesh, vertices 0-9408, y negated",
        "poses_per_condition": args.poses,
        "seed": args.seed,
        "pose_sampling": "yaw U[-90,90], pitch U[-90,90], roll U[-180,180] deg; scale U[5,12]",
        "conditions": results,
        "estimate_pose_latency_ms": {"vertices": len(neutral), "runs": 100,
                                     "warmup": 5, "median": latency["median_ms"],
                                     "threads": os.environ["OMP_NUM_THREADS"],
                                     "note": "machine shared by several sessions: noisy"},
        "platform": {"python": platform.python_version(), "numpy": np.__version__,
                     "machine": platform.machine()},
    }
    write_result("pose_accuracy", report, path=args.out)


if __name__ == "__main__":
    main()
