"""FaceReconstructor: image -> list[Face], the one call most users need.

Example (needs trained weights, so it is not run as a doctest)::

    rec = FaceReconstructor(model="mobile_posmap128", weights="model.safetensors")
    faces = rec("photo.jpg")
    faces[0].landmarks   # (68, 3) image pixels
    faces[0].pose.yaw    # degrees

Steps per image: read and validate the image, detect faces (or take the given boxes), crop
each face with the one crop recipe (:mod:`facerecon.crop`; sampled as the predictor's
training crops were, ``crop_supersample``), run all crops through the
position-map predictor in batches, smooth each map over the face (``surface_sigma``,
:func:`facerecon.posmap.smooth`), map it back to image pixels, and wrap it in a
:class:`~facerecon.face.Face`. An optional second pass re-crops every face from its
first-pass landmarks, which makes the result insensitive to how loosely the detector framed
the face.
"""

from __future__ import annotations

import numpy as np

from facerecon.crop import CropTransform, box_crop_params, crop_from_box, crop_from_landmarks
from facerecon.detection import DEFAULT_DETECTOR, FaceDetector, create_detector
from facerecon.errors import InvalidInputError
from facerecon.face import Face
from facerecon.imageio import load_image
from facerecon.posmap import decode, smooth
from facerecon.predictor import FlipAveragedPredictor, NetworkPredictor, PosmapPredictor
from facerecon.topology import load_topology
from facerecon.types import Detection


class FaceReconstructor:
    """Detect every face in an image and reconstruct each one in 3D.

    Args:
        model: a registered model name (``facerecon.models.list_models()``) or any
            :class:`~facerecon.predictor.PosmapPredictor`.
        weights: ``.safetensors`` file for a named model; ``None`` uses the weights shipped
            with the package and raises :class:`~facerecon.errors.WeightsError` if there are
            none.
        detector: a registered detector name, a :class:`FaceDetector`, or ``None`` when every
            call passes ``boxes``.
        device: torch device for a named model ("cpu", "cuda", ...).
        second_pass: re-crop each face from its first-pass landmarks and predict again.
        flip_average: also predict each crop mirrored and average the two maps
            (:class:`~facerecon.predictor.FlipAveragedPredictor`; a named model only).
        surface_sigma: smoothing of the predicted maps over the face in UV pixels
            (:func:`facerecon.posmap.smooth`, after the predictor, so once per face also
            with ``flip_average``); ``None``: the predictor's own ``surface_sigma`` attribute
            (a network: its model config's; 0 for a predictor without one); 0: raw maps.
        batch_size: crops per network call.
    """

    def __init__(
        self,
        model: str | PosmapPredictor = "mobile_posmap128",
        weights: str | None = None,
        detector: str | FaceDetector | None = DEFAULT_DETECTOR,
        device: str = "cpu",
        second_pass: bool = False,
        flip_average: bool = False,
        batch_size: int = 16,
        surface_sigma: float | None = None,
    ):
        if isinstance(model, str):
            model = NetworkPredictor(model, weights=weights, device=device)
            if flip_average:
                model = FlipAveragedPredictor(model)
        elif weights is not None or flip_average:
            raise InvalidInputError(
                "weights= and flip_average= only apply to a model given by name")
        if surface_sigma is None:
            surface_sigma = getattr(model, "surface_sigma", 0.0)
        if not (np.isfinite(surface_sigma) and surface_sigma >= 0):
            raise InvalidInputError(
                f"surface_sigma must be a finite number >= 0, got {surface_sigma}")
        if isinstance(detector, str):
            self.detector_name = detector
            detector = create_detector(detector)
        else:
            self.detector_name = getattr(detector, "name", "given")
        if batch_size < 1:
            raise InvalidInputError(f"batch_size must be >= 1, got {batch_size}")
        self.predictor = model
        self.detector = detector
        self.second_pass = bool(second_pass)
        self.surface_sigma = float(surface_sigma)
        self.batch_size = int(batch_size)
        self.topology = load_topology(model.resolution)

    @property
    def settings(self) -> dict:
        """How this reconstructor makes its faces, for reports: predictor name, crop
        supersampling, surface smoothing sigma, second pass; for a network head also the
        weights' file name and sha256 (``weights_file``, ``weights_sha256``)."""
        result = {"predictor": getattr(self.predictor, "name", type(self.predictor).__name__),
                  "crop_supersample": self.predictor.crop_supersample,
                  "surface_sigma": self.surface_sigma, "second_pass": self.second_pass}
        for report in ("weights_file", "weights_sha256"):
            if hasattr(self.predictor, report):
                result[report] = getattr(self.predictor, report)
        return result

    def detect(self, image, boxes=None) -> list[Detection]:
        """Faces to reconstruct: ``boxes`` ((K, 4) xyxy) if given, else the detector's."""
        if boxes is not None:
            boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
            return [Detection(box=box) for box in boxes]
        if self.detector is None:
            raise InvalidInputError("this reconstructor has no detector; pass boxes=")
        return self.detector.detect(image)

    def __call__(self, image, boxes=None, box_source: str = "given") -> list[Face]:
        """Reconstruct every face.

        Args:
            image: a path, or an RGB uint8 (H, W, 3) array (grey and RGBA arrays are
                converted; nothing is modified).
            boxes: optional (K, 4) ``xyxy`` boxes that replace detection.
            box_source: how ``boxes`` frame the faces, a key of
                :data:`facerecon.crop.BOX_CROP_PARAMS`: ``"given"`` (tight face boxes),
                ``"landmarks"`` (68-point extents), ``"aflw_roi"`` (AFLW2000-3D ROI boxes).

        Returns:
            One :class:`Face` per detection, in detection order; ``[]`` when there is none.
        """
        image = load_image(image)
        image.setflags(write=False)
        detections = self.detect(image, boxes)
        if not detections:
            return []
        params = box_crop_params(box_source if boxes is not None else self.detector_name)
        crops = [
            crop_from_box(d.box, self.predictor.input_size, params.scale, params.center_shift)
            for d in detections
        ]
        posmaps = self._predict(image, crops)
        if self.second_pass:
            crops = [
                crop_from_landmarks(decode(posmap, self.topology).landmarks, crop.size)
                for crop, posmap in zip(crops, posmaps, strict=True)
            ]
            posmaps = self._predict(image, crops)
        return [
            Face(d.box, d.score, crop, posmap, self.topology, image)
            for d, crop, posmap in zip(detections, crops, posmaps, strict=True)
        ]

    def _predict(self, image: np.ndarray, crops: list[CropTransform]) -> list[np.ndarray]:
        """Image-space (R, R, 3) position maps for each crop, batched through the predictor
        and smoothed with ``surface_sigma``."""
        posmaps = []
        supersample = self.predictor.crop_supersample
        for start in range(0, len(crops), self.batch_size):
            batch = crops[start : start + self.batch_size]
            patches = np.stack([crop.warp(image, supersample) for crop in batch])
            predicted = self.predictor(patches, batch)
            if self.surface_sigma:
                predicted = smooth(predicted, self.topology, self.surface_sigma)
            for crop, posmap in zip(batch, predicted, strict=True):
                posmaps.append(posmap_to_image(posmap, crop, self.topology.uv_mask))
        return posmaps


def posmap_to_image(posmap: np.ndarray, crop: CropTransform, uv_mask: np.ndarray) -> np.ndarray:
    """Map a crop-space (R, R, 3) position map to image pixels (x, y and z scaled alike by
    the crop's inverse; z is not shifted); pixels off ``uv_mask`` are set to 0."""
    points = crop.to_image(posmap.reshape(-1, 3)).reshape(posmap.shape).astype(np.float32)
    points[~uv_mask] = 0.0
    return points
