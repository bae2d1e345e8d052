"""Does refine mode's lean first pass cost accuracy? Paired per-image comparison of refine mode
with the lean first pass (the library's, :meth:`facerecon.api.FaceReconstructor.refiner_crops`)
against the full first pass it replaced (session 15), on AFLW2000-3D, 300-W held-out and,
with ``--ict``, the dense synthetic faces (the protocols of ``paired_weights.py``).

The full first pass is re-implemented here as it ran until then: the first network's map
smoothed with that network's ``surface_sigma``, decoded densely, and the roll taken from the
pose fit of all dense vertices; the lean one reads 68 landmarks from the raw map and takes
the roll from those 68 points. Both sides use the same networks (the shipped first network
and refiner unless ``--weights`` / ``--refine`` say otherwise) and smooth the refiner's maps
with its ``surface_sigma``. "old" is the full first pass, "new" the lean one. Since
session 17 the library's lean pass also frames the refiner's crop from the canonical
landmarks fitted to those 68 (:func:`facerecon.api.fitted_crop`, with run v39 as the
shipped refiner), so a run today compares that change too; ``lean_first_pass.json`` was
made in session 16, before it.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/lean_first_pass.py \
        --shared ../shared/data --ict ../shared/data/ict-facekit/FaceXModel

Writes benchmarks/results/lean_first_pass.json (``--name``) and prints the same JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from common import write_result
from paired_weights import aflw_errors, paired, paired_dense, w300_errors

from facerecon.api import SHIPPED_REFINER, FaceReconstructor
from facerecon.crop import crop_from_landmarks
from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.evaluate.w300 import load_300w_split
from facerecon.face import Face
from facerecon.morphable.ict import load_ict

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/lean_first_pass.py "
           "--shared ../shared/data --ict ../shared/data/ict-facekit/FaceXModel")


class FullFirstPass(FaceReconstructor):
    """Refine mode with session 15's first pass: smoothed map, dense decode, dense pose."""

    def refiner_crops(self, image, crops):
        posmaps = self._predict(self.predictor, image, crops, self.predictor.surface_sigma)
        faces = [Face(np.zeros(4, np.float32), 1.0, crop, posmap, self.topology, image)
                 for crop, posmap in zip(crops, posmaps, strict=True)]
        return [crop_from_landmarks(face.landmarks, self.refiner.input_size, roll=face.pose.roll)
                for face in faces]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="the shared/data folder")
    parser.add_argument("--ict", type=Path, default=None,
                        help="ICT-FaceKit FaceXModel folder: adds the dense benchmark")
    parser.add_argument("--weights", type=Path, default=None,
                        help="first network .safetensors (default: the shipped weights)")
    parser.add_argument("--refine", type=Path, default=None, metavar="FILE",
                        help="refiner .safetensors (default: the shipped refiner)")
    parser.add_argument("--name", default="lean_first_pass",
                        help="result file name under benchmarks/results (no .json)")
    args = parser.parse_args()
    options = {"detector": None,
               "weights": None if args.weights is None else str(args.weights),
               "refiner": SHIPPED_REFINER if args.refine is None else str(args.refine)}
    full, lean = FullFirstPass(**options), FaceReconstructor(**options)
    aflw = Aflw2000Dataset(args.shared / "aflw2000-3d")
    w300 = load_300w_split(args.shared / "300w", "val")
    result = {
        "command": COMMAND, "arguments": sys.argv[1:],
        "settings": lean.settings,
        "aflw2000": paired(aflw_errors(full, aflw), aflw_errors(lean, aflw)),
        "300w_val": paired(w300_errors(full, w300), w300_errors(lean, w300)),
    }
    if args.ict is not None:
        result.update(paired_dense(full, lean, load_ict(args.ict)))
    write_result(args.name, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
