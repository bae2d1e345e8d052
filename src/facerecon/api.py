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
the face. An optional refiner does the same with a second network, on a crop turned upright
by the first pass's roll: a network trained on the build's framing alone is precise but
needs that framing, and the first network (trained with PRN's augmentation) supplies it.
The first pass then keeps only what that crop needs (68 landmarks read from the map and
their similarity fit to the canonical face: no smoothing, dense decode or dense pose;
docs/training.md, "The lean first pass"), and the crop is framed from the canonical face's
landmarks placed by that fit (docs/training.md, "Run v39's refiner and the fitted framing").
"""

from __future__ import annotations

import numpy as np

from facerecon.apps.pose import euler_from_rotation
from facerecon.crop import CropTransform, box_crop_params, crop_from_box, crop_from_landmarks
from facerecon.detection import DEFAULT_DETECTOR, FaceDetector, create_detector
from facerecon.errors import InvalidInputError, WeightsError
from facerecon.face import Face, canonical_landmarks, landmark_pose_fitter
from facerecon.imageio import load_image
from facerecon.posmap import decode, decode_landmarks, smooth
from facerecon.predictor import FlipAveragedPredictor, NetworkPredictor, PosmapPredictor
from facerecon.topology import UVTopology, load_topology
from facerecon.types import Detection

#: ``FaceReconstructor(refiner=SHIPPED_REFINER)``: the refiner packaged with the named model.
SHIPPED_REFINER = "shipped"


class FaceReconstructor:
    """Detect every face in an image and reconstruct each one in 3D.

    Args:
        model: a registered model name (``facerecon.models.list_models()``) or any
            :class:`~facerecon.predictor.PosmapPredictor`; ``None`` (the default): the model
            ``weights`` says it was trained as (:func:`facerecon.models.weights_model`), else
            :data:`facerecon.models.DEFAULT_MODEL`.
        weights: ``.safetensors`` file for a named model (refused when the file says it was
            trained as another); ``None`` uses the weights shipped with the package and
            raises :class:`~facerecon.errors.WeightsError` if there are none.
        detector: a registered detector name, a :class:`FaceDetector`, or ``None`` when every
            call passes ``boxes``.
        device: torch device for a named model ("cpu", "cuda", ...).
        second_pass: re-crop each face from its first-pass landmarks and predict again.
        refiner: predict every face again with this second predictor (or these
            ``.safetensors`` weights, run as the model the file says it was trained as, else
            as ``model``), from
            :func:`~facerecon.crop.crop_from_landmarks` of the first pass's landmarks (as
            fitted by the canonical face), turned upright by their roll
            (:meth:`refiner_crops`); the faces are the refiner's, and
            ``surface_sigma`` applies to the refiner's maps. ``"shipped"``
            (:data:`SHIPPED_REFINER`): the refiner packaged
            with a named model (:func:`facerecon.models.shipped_refiner`). ``None`` (the
            default): no refiner, one network per face. Not with ``second_pass``.
        flip_average: also predict each crop mirrored and average the two maps
            (:class:`~facerecon.predictor.FlipAveragedPredictor`; a named model only; the
            first network's, not a refiner's).
        surface_sigma: smoothing of the predicted maps over the face in UV pixels
            (:func:`facerecon.posmap.smooth`, after the predictor, so once per face also
            with ``flip_average``); ``None``: the own ``surface_sigma`` attribute of the
            predictor that makes the faces (a network: its model config's; 0 for a predictor
            without one); 0: raw maps.
        batch_size: crops per network call.
    """

    def __init__(
        self,
        model: str | PosmapPredictor | None = None,
        weights: str | None = None,
        detector: str | FaceDetector | None = DEFAULT_DETECTOR,
        device: str = "cpu",
        second_pass: bool = False,
        flip_average: bool = False,
        batch_size: int = 16,
        surface_sigma: float | None = None,
        refiner: str | PosmapPredictor | None = None,
    ):
        from facerecon.models import DEFAULT_MODEL, weights_model  # torch: imported on use

        if model is None:
            model = (weights_model(weights) if weights is not None else None) or DEFAULT_MODEL
        if isinstance(refiner, str) and refiner == SHIPPED_REFINER:
            refiner = _shipped_refiner(model)
        if isinstance(refiner, str):
            refiner_model = weights_model(refiner) or model
            if not isinstance(refiner_model, str):
                raise InvalidInputError(
                    f"refiner= {refiner}: the file does not say which model it is, and the "
                    "first model is not given by name")
            refiner = NetworkPredictor(refiner_model, weights=refiner, device=device)
        if isinstance(model, str):
            model = NetworkPredictor(model, weights=weights, device=device)
            if flip_average:
                model = FlipAveragedPredictor(model)
        elif weights is not None or flip_average:
            raise InvalidInputError(
                "weights= and flip_average= only apply to a model given by name")
        if refiner is not None and second_pass:
            raise InvalidInputError("choose second_pass= or refiner=, not both")
        last = model if refiner is None else refiner
        if surface_sigma is None:
            surface_sigma = getattr(last, "surface_sigma", 0.0)
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
        self.refiner = refiner
        self.detector = detector
        self.second_pass = bool(second_pass)
        self.surface_sigma = float(surface_sigma)
        self.batch_size = int(batch_size)
        # the UV layout of the maps that make the faces (the refiner's, when there is one)
        self.topology = load_topology(last.resolution)

    @property
    def settings(self) -> dict:
        """How this reconstructor makes its faces, for reports: predictor name, crop
        supersampling, surface smoothing sigma, second pass; for a network head also the
        weights' file name and sha256 (``weights_file``, ``weights_sha256``); with a refiner
        the same of it under ``refiner`` (None without one)."""
        result = {**_predictor_settings(self.predictor),
                  "surface_sigma": self.surface_sigma, "second_pass": self.second_pass,
                  "refiner": None}
        if self.refiner is not None:
            result["refiner"] = _predictor_settings(self.refiner)
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
        if self.refiner is None:
            posmaps = self._predict(self.predictor, image, crops, self.surface_sigma)
        else:
            crops = self.refiner_crops(image, crops)
            posmaps = self._predict(self.refiner, image, crops, self.surface_sigma)
        if self.second_pass:
            crops = [
                crop_from_landmarks(decode(posmap, self.topology).landmarks, crop.size)
                for crop, posmap in zip(crops, posmaps, strict=True)
            ]
            posmaps = self._predict(self.predictor, image, crops, self.surface_sigma)
        return [
            Face(d.box, d.score, crop, posmap, self.topology, image)
            for d, crop, posmap in zip(detections, crops, posmaps, strict=True)
        ]

    def refiner_crops(self, image: np.ndarray, crops: list[CropTransform]) -> list[CropTransform]:
        """The refiner's crop of each face, from the first network's prediction on ``crops``.

        The lean first pass: the first network's 68 landmarks as read from its raw map
        (:func:`~facerecon.posmap.decode_landmarks`; a network evaluates its map at their
        sample texels alone, ``NetworkPredictor.predict_landmarks``), in image pixels, and
        their similarity fit to the canonical face's 68 landmarks. The crop is
        :func:`~facerecon.crop.crop_from_landmarks` of the canonical landmarks placed by that
        fit (a shape prior: the framing depends on where the face is, not on single
        outlying points), turned upright by the fit's roll, at the refiner's input size.

        Args:
            image: (H, W, 3) uint8 RGB.
            crops: the first pass's crop of each face.

        Raises:
            InvalidInputError: this reconstructor has no refiner.
        """
        if self.refiner is None:
            raise InvalidInputError("refiner_crops needs a reconstructor with a refiner")
        topology = load_topology(self.predictor.resolution)  # the first network's layout
        refined = []
        for batch, predicted in self._network_outputs(
                _landmark_predictor(self.predictor, topology), self.predictor.crop_supersample,
                image, crops):
            refined += [fitted_crop(crop.to_image(landmarks), topology, self.refiner.input_size)
                        for crop, landmarks in zip(batch, predicted, strict=True)]
        return refined

    def _network_outputs(self, predict, supersample: int, image: np.ndarray,
                         crops: list[CropTransform]):
        """Yield ``(crops of a batch, predict(patches, crops of the batch))``, ``batch_size``
        crops per call, each patch sampled with ``supersample``
        (:meth:`~facerecon.crop.CropTransform.warp`)."""
        for start in range(0, len(crops), self.batch_size):
            batch = crops[start : start + self.batch_size]
            patches = np.stack([crop.warp(image, supersample) for crop in batch])
            yield batch, predict(patches, batch)

    def _predict(self, predictor: PosmapPredictor, image: np.ndarray,
                 crops: list[CropTransform], surface_sigma: float) -> list[np.ndarray]:
        """Image-space (R, R, 3) position maps for each crop, batched through ``predictor``
        and smoothed with ``surface_sigma``."""
        posmaps = []
        for batch, predicted in self._network_outputs(
                predictor, predictor.crop_supersample, image, crops):
            if surface_sigma:
                predicted = smooth(predicted, self.topology, surface_sigma)
            for crop, posmap in zip(batch, predicted, strict=True):
                posmaps.append(posmap_to_image(posmap, crop, self.topology.uv_mask))
        return posmaps


def fitted_crop(landmarks: np.ndarray, topology: UVTopology, size: int) -> CropTransform:
    """The refiner's crop of a face from its 68 landmarks (:meth:`FaceReconstructor.refiner_crops`).

    :func:`~facerecon.crop.crop_from_landmarks` of the canonical face's 68 landmarks placed
    by their similarity fit to ``landmarks`` (a shape prior: the framing follows where the
    face is, not single outlying points), turned upright by the fit's roll.

    Args:
        landmarks: (68, 3) image pixels, iBUG order.
        topology: the UV layout whose canonical face the landmarks are fitted to.
        size: the crop's side S.
    """
    similarity = landmark_pose_fitter(topology).similarity(landmarks)
    roll = euler_from_rotation(similarity.rotation)[2]
    placed = similarity.apply(canonical_landmarks(topology))
    return crop_from_landmarks(placed, size, roll=roll)


def _landmark_predictor(predictor: PosmapPredictor, topology):
    """``(patches, crops) -> (B, 68, 3)`` crop-space landmarks: the predictor's own
    ``predict_landmarks`` where it has one, else its whole map read by ``decode_landmarks``."""
    own = getattr(predictor, "predict_landmarks", None)
    if own is not None:
        return own
    return lambda patches, crops: decode_landmarks(predictor(patches, crops), topology)


def _shipped_refiner(model) -> str:
    """The refiner file packaged with the named ``model``, as a path string.

    Raises:
        InvalidInputError: ``model`` is a predictor, not a name.
        WeightsError: no refiner is shipped for it.
    """
    from facerecon.models import shipped_refiner

    if not isinstance(model, str):
        raise InvalidInputError(f"refiner={SHIPPED_REFINER!r} needs a model given by name")
    path = shipped_refiner(model)
    if path is None:
        raise WeightsError(f"no refiner is shipped for model {model!r}; pass a .safetensors "
                           "file as refiner= (--refine-weights)")
    return str(path)


def _predictor_settings(predictor: PosmapPredictor) -> dict:
    """Name, crop supersampling and (a network) weights file and sha256 of ``predictor``."""
    result = {"predictor": getattr(predictor, "name", type(predictor).__name__),
              "crop_supersample": predictor.crop_supersample}
    for report in ("weights_file", "weights_sha256"):
        if hasattr(predictor, report):
            result[report] = getattr(predictor, report)
    return result


def posmap_to_image(posmap: np.ndarray, crop: CropTransform, uv_mask: np.ndarray) -> np.ndarray:
    """Map a crop-space (R, R, 3) position map to image pixels (x, y and z scaled alike by
    the crop's inverse; z is not shifted); pixels off ``uv_mask`` are set to 0."""
    points = crop.to_image(posmap.reshape(-1, 3)).reshape(posmap.shape).astype(np.float32)
    points[~uv_mask] = 0.0
    return points
