"""Does the face a model draws move when the photo is blurred or low-resolution?

Every image of the 300-W held-out split is degraded, then reconstructed from its
ground-truth box as in ``facerecon evaluate 300w`` (the ``landmarks`` crop rule, the model's
own crop sampling). Per condition and ``--weights`` file it reports the inter-ocular NME
(%) and the mean signed vertical offset (% of sqrt(w*h) of the ground-truth box; y down, so
> 0 is too low) of the chin (point 8), the lower lip (57) and the eyes (36-47). Conditions:
the photo as it is, Gaussian blur of sigma 1.5 and 3 photo pixels, and the photo shrunk
to a quarter (area) and enlarged back (bilinear). A network that reads geometry off image
sharpness draws the lower face lower on blurred photos. It also reports how sharp the
benchmarks' photos are where the network sees them: the mean absolute Laplacian of the grey
central half of each 128 crop as the pipeline samples it (300-W: ``landmarks`` crops of the
ground-truth boxes; AFLW2000-3D: ``aflw_roi`` crops of its ROI boxes), quartiles per set.

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

from facerecon.crop import box_crop_params, crop_from_box
from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.evaluate.metrics import bbox_normalizer, nme_interocular
from facerecon.evaluate.predictors import make_reconstructor
from facerecon.evaluate.w300 import load_300w_split
from facerecon.imageio import read_image
from facerecon.models import DEFAULT_MODEL, get_config

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


def input_sharpness(images: list[np.ndarray], boxes: np.ndarray, source: str, size: int,
                    supersample: int) -> dict:
    """Quartiles of the mean |Laplacian| of the grey central half of each network crop."""
    params = box_crop_params(source)
    values = []
    for image, box in zip(images, boxes, strict=True):
        crop = crop_from_box(box, size, params.scale, params.center_shift).warp(image, supersample)
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
        centre = grey[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4]
        values.append(float(np.abs(cv2.Laplacian(centre, cv2.CV_32F)).mean()))
    quartiles = np.percentile(values, [25, 50, 75])
    return {"images": len(values), **{key: round(float(value), 2) for key, value in
                                      zip(("p25", "median", "p75"), quartiles, strict=True)}}


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
    aflw = Aflw2000Dataset(args.shared / "aflw2000-3d")
    config = get_config(DEFAULT_MODEL)  # crop size and sampling, without loading a network
    size, supersample = config.input_size, config.crop_supersample
    sharpness = {
        "300w_val": input_sharpness(images, np.stack([sample.box for sample in samples]),
                                    "landmarks", size, supersample),
        "aflw2000": input_sharpness([read_image(sample.image_path) for sample in aflw],
                                    np.stack([sample.roi_box for sample in aflw]), "aflw_roi",
                                    size, supersample)}
    write_result("blur_sensitivity", {
        "command": COMMAND, "images": len(samples), "input_sharpness": sharpness,
        "weights": {name: str(path) for name, path in named.items()},
        "results": {name: measure(path, samples, images) for name, path in named.items()}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
