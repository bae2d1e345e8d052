"""Which landmarks to fit for 300-W: the human 2D annotation or the 3DDFA_V2 teacher's 3D points?

On every 24th 300-W photo (helen-train + afw), fits ICT (default IctFitter) once to the human
68 points (2D, jaw as silhouette) and once to the teacher's 3D points (ROI: the ``landmarks``
rule around the human landmark box), and scores each fitted face's 68 landmarks (x, y)
against the human points: mean point error / sqrt(w*h) of the human landmark box. Also
the teacher's own points and the human fits' ``residual_nme``.

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/data_label_choice.py --shared ../shared/data

Writes benchmarks/results/data_label_choice.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import write_result

from facerecon.data.pts import read_pts
from facerecon.data.teacher import Teacher, landmark_box, roi_from_box
from facerecon.imageio import read_image
from facerecon.morphable.fit import IctFitter
from facerecon.morphable.ict import load_ict

COMMAND = ("PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/data_label_choice.py "
           "--shared ../shared/data")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="shared/data folder")
    parser.add_argument("--step", type=int, default=24)
    args = parser.parse_args()
    model = load_ict(args.shared / "ict-facekit" / "FaceXModel")
    fitter = IctFitter(model)
    teacher = Teacher.from_folder(args.shared / "teacher-3ddfa")
    files = sorted((args.shared / "300w").glob("*/*.jpg"))[:: args.step]
    human_fit, teacher_fit, teacher_raw, residual = [], [], [], []
    for path in files:
        image = read_image(path)
        human = read_pts(path.with_suffix(".pts"))
        box = landmark_box(human)
        norm = float(np.sqrt(np.prod(box[2:] - box[:2])))
        taught = teacher.predict(image, roi_from_box(box, "landmarks"))
        fit_2d, fit_3d = fitter.fit(human), fitter.fit(taught)

        def nme(points, human=human, norm=norm):
            return float(np.linalg.norm(points[:, :2] - human, axis=1).mean() / norm)

        human_fit.append(nme(fit_2d.landmarks))
        teacher_fit.append(nme(fit_3d.landmarks))
        teacher_raw.append(nme(taught))
        residual.append(fit_2d.residual_nme)
    result = {
        "command": COMMAND, "photos": len(files),
        "nme_vs_human_of_human2d_fit": float(np.mean(human_fit)),
        "nme_vs_human_of_teacher3d_fit": float(np.mean(teacher_fit)),
        "nme_vs_human_of_teacher_points": float(np.mean(teacher_raw)),
        "human2d_fit_residual_nme_median": float(np.median(residual)),
        "note": "NME = mean 68-point 2D error / sqrt(w*h) of the human landmark box; means",
    }
    write_result("data_label_choice", result, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
