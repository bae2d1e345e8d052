"""Which change to the AFLW2000-3D photos moves the model's lower-face bias?

The shipped model draws the mouth of these photos ~4 % of the face box too low (teacher
0.6 %; ``benchmarks/aflw2000_diagnosis.py``). This runs the benchmark's protocol (ROI-box
crops, 2D NME / sqrt(w*h) of the ground-truth box, original annotation) on each photo as it
is and changed in one way, and reports the mean NME and the mean signed vertical offset of
the mouth and chin points (% of sqrt(w*h), y down):

- ``grey``: luma copied to the three channels;
- ``sharpen``: unsharp mask, ``1.8 image - 0.8 blur(sigma 2 px)``;
- ``blur``: Gaussian blur, sigma 1.5 px;
- ``jpeg30``: re-encoded as JPEG at quality 30;
- ``equalised``: luma histogram equalised;
- ``mirrored``: the photo and its ROI mirrored left-right, the landmarks mapped back
  (x -> W - 1 - x, iBUG points swapped left for right).

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/aflw2000_perturbations.py \
        --data ../shared/data/aflw2000-3d --weights NAME=FILE [NAME=FILE ...]

Writes benchmarks/results/aflw2000_perturbations.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from common import LANDMARK_PARTS, add_named_weights, named_weights, write_result

from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.evaluate.metrics import bbox_normalizer
from facerecon.evaluate.predictors import make_reconstructor, pipeline_predictor
from facerecon.imageio import read_image

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/aflw2000_perturbations.py "
           "--data ../shared/data/aflw2000-3d --weights NAME=FILE [NAME=FILE ...]")

#: iBUG 68-point index of each point's mirror image (left and right swapped).
MIRROR_68 = np.array(
    list(range(16, -1, -1))  # jaw
    + list(range(26, 16, -1))  # brows
    + [27, 28, 29, 30, 35, 34, 33, 32, 31]  # nose bridge, nostrils
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]  # eyes
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lips
    + [64, 63, 62, 61, 60, 67, 66, 65])  # inner lips


def _ycrcb(image: np.ndarray) -> np.ndarray:
    """RGB uint8 -> YCrCb uint8 (channel 0 is the luma)."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)


def perturbations(image: np.ndarray) -> dict[str, np.ndarray]:
    """RGB uint8 image -> name -> changed RGB uint8 image (``mirrored`` is handled apart)."""
    blurred = cv2.GaussianBlur(image, (0, 0), 2.0).astype(np.float64)
    ycrcb = _ycrcb(image)
    ycrcb[..., 0] = cv2.equalizeHist(ycrcb[..., 0])
    encoded = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 30])[1]
    return {
        "as_is": image,
        "grey": np.repeat(_ycrcb(image)[..., :1], 3, axis=2),
        "sharpen": np.clip(1.8 * image - 0.8 * blurred, 0, 255).round().astype(np.uint8),
        "blur": cv2.GaussianBlur(image, (0, 0), 1.5),
        "jpeg30": cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1].copy(),
        "equalised": cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB),
    }


def mirrored_prediction(predict, image: np.ndarray, roi: np.ndarray) -> np.ndarray:
    """(68, 2) landmarks of ``image`` predicted on its mirror image and mapped back."""
    width = image.shape[1]
    box = np.array([width - 1 - roi[2], roi[1], width - 1 - roi[0], roi[3]])
    points = predict([np.ascontiguousarray(image[:, ::-1])], box[None])[0][MIRROR_68, :2]
    points[:, 0] = width - 1 - points[:, 0]
    return points


def score(predict, dataset: Aflw2000Dataset) -> dict:
    """Perturbation -> mean NME, mouth and chin dy (%) of ``predict`` on ``dataset``."""
    errors: dict[str, list] = {}
    for sample in dataset:
        image = read_image(sample.image_path)
        truth = sample.pts68[:, :2].astype(np.float64)
        normaliser = float(bbox_normalizer(truth))
        found = {name: predict([changed], sample.roi_box[None])[0][:, :2]
                 for name, changed in perturbations(image).items()}
        found["mirrored"] = mirrored_prediction(predict, image, sample.roi_box)
        for name, points in found.items():
            offset = (points - truth) / normaliser * 100
            errors.setdefault(name, []).append(
                (np.linalg.norm(offset, axis=1).mean(), offset[LANDMARK_PARTS["mouth"], 1].mean(),
                 offset[LANDMARK_PARTS["chin"], 1].mean()))
    return {name: dict(zip(("nme", "mouth_dy", "chin_dy"),
                           np.round(np.mean(values, axis=0), 2).tolist(), strict=True))
            for name, values in errors.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="an aflw2000-3d folder")
    add_named_weights(parser, "named .safetensors of the default model")
    args = parser.parse_args()
    weights = named_weights(parser, args.weights)
    dataset = Aflw2000Dataset(args.data)
    reconstructors = {name: make_reconstructor(weights=path) for name, path in weights.items()}
    rows = {name: score(pipeline_predictor(rec, "aflw_roi"), dataset)
            for name, rec in reconstructors.items()}
    write_result("aflw2000_perturbations", {
        "command": COMMAND, "weights": {name: str(path) for name, path in weights.items()},
        "pipelines": {name: rec.settings for name, rec in reconstructors.items()},
        "images": len(dataset), "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
