"""Accuracy and speed of facerecon.morphable.fit on synthetic ICT faces, residuals on 300-W.

Synthetic recovery (``--faces`` per condition, seeded): identity N(0, 1) * 0.7 on all 100
modes, 0-5 random expressions with U[0, 1] weights, yaw U[-70, 70], pitch and roll U[-30, 30]
degrees, scale U[8, 16] px per ICT unit (faces ~130-250 px wide, as in 256-450 px photos),
translation U[120, 220] px; Gaussian noise of 1 px on every input coordinate.

- ``3d``: the 68 landmark vertices with x, y, z (a 3DDFA-teacher-like input);
- ``2d``: x, y only, the jaw points on the face's outline (the outermost vertex of each jaw
  candidate chain under the true pose: what a human annotator marks);
- ``2d_yaw60``: as 2d with |yaw| = 60.

Errors: image-plane landmark RMS (px); dense error = mean distance over the 9,409 region
vertices (px; for 2D input after removing the unobservable mean depth offset), also divided
by the true 3D outer inter-ocular distance (points 36-45); geodesic rotation error and
per-angle errors (degrees).

Real data: every 300-W face in shared/data (HELEN train 870 + AFW 337, human 68-point
annotations, 2D) is fitted; percentiles of ``residual_nme`` (RMS / sqrt(w*h) of the
landmark box) and of the RMS in px, Tukey's fences, and the worst faces. ``--montage``
draws the worst and some typical fits (landmarks, shaded fit, fitted face in profile).

Speed: median wall and thread-CPU time of one fit over ``--timing-runs`` fits after warm-up,
one thread (OMP/numba), i.e. one core of a multiprocessing build.

Command: PYTHONPATH=src python benchmarks/fit_accuracy.py [--montage docs/fit_examples.jpg]
Writes benchmarks/results/fit_accuracy.json and prints the same JSON.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy: one core per fit
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from common import RESULTS, median_ms, write_result  # noqa: E402

from facerecon.apps.pose import rotation_from_euler  # noqa: E402
from facerecon.atomic import atomic_path  # noqa: E402
from facerecon.data.synthetic import random_ict_face  # noqa: E402
from facerecon.morphable.fit import DROP_RESIDUAL_NME, FLIP_Y, IctFitter  # noqa: E402
from facerecon.morphable.ict import load_ict  # noqa: E402
from facerecon.morphable.jaw_contour import select_silhouette  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def summarise(values) -> dict:
    values = np.asarray(values, dtype=np.float64)
    return {"mean": float(values.mean()), "median": float(np.median(values)),
            "p90": float(np.percentile(values, 90)), "p99": float(np.percentile(values, 99)),
            "max": float(values.max())}


def outline_landmark_vertices(fitter, model, canonical, pose) -> np.ndarray:
    contours = fitter.contours
    no_roll = rotation_from_euler(pose.yaw, pose.pitch, 0.0)
    chosen = select_silhouette(contours, canonical[contours.vertices] @ no_roll[0])
    vertices = np.asarray(model.landmark_indices, dtype=np.int64).copy()
    vertices[contours.landmarks] = contours.vertices[chosen]
    return vertices


def synthetic(model, fitter, condition: str, faces: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    rows = {key: [] for key in ("landmark_rms_px", "residual_nme", "dense_px", "dense_over_iod",
                                "rotation_deg", "yaw_deg", "pitch_deg", "roll_deg")}
    jaw_exact = []
    for _ in range(faces):
        yaw = None if condition != "2d_yaw60" else 60.0 * rng.choice([-1.0, 1.0])
        _, _, pose, canonical = random_ict_face(model, rng, yaw)
        truth = pose.project(canonical)
        if condition == "3d":
            vertices = np.asarray(model.landmark_indices)
            landmarks = truth[vertices] + rng.normal(size=(68, 3))
        else:
            vertices = outline_landmark_vertices(fitter, model, canonical, pose)
            landmarks = truth[vertices, :2] + rng.normal(size=(68, 2))
        result = fitter.fit(landmarks)
        fitted = result.vertices(model).astype(np.float64)
        if condition != "3d":
            fitted[:, 2] += np.mean(truth[:, 2] - fitted[:, 2])
            jaw = fitter.contours.landmarks
            jaw_exact.append(int(np.sum(result.landmark_vertices[jaw] == vertices[jaw])))
        dense = float(np.linalg.norm(fitted - truth, axis=1).mean())
        eyes = truth[model.landmark_indices[[36, 45]]]
        cos = (np.trace(result.pose.rotation.T @ pose.rotation) - 1.0) / 2.0
        angles = np.subtract((result.pose.yaw, result.pose.pitch, result.pose.roll),
                             (pose.yaw, pose.pitch, pose.roll))
        angles = np.abs((angles + 180.0) % 360.0 - 180.0)
        for key, value in zip(rows, (result.residual_px, result.residual_nme, dense,
                                     dense / float(np.linalg.norm(eyes[0] - eyes[1])),
                                     float(np.rad2deg(np.arccos(np.clip(cos, -1, 1)))),
                                     *angles), strict=True):
            rows[key].append(value)
    report = {key: summarise(values) for key, values in rows.items()}
    if jaw_exact:
        report["jaw_outline_vertices_found_of_16"] = summarise(jaw_exact)
    return report


def timing(model, fitter, runs: int) -> dict:
    rng = np.random.default_rng(99)
    _, _, pose, canonical = random_ict_face(model, rng)
    truth = pose.project(canonical)[model.landmark_indices]
    report = {}
    for name, landmarks in (("3d", truth), ("2d", truth[:, :2])):
        ms = median_ms(lambda points=landmarks: fitter.fit(points), runs, 5, cpu="thread",
                       digits=None)
        report[name] = {"median_wall_ms": ms["median_ms"],
                        "median_thread_cpu_ms": ms["median_cpu_ms"], "runs": runs, "warmup": 5}
    return report


def read_pts(path: Path) -> np.ndarray:
    points = np.loadtxt(path, dtype=np.float64)
    if points.shape != (68, 2):
        raise ValueError(f"{path}: expected 68 lines 'x y', got {points.shape}")
    return points


def real_300w(fitter, folder: Path) -> tuple[dict, list]:
    paths = sorted(folder.glob("*/*.pts"))
    fits = [(path, fitter.fit(read_pts(path))) for path in paths]
    nme = np.array([fit.residual_nme for _, fit in fits])
    px = np.array([fit.residual_px for _, fit in fits])
    q1, q3 = np.percentile(nme, [25, 75])
    percentiles = [50, 75, 90, 95, 98, 99, 99.5, 100]
    order = np.argsort(nme)[::-1]
    report = {
        "faces": len(fits),
        "subsets": {sub.name: len(list(sub.glob("*.pts"))) for sub in sorted(folder.iterdir())
                    if sub.is_dir()},
        "residual_nme_percentiles": {f"p{p}": float(np.percentile(nme, p)) for p in percentiles},
        "residual_px_percentiles": {f"p{p}": float(np.percentile(px, p)) for p in percentiles},
        "tukey_fence_q3_plus_1.5iqr": float(q3 + 1.5 * (q3 - q1)),
        "tukey_fence_q3_plus_3iqr": float(q3 + 3.0 * (q3 - q1)),
        "drop_residual_nme": DROP_RESIDUAL_NME,
        "dropped_by_residual": int(np.sum(nme > DROP_RESIDUAL_NME)),
        "not_facing_camera": int(sum(not fit.faces_camera for _, fit in fits)),
        "abs_yaw_deg": summarise([abs(fit.pose.yaw) for _, fit in fits]),
        "worst": [{"image": f"{fits[i][0].parent.name}/{fits[i][0].stem}",
                   "residual_nme": float(nme[i]), "residual_px": float(px[i]),
                   "yaw": fits[i][1].pose.yaw} for i in order[:8]],
        "mirrored_annotations": _mirrored(fitter, [read_pts(p) for p in paths[::40]]),
        "noisy_annotations": _noisy(fitter, [read_pts(p) for p in paths[::40]]),
    }
    return report, [fits[i] for i in [*order[:3], *order[len(order) // 2:][:3]]]


def _mirrored(fitter, annotations) -> dict:
    """Mirror x of some annotations (a flipped photo with unflipped labels)."""
    fits = [fitter.fit(points * [-1.0, 1.0]) for points in annotations]
    return {"faces": len(fits), "facing_camera": int(sum(fit.faces_camera for fit in fits)),
            "residual_nme": summarise([fit.residual_nme for fit in fits])}


def _noisy(fitter, annotations) -> dict:
    """Add Gaussian noise of a fraction of sqrt(w*h) to every coordinate: what gets dropped."""
    rng = np.random.default_rng(5)
    report = {}
    for fraction in (0.02, 0.03, 0.05):
        fits = [fitter.fit(points + rng.normal(size=points.shape) * fraction
                           * np.sqrt(np.prod(np.ptp(points, axis=0)))) for points in annotations]
        report[f"sigma_{fraction}_box"] = {
            "faces": len(fits), "dropped": int(sum(not fit.is_plausible() for fit in fits)),
            "residual_nme": summarise([fit.residual_nme for fit in fits])}
    return report


def _shade(image, vertices, triangles):
    """Painter's-algorithm Lambert shading of a mesh over an image (for the montage only)."""
    corners = vertices[triangles]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    # image frame is left-handed: a camera-facing triangle has a negative normal z here
    facing = -normals[:, 2] / (np.linalg.norm(normals, axis=1) + 1e-12)
    canvas = image.copy()
    for index in np.argsort(corners[:, :, 2].mean(axis=1)):
        if facing[index] > 0:
            grey = int(60 + 195 * facing[index])
            cv2.fillConvexPoly(canvas, np.round(corners[index, :, :2] * 4).astype(np.int32),
                               (grey, grey, grey), lineType=cv2.LINE_AA, shift=2)
    return cv2.addWeighted(image, 0.35, canvas, 0.65, 0)


def montage(model, examples, path: Path, tile: int = 200) -> None:
    rows = []
    for pts_path, fit in examples:
        photo = cv2.imread(str(pts_path.with_suffix(".jpg")))  # BGR only inside OpenCV
        marked = photo.copy()
        for points, colour in ((read_pts(pts_path), (0, 255, 0)), (fit.landmarks, (0, 0, 255))):
            for x, y in points[:, :2]:
                cv2.circle(marked, (round(float(x)), round(float(y))), 2, colour, -1)
        label = f"{fit.residual_nme:.3f} yaw {fit.pose.yaw:.0f}"
        for colour, thickness in (((0, 0, 0), 4), ((255, 255, 255), 2)):  # outlined text
            cv2.putText(marked, label, (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, colour,
                        thickness)
        shaded = _shade(photo, fit.vertices(model).astype(np.float64), model.triangles)
        face = model.shape(fit.identity, fit.expression).astype(np.float64) * FLIP_Y
        face = face @ rotation_from_euler(-90, 0, 0).T
        size = photo.shape[0]
        face = (face - face.mean(axis=0)) * (0.8 * size / np.ptp(face[:, 1]))
        profile = _shade(np.zeros_like(photo), face + [photo.shape[1] / 2, size / 2, 0],
                         model.triangles)
        rows.append(np.hstack([cv2.resize(image, (tile, tile), interpolation=cv2.INTER_AREA)
                               for image in (marked, shaded, profile)]))
    half = (len(rows) + 1) // 2
    sheet = np.hstack([np.vstack(rows[:half]), np.vstack(rows[half:])])
    quality = [cv2.IMWRITE_JPEG_QUALITY, 80] if path.suffix.lower() in (".jpg", ".jpeg") else []
    ok, encoded = cv2.imencode(path.suffix, sheet, quality)
    if not ok:
        raise RuntimeError(f"could not encode {path}")
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(encoded.tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = Path(os.environ.get("FACERECON_SHARED_DATA", REPO.parent / "shared" / "data"))
    parser.add_argument("--ict", type=Path, default=shared / "ict-facekit" / "FaceXModel")
    parser.add_argument("--w300", type=Path, default=shared / "300w")
    parser.add_argument("--faces", type=int, default=300)
    parser.add_argument("--timing-runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--montage", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "fit_accuracy.json")
    args = parser.parse_args()

    model = load_ict(args.ict)
    fitter = IctFitter(model)
    conditions = {name: synthetic(model, fitter, name, args.faces, args.seed + k)
                  for k, name in enumerate(("3d", "2d", "2d_yaw60"))}
    speed = timing(model, fitter, args.timing_runs)
    real, examples = real_300w(fitter, args.w300)
    if args.montage is not None:
        montage(model, examples, args.montage)

    env = [f"FACERECON_SHARED_DATA={os.environ['FACERECON_SHARED_DATA']}"
           ] if "FACERECON_SHARED_DATA" in os.environ else []
    report = {
        "command": " ".join([*env, "PYTHONPATH=src python benchmarks/fit_accuracy.py",
                             *sys.argv[1:]]),
        "fitter": {"identity_count": fitter.identity_count, "iterations": fitter.iterations,
                   "defaults": "IctFitter() defaults"},
        "synthetic": {"faces_per_condition": args.faces, "seed": args.seed,
                      "noise_px": 1.0, "identity": "N(0,1)*0.7, 100 modes",
                      "expression": "0-5 random of 53, U[0,1]",
                      "pose": "yaw U[-70,70], pitch U[-30,30], roll U[-30,30] deg; "
                              "scale U[8,16] px/unit",
                      "conditions": conditions},
        "speed_one_thread": speed,
        "speed_note": "machine shared by several sessions (2 cores): wall time is noisy, "
                      "thread CPU time less so",
        "300w": real,
        "platform": {"python": platform.python_version(), "numpy": np.__version__,
                     "machine": platform.machine(), "load_average": os.getloadavg()},
    }
    write_result("fit_accuracy", report, path=args.out)


if __name__ == "__main__":
    main()
