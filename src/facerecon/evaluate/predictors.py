"""Landmark predictors for the evaluators: our pipeline (any position-map model) or the teacher.

Every evaluator scores a ``predict_batch(images, boxes) -> (B, 68, 3)`` callable: RGB uint8
images, one ``xyxy`` box per image, landmarks back in image pixels (x right, y down, z in
the same scale, larger nearer). :func:`pipeline_predictor` makes one from a
:class:`~facerecon.api.FaceReconstructor`, so any registered model or any
:class:`~facerecon.predictor.PosmapPredictor` (e.g. the exact
:class:`~facerecon.data.synthetic.GroundTruthPredictor`) is evaluated through the same crop,
network and decode steps as ``facerecon reconstruct``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from facerecon.errors import InvalidInputError
from facerecon.predictor import PosmapPredictor

PredictBatch = Callable[[list[np.ndarray], np.ndarray], np.ndarray]


def make_reconstructor(
    model: str | PosmapPredictor | None = None,
    weights: str | Path | None = None,
    device: str = "cpu",
    second_pass: bool = False,
    flip_average: bool = False,
    surface_sigma: float | None = None,
    refiner: str | Path | None = None,
):
    """A detector-less :class:`~facerecon.api.FaceReconstructor` for boxes given per image.

    Args:
        model: registered model name, a PosmapPredictor, or None for the pipeline's default
            model. weights: ``.safetensors`` for a named model (None: the shipped weights).
        second_pass, flip_average, surface_sigma: see :class:`~facerecon.api.FaceReconstructor`.
        refiner: ``.safetensors`` of a refiner network (run as the model the file names,
            else as ``model``), or ``"shipped"`` for the packaged one (the reconstructor's
            ``refiner``); None: no refiner.
    """
    from facerecon.api import FaceReconstructor

    options = {"detector": None, "device": device, "second_pass": second_pass,
               "flip_average": flip_average}
    if surface_sigma is not None:
        options["surface_sigma"] = surface_sigma
    if weights is not None:
        options["weights"] = str(weights)
    if model is not None:
        options["model"] = model
    if refiner is not None:
        options["refiner"] = str(refiner)
    return FaceReconstructor(**options)


def pipeline_predictor(reconstructor, box_source: str) -> PredictBatch:
    """``(images, (B, 4) boxes) -> (B, 68, 3) float32`` through ``reconstructor``.

    Args:
        reconstructor: a :class:`~facerecon.api.FaceReconstructor`.
        box_source: the :data:`facerecon.crop.BOX_CROP_PARAMS` entry that frames the boxes
            (``"aflw_roi"`` for AFLW2000-3D ROI boxes, ``"landmarks"`` for 68-point extents).
    """

    def predict_batch(images: list[np.ndarray], boxes: np.ndarray) -> np.ndarray:
        out = []
        for image, box in zip(images, np.asarray(boxes, np.float64), strict=True):
            faces = reconstructor(image, boxes=box[None], box_source=box_source)
            out.append(faces[0].landmarks)
        return np.stack(out).astype(np.float32)

    return predict_batch


def teacher_predictor(teacher, roi_rule: str | None) -> PredictBatch:
    """The 3DDFA_V2 teacher as a ``predict_batch``.

    Args:
        teacher: a :class:`facerecon.data.teacher.Teacher`.
        roi_rule: None when the boxes already are teacher ROIs (AFLW2000-3D ``roi_box``);
            else a :data:`facerecon.data.teacher.ROI_RULES` name turning each box into one.
    """
    from facerecon.data.teacher import roi_from_box

    def predict_batch(images: list[np.ndarray], boxes: np.ndarray) -> np.ndarray:
        boxes = np.asarray(boxes, np.float32)
        rois = boxes if roi_rule is None else np.stack([roi_from_box(b, roi_rule) for b in boxes])
        return np.asarray(teacher.predict_batch(images, rois), np.float32)

    return predict_batch


def predict_images(
    predict_batch: PredictBatch,
    names: Sequence[str],
    image_paths: Sequence[Path],
    boxes: np.ndarray,
    batch_size: int = 16,
) -> dict[str, np.ndarray]:
    """Run ``predict_batch`` over images read from disk, ``batch_size`` at a time.

    Returns:
        name -> (68, 3) float32 landmarks in image pixels, in the order of ``names``.
    """
    from facerecon.imageio import read_image

    boxes = np.asarray(boxes, np.float64)
    if not (len(names) == len(image_paths) == len(boxes)) or boxes.shape[1:] != (4,):
        raise InvalidInputError(
            f"need one (4,) box per image: {len(names)} names, {len(image_paths)} paths, "
            f"boxes {boxes.shape}"
        )
    out: dict[str, np.ndarray] = {}
    for start in range(0, len(names), batch_size):
        stop = start + batch_size
        images = [read_image(path) for path in image_paths[start:stop]]
        points = predict_batch(images, boxes[start:stop])
        out.update(zip(names[start:stop], np.asarray(points, np.float32), strict=True))
    return out
