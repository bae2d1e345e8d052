"""The detector protocol and the checks and helpers every backend shares.

A detector is any object with ``detect(image) -> list[Detection]`` where ``image`` is a
(H, W, 3) ``uint8`` RGB array (a grayscale photo must be converted to three equal channels
first). Boxes are ``xyxy`` float pixels in that image, with integer coordinates at pixel
centres; the list is sorted by descending score; no face is ``[]``, never an error. Scores are
comparable only within one detector. Detectors never modify the image they are given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from facerecon.errors import InvalidInputError
from facerecon.types import Detection


@runtime_checkable
class FaceDetector(Protocol):
    """Anything that finds faces in an RGB image."""

    name: str

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Return the faces in ``image`` ((H, W, 3) uint8 RGB), best score first; [] if none."""
        ...


def validate_image(image: object) -> np.ndarray:
    """Check that ``image`` is a non-empty (H, W, 3) uint8 array and return it unchanged.

    Raises:
        InvalidInputError: for anything else (wrong type, dtype, rank, channel count, size 0).
    """
    if not isinstance(image, np.ndarray):
        raise InvalidInputError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InvalidInputError(f"image must be uint8, got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidInputError(
            f"image must be (H, W, 3) RGB, got shape {image.shape}; convert grayscale or RGBA "
            "to RGB first"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise InvalidInputError(f"image is empty, shape {image.shape}")
    return image


def validate_upsample(upsample: int) -> int:
    """Return ``upsample`` (number of 2x enlargements before detecting) as a checked int."""
    if isinstance(upsample, bool) or not isinstance(upsample, int | np.integer):
        raise InvalidInputError(f"upsample must be an int, got {upsample!r}")
    if not 0 <= upsample <= 3:
        raise InvalidInputError(f"upsample must be in 0..3, got {upsample}")
    return int(upsample)


def as_number(value: object, name: str) -> float:
    """Return the finite real ``value`` as a float, else raise InvalidInputError."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidInputError(f"{name} must be a number, got {value!r}")
    if not np.isfinite(value):
        raise InvalidInputError(f"{name} must be finite, got {value}")
    return float(value)


def validate_min_size(min_size: float) -> float:
    """Return ``min_size`` (smallest accepted box side, pixels of the input image) as a float."""
    min_size = as_number(min_size, "min_size")
    if min_size < 0:
        raise InvalidInputError(f"min_size must be >= 0, got {min_size}")
    return min_size


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> new (H, W) uint8 luma (ITU-R BT.601, as OpenCV computes it)."""
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def finalize(
    boxes: np.ndarray,
    scores: np.ndarray,
    min_size: float,
    keypoints: Sequence[np.ndarray | None] | None = None,
) -> list[Detection]:
    """Build Detections from (N, 4) xyxy boxes and (N,) scores, dropping small boxes.

    A box is kept when both of its sides are >= ``min_size``. The result is sorted by
    descending score (stable, so equal scores keep the backend's order).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(boxes) != len(scores):
        raise InvalidInputError(f"{len(boxes)} boxes but {len(scores)} scores")
    order = np.argsort(-scores, kind="stable")
    detections = []
    for index in order:
        x1, y1, x2, y2 = boxes[index]
        if x2 - x1 < max(min_size, 1e-6) or y2 - y1 < max(min_size, 1e-6):
            continue
        points = None if keypoints is None else keypoints[index]
        detections.append(Detection(box=boxes[index], score=scores[index], keypoints=points))
    return detections


def box_iou(box, boxes) -> np.ndarray:
    """Intersection over union of one ``xyxy`` box with each of (N, 4) ``xyxy`` boxes.

    Areas are continuous (x2 - x1) * (y2 - y1). Returns (N,) float64 in [0, 1].

    >>> box_iou([0, 0, 2, 2], [[1, 0, 3, 2], [5, 5, 6, 6]]).tolist()
    [0.3333333333333333, 0.0]
    """
    box = np.asarray(box, dtype=np.float64)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    width = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = width * height
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area + areas - inter)
