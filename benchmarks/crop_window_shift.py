"""Does the flat forehead come from the crop window? Move every crop recipe up and look.

The shipped network flattens the top of the forehead onto the crop's upper edge
(docs/training.md, ``target_clipping.py``). Here every entry of
:data:`facerecon.crop.BOX_CROP_PARAMS` is moved up by ``d`` pixels of the 128 crop (the
face sits ``d`` pixels lower in it; within the training translation of +-12.8 px) and the
shipped pipeline is scored for each ``d``: dense 3D error and normals on the 100 held-out
synthetic ICT faces, 300-W held-out inter-ocular NME, AFLW2000-3D plain mean NME, and the
top of the reconstructed forehead on scikit-image's astronaut photo in crop pixels (0 = the
crop's upper edge). A diagnosis only: the recipes stay fitted on 300-W, never on these
results (AFLW2000-3D is a test set).

    PYTHONPATH=src OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python benchmarks/crop_window_shift.py \
        --shared ../shared/data --ict ../shared/data/ict-facekit/FaceXModel [--shifts 0,3,6]

Writes benchmarks/results/crop_window_shift.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import write_result
from paired_weights import held_out_means, load_held_out

import facerecon.crop as crop_module
from facerecon.api import FaceReconstructor
from facerecon.evaluate.predictors import make_reconstructor
from facerecon.models import DEFAULT_MODEL, get_config

COMMAND = ("PYTHONPATH=src OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python "
           "benchmarks/crop_window_shift.py --shared ../shared/data "
           "--ict ../shared/data/ict-facekit/FaceXModel")


def shifted_recipes(base: dict, pixels: float, size: int) -> dict:
    """``base`` with every crop window moved up by ``pixels`` of a ``size`` crop."""
    return {name: crop_module.BoxCropParams(p.scale, p.center_shift - pixels * p.scale / size)
            for name, p in base.items()}


def main() -> int:
    from skimage.data import astronaut

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="the shared/data folder")
    parser.add_argument("--ict", type=Path, required=True, help="ICT-FaceKit FaceXModel folder")
    parser.add_argument("--shifts", default="0,3,6", help="pixels of the crop, comma-separated")
    args = parser.parse_args()
    size = get_config(DEFAULT_MODEL).input_size
    data = load_held_out(args.shared, args.ict)
    photo = astronaut()
    base = dict(crop_module.BOX_CROP_PARAMS)
    rows = []
    try:
        for pixels in [float(value) for value in args.shifts.split(",")]:
            crop_module.BOX_CROP_PARAMS.update(shifted_recipes(base, pixels, size))
            face = FaceReconstructor()(photo)[0]
            top = float(face.crop.to_crop(face.vertices[:, :2])[:, 1].min())
            rows.append({"shift_px": pixels, **held_out_means(make_reconstructor(), data),
                         "astronaut_forehead_top_px": round(top, 2)})
    finally:
        crop_module.BOX_CROP_PARAMS.update(base)
    write_result("crop_window_shift", {"command": COMMAND, "crop_size": size, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
