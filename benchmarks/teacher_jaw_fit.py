"""How the teacher's jaw points bend the ICT fit of its 3D points (``--teacher-jaw-weight``,
``--teacher-jaw-outline``).

The build fits ICT to the teacher's 68 3D points (UTKFace; 300-W with ``--labels-300w
teacher``) and then snaps the fitted face onto them. The teacher's 17 jaw points are vertices
of its own face model, not ICT's jaw vertices; to reach them in x, y and z the fit inflates
the face and bends its identity. For each jaw weight of the fit this reports, on every 24th
300-W photo (helen-train + afw; teacher in two passes, first ROI from the human landmark box,
as the build) and every 400th UTKFace photo (whole-photo first ROI, as the build), and for
the jaw as an outline (``outline``: its z left out, fitted at weight 1 and snapped in x, y on
the silhouette vertices, the inner 51 points in 3D), medians of:

- ``scale_ratio``: the fit's scale over that of the same points' x, y fitted in 2D (jaw as a
  silhouette, depth from ICT's prior; no jaw vertex is forced);
- ``identity_norm``: |identity weights| (prior N(0, 1) each);
- ``depth_extent_ratio``: the snapped face's z extent over the reference face's;
- ``vertex_distance_iod_pct`` / ``depth_distance_iod_pct``: mean 3D / |z| distance of the
  snapped face's 9,409 region vertices (each face centred) to the reference face's, % of the
  outer inter-ocular distance;
- ``fit_jaw_error_iod_pct``: the fit's mean 2D jaw error before the snap.

Reference face: 300-W: the human annotation fitted in 2D and snapped (the build's default
300-W labels); UTKFace: the teacher's x, y fitted in 2D and snapped.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/teacher_jaw_fit.py \\
        --shared ../shared/data [--sheet docs/teacher_jaw_side.png]

Writes benchmarks/results/teacher_jaw_fit.json and prints the same JSON. ``--sheet`` also
draws the snapped faces of the first ``--sheet-photos`` UTKFace photos seen from the
subject's right (rows: photos; columns: jaw weight 1, weight 0, outline), shaded geometry
only, with the teacher's 68 points as dots (red: jaw, yellow: the rest).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from common import LANDMARK_PARTS, write_result

from facerecon.data.build_worker import (
    teacher_fit_weights,
    teacher_jaw_as_outline,
    teacher_landmarks,
)
from facerecon.data.groundtruth import fit_photo
from facerecon.data.pts import read_pts
from facerecon.data.teacher import Teacher, landmark_box, roi_from_box
from facerecon.imageio import read_image, write_image
from facerecon.morphable.fit import IctFitter
from facerecon.morphable.ict import load_ict
from facerecon.morphable.snap import DEFAULT_MOUTH_OPEN, LandmarkSnap
from facerecon.render.shading import render_shaded

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/teacher_jaw_fit.py "
           "--shared ../shared/data")
JAW_WEIGHTS = (1.0, 0.3, 0.1, 0.03, 0.0)
#: The fits compared: jaw weights in 3D, then the jaw as an outline.
SETTINGS = (*(str(weight) for weight in JAW_WEIGHTS), "outline")
SHEET_SETTINGS = ("1.0", "0.0", "outline")
SHEET_TILE = 200  # pixels per side view
JAW_POINTS = set(range(68)[LANDMARK_PARTS["jaw"]])


def fit_setting(image, teacher_points, setting: str, fitter, model, snap):
    """The build's fitted and snapped photo for one setting of :data:`SETTINGS`."""
    if setting == "outline":
        return fit_photo(image, teacher_jaw_as_outline(teacher_points), fitter, model, snap)
    return fit_photo(image, teacher_points, fitter, model, snap,
                     teacher_fit_weights(float(setting)))


def side_view(vertices: np.ndarray, triangles: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(T, T, 3) uint8: the face turned 90 degrees about the vertical axis (image x <- z,
    z <- -x, a proper rotation: the nose points right, the subject's right cheek, at smaller
    image x, faces the viewer), fitted into the tile."""
    centre = vertices.mean(axis=0)
    scale = 0.8 * SHEET_TILE / np.ptp(vertices[:, 1])

    def turn(array):
        centred = (np.asarray(array, np.float64) - centre) * scale
        return np.stack([centred[:, 2], centred[:, 1], -centred[:, 0]], axis=1) + SHEET_TILE / 2

    tile, _ = render_shaded(turn(vertices), triangles, SHEET_TILE, SHEET_TILE)
    for k, (x, y, _) in enumerate(turn(points)):
        colour = (255, 0, 0) if k in JAW_POINTS else (255, 220, 0)
        cv2.circle(tile, (int(round(x)), int(round(y))), 2, colour, -1)
    return tile


def compare(image, teacher_points, reference_points, fitter, model, snap) -> tuple[dict, dict]:
    """Per setting (:data:`SETTINGS`), the measures of the module docstring for one photo,
    and the snapped (V, 3) vertices they were measured on."""
    reference = fit_photo(image, reference_points, fitter, model, snap)
    flat = fitter.fit(teacher_points[:, :2])
    iod = float(np.linalg.norm(reference_points[36, :2] - reference_points[45, :2]))
    ref = reference.vertices - reference.vertices.mean(axis=0)
    rows, faces, jaw = {}, {}, LANDMARK_PARTS["jaw"]
    for setting in SETTINGS:
        photo = fit_setting(image, teacher_points, setting, fitter, model, snap)
        faces[setting] = photo.vertices
        vertices = photo.vertices - photo.vertices.mean(axis=0)
        rows[setting] = {
            "scale_ratio": photo.fit.pose.scale / flat.pose.scale,
            "identity_norm": float(np.linalg.norm(photo.fit.identity)),
            "depth_extent_ratio": float(np.ptp(vertices[:, 2]) / np.ptp(ref[:, 2])),
            "vertex_distance_iod_pct": float(np.linalg.norm(vertices - ref, axis=1).mean()
                                             / iod * 100),
            "depth_distance_iod_pct": float(np.abs(vertices[:, 2] - ref[:, 2]).mean()
                                            / iod * 100),
            "fit_jaw_error_iod_pct": float(photo.fit.point_errors_px[jaw].mean() / iod * 100)}
    return rows, faces


def medians(per_photo: list[dict]) -> dict:
    return {setting: {key: round(float(np.median([row[setting][key] for row in per_photo])), 3)
                      for key in per_photo[0][setting]}
            for setting in SETTINGS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="shared/data folder")
    parser.add_argument("--step-300w", type=int, default=24)
    parser.add_argument("--step-utkface", type=int, default=400)
    parser.add_argument("--sheet", type=Path, default=None, help="side-view PNG to write")
    parser.add_argument("--sheet-photos", type=int, default=3)
    args = parser.parse_args()
    model = load_ict(args.shared / "ict-facekit" / "FaceXModel")
    fitter = IctFitter(model)
    snap = LandmarkSnap.for_model(model, DEFAULT_MOUTH_OPEN)
    teacher = Teacher.from_folder(args.shared / "teacher-3ddfa")
    w300 = []
    for path in sorted((args.shared / "300w").glob("*/*.jpg"))[:: args.step_300w]:
        image, human = read_image(path), read_pts(path.with_suffix(".pts"))
        roi = roi_from_box(landmark_box(human), "landmarks")[None].astype(np.float32)
        points = teacher_landmarks(teacher, [image], roi)[0]
        w300.append(compare(image, points, human, fitter, model, snap)[0])
    utkface, sheet_rows = [], []
    for path in sorted((args.shared / "utkface").glob("*.jpg"))[:: args.step_utkface]:
        image = read_image(path)
        points = teacher_landmarks(teacher, [image])[0]
        rows, faces = compare(image, points, points[:, :2], fitter, model, snap)
        utkface.append(rows)
        if args.sheet is not None and len(sheet_rows) < args.sheet_photos:
            sheet_rows.append(np.concatenate(
                [side_view(faces[setting], model.triangles, points)
                 for setting in SHEET_SETTINGS], axis=1))
    if sheet_rows:
        write_image(args.sheet, np.concatenate(sheet_rows, axis=0))
    result = {"command": COMMAND, "jaw_weights": list(JAW_WEIGHTS), "settings": list(SETTINGS),
              "300w": {"photos": len(w300), "reference": "human 2D fit, snapped",
                       "medians": medians(w300)},
              "utkface": {"photos": len(utkface), "reference": "teacher x, y 2D fit, snapped",
                          "medians": medians(utkface)}}
    write_result("teacher_jaw_fit", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
