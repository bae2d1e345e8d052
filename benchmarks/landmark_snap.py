"""How far fitted faces stay from their labels, and what the landmark snap leaves.

Takes the real (unturned) photos of a data build (every ``--shard-step``-th shard, all its
real samples: UTKFace teacher 3D labels and 300-W human 2D labels), fits ICT to each
photo's stored labels (crop pixels; the fit is equivariant to the crop's similarity), and
for each (sigma, ridge) of :class:`facerecon.morphable.snap.LandmarkSnap` reports, per label
source: the mean 2D landmark error / sqrt(w*h) of the label box before and after the snap,
its mean signed offset per feature (the systematic part: ICT's landmark vertices are not
the iBUG convention), the inner-lip error (points 60-67) and the inner-mouth opening of the
result against the labels' (common.mouth_opening), the largest vertex displacement divided
by the largest landmark residual (overshoot), and the share of triangle area whose 2D
winding flips. Settings vary sigma, ridge and the kernel geometry's mouth opening
(``LandmarkSnap.for_model(model, mouth_open, ...)``).

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/landmark_snap.py \
        --shared ../shared/data --build /path/to/build

Writes benchmarks/results/landmark_snap.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import mouth_opening, write_result

from facerecon.data.shards import list_shards, read_shard
from facerecon.morphable.fit import IctFitter
from facerecon.morphable.ict import load_ict
from facerecon.morphable.snap import (
    DEFAULT_MOUTH_OPEN,
    DEFAULT_RIDGE,
    DEFAULT_SIGMA_CM,
    LandmarkSnap,
)

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/landmark_snap.py "
           "--shared ../shared/data --build BUILD")
# (sigma cm, ridge, mouth_open)
SETTINGS = [(2.0, 0.02, 0.0), (2.0, 0.1, 0.0), (1.5, 0.1, 0.0), (1.5, 0.3, 0.0), (1.0, 0.1, 0.0),
            (1.5, 0.1, 0.25), (1.5, 0.1, 0.5), (1.5, 0.1, 0.75), (1.5, 0.1, 1.0)]
INNER_LIPS = slice(60, 68)
FEATURES = {"jaw": range(0, 17), "brows": range(17, 27), "nose": range(27, 36),
            "eyes": range(36, 48), "mouth": range(48, 68)}


def setting_name(sigma: float, ridge: float, mouth_open: float) -> str:
    return f"sigma {sigma} ridge {ridge} mouth_open {mouth_open}"


def signed_areas(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = (vertices[triangles[:, k], :2] for k in range(3))
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def real_samples(build: Path, shard_step: int) -> list[dict]:
    samples = []
    for shard in list_shards(build, "train")[::shard_step]:
        samples += [s for s in read_shard(shard) if not s["meta"]["synthetic"]]
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="shared/data folder")
    parser.add_argument("--build", type=Path, required=True, help="a `facerecon data build` folder")
    parser.add_argument("--shard-step", type=int, default=12)
    args = parser.parse_args()
    model = load_ict(args.shared / "ict-facekit" / "FaceXModel")
    fitter = IctFitter(model)
    snaps = {setting_name(*setting): LandmarkSnap.for_model(model, setting[2], *setting[:2])
             for setting in SETTINGS}
    rows: dict[str, dict[str, list]] = {}
    label_openings: dict[str, list] = {}
    for sample in real_samples(args.build, args.shard_step):
        labels = sample["annotation"]
        target = labels if np.isfinite(labels[:, 2]).all() else labels[:, :2]
        fit = fitter.fit(target)
        vertices = fit.vertices(model)
        box = np.sqrt(np.prod(labels[:, :2].max(0) - labels[:, :2].min(0)))
        chosen = fit.landmark_vertices
        gap = vertices[chosen, :2] - labels[:, :2]
        largest = np.linalg.norm(gap, axis=1).max()
        areas = signed_areas(vertices, model.triangles)
        label_opening = mouth_opening(labels[None], box)[0]
        label_openings.setdefault(sample["meta"]["labels"], []).append(label_opening)
        for name, snap in [("fit only", None), *snaps.items()]:
            moved = vertices if snap is None else snap.snap(vertices, chosen, target)
            offset = (moved[chosen, :2] - labels[:, :2]) / box
            flipped = np.sign(signed_areas(moved, model.triangles)) != np.sign(areas)
            row = rows.setdefault(sample["meta"]["labels"], {}).setdefault(name, {
                "error": [], "inner_lips": [], "opening": [], "offset": [], "overshoot": [],
                "flipped_area": []})
            distance = np.linalg.norm(offset, axis=1)
            row["error"].append(distance.mean())
            row["inner_lips"].append(distance[INNER_LIPS].mean())
            row["opening"].append(mouth_opening(moved[chosen][None], box)[0] - label_opening)
            row["offset"].append(offset)
            row["overshoot"].append(np.linalg.norm(moved - vertices, axis=1).max() / largest)
            row["flipped_area"].append(np.abs(areas[flipped]).sum() / np.abs(areas).sum())
    result = {"command": COMMAND, "build": str(args.build), "shard_step": args.shard_step,
              "default": setting_name(DEFAULT_SIGMA_CM, DEFAULT_RIDGE, DEFAULT_MOUTH_OPEN),
              "sources": {}}
    for labels, settings in rows.items():
        table = {}
        for name, row in settings.items():
            mean_offset = np.mean(row["offset"], axis=0, dtype=np.float64) * 100
            table[name] = {
                "photos": len(row["error"]),
                "landmark_error_pct": round(float(np.mean(row["error"]) * 100), 3),
                "inner_lip_error_pct": round(float(np.mean(row["inner_lips"]) * 100), 3),
                "mouth_opening_minus_labels_pct": round(float(np.mean(row["opening"])), 3),
                "mean_signed_offset_pct": {feature: np.round(mean_offset[list(idx)].mean(0),
                                                             2).tolist()
                                           for feature, idx in FEATURES.items()},
                "max_displacement_over_max_residual": round(float(np.max(row["overshoot"])), 3),
                "flipped_area_pct_mean": round(float(np.mean(row["flipped_area"]) * 100), 4)}
        result["sources"][labels] = {
            "mouth_opening_labels_pct": round(float(np.mean(label_openings[labels])), 3),
            "settings": table}
    write_result("landmark_snap", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
