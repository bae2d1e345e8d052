"""Does the face a model draws move when the photo is blurred or low-resolution?

Every image of the 300-W held-out split is degraded, then reconstructed from its
ground-truth box as in ``facerecon evaluate 300w`` (the ``landmarks`` crop rule, the model's
own crop sampling). Per condition and ``--weights`` file it reports the inter-ocular NME
(%) and the mean signed vertical offset (% of sqrt(w*h) of the ground-truth box; y down, so
> 0 is too low) of the chin (point 8), the lower lip (57) and the eyes (36-47). Conditions:
the photo as it is, Gaussian blur of sigma 1.5 and 3 photo pixels, and the photo shrunk
to a quarter (area) and enlarged back (bilinear). A network that reads geometry off image
sharpness draws the lower face lower on blurred photos.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/blur_sensitivity.py \
        --shared ../shared/data --weights v5=v5.safetensors v6=v6.safetensors

Writes benchmarks/results/blur_sensitivity.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from common import add_named_weights, named_weights, write_result

from facerecon.evaluate.metrics import bbox_normalizer, nme_interocular
from facerecon.evaluate.predictors import make_reconstructor
from facerecon.evaluate.w300 import load_300w_split
from facerecon.imageio import read_image

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/blur_sensitivity.py "
           "--shared ../shared/data --weights NAME=FILE [NAME=FILE ...]")


def _shrunk(image: np.ndarray, factor: float) -> np.ndarray:
    height, width = image.shape[:2]
    small = cv2.resize(image, (max(1, round(width * factor)), max(1, round(height * factor))),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


CONDITIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "as_is": lambda image: image,
    "blur_1.5": lambda image: cv2.GaussianBlur(image, (0, 0), 1.5),
    "blur_3": lambda image: cv2.GaussianBlur(image, (0, 0), 3.0),
    "quarter_resolution": lambda image: _shrunk(image, 0.25),
}


def measure(weights: Path, samples: list, images: list[np.ndarray]) -> dict:
    """Per condition: NME and vertical offsets of ``weights`` on the degraded images."""
    reconstructor = make_reconstructor(weights=weights)
    truth = np.stack([sample.landmarks for sample in samples]).astype(np.float64)
    box = np.atleast_1d(bbox_normalizer(truth))
    result = {}
    for name, degrade in CONDITIONS.items():
        points = np.stack([
            reconstructor(degrade(image), boxes=sample.box[None], box_source="landmarks")[0]
            .landmarks[:, :2] for sample, image in zip(samples, images, strict=True)])
        offset_y = (points[..., 1] - truth[..., 1]) / box[:, None] * 100
        result[name] = {
            "nme_interocular": round(float(nme_interocular(points, truth).mean() * 100), 2),
            "chin_dy": round(float(offset_y[:, 8].mean()), 2),
            "lower_lip_dy": round(float(offset_y[:, 57].mean()), 2),
            "eyes_dy": round(float(offset_y[:, 36:48].mean()), 2)}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="the shared/data folder")
    add_named_weights(parser, "named .safetensors of the default model")
    args = parser.parse_args()
    named = named_weights(parser, args.weights)
    samples = load_300w_split(args.shared / "300w", "val")
    images = [read_image(sample.image_path) for sample in samples]
    write_result("blur_sensitivity", {
        "command": COMMAND, "images": len(samples),
        "weights": {name: str(path) for name, path in named.items()},
        "results": {name: measure(path, samples, images) for name, path in named.items()}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
