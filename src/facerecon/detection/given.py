"""The "given" detector: faces the caller already knows, as boxes or landmarks.

Used by ``--box`` and by ``FaceReconstructor(...)(image, boxes=...)``: it skips detection
but goes through the same protocol, so the crop recipe sees one kind of input. Landmarks
((68, 2|3) iBUG order or (5, 2) right eye, left eye, nose, right and left mouth corner, the
subject's sides) give the box of their extent and are kept as the detection's keypoints
(x, y only), so the crop can use them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from facerecon.detection.base import validate_image
from facerecon.errors import InvalidInputError
from facerecon.types import Detection


def _as_float_array(value: object, name: str) -> np.ndarray:
    try:
        return np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{name} must be numbers: {error}") from error


def _as_boxes(boxes: object) -> np.ndarray:
    array = _as_float_array(boxes, "boxes")
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != 4:
        raise InvalidInputError(f"boxes must be (N, 4) xyxy, got shape {array.shape}")
    return array


def _as_landmark_sets(landmarks: object) -> list[np.ndarray]:
    try:
        stacked = np.array(landmarks, dtype=np.float64)
    except ValueError:  # ragged: a sequence of sets of different sizes (68 and 5 points)
        sets = list(landmarks)
    else:
        if stacked.ndim not in (2, 3):
            raise InvalidInputError(
                f"landmarks must be (68|5, 2|3) or (N, 68|5, 2|3), got shape {stacked.shape}"
            )
        sets = [stacked] if stacked.ndim == 2 else list(stacked)
    result = []
    for points in sets:
        array = _as_float_array(points, "landmarks")
        if array.ndim != 2 or array.shape[0] not in (5, 68) or array.shape[1] not in (2, 3):
            raise InvalidInputError(
                f"each landmark set must be (68, 2|3) or (5, 2), got shape {array.shape}"
            )
        if array.shape == (5, 3):
            raise InvalidInputError("5-point landmarks must be (5, 2)")
        result.append(array[:, :2])
    return result


class GivenDetector:
    """Returns the faces it was built with, for every image.

    Args:
        boxes: (4,) or (N, 4) xyxy float pixels, or a sequence of such boxes.
        landmarks: (68, 2|3) or (5, 2) points, or a sequence / (N, 68|5, 2|3) array of them.
        scores: optional (N,) scores (default 1.0 each); the output keeps the given order
            when scores tie.

    Exactly one of ``boxes`` and ``landmarks`` must be given. ``detect`` checks the image and
    that every face overlaps it, and raises InvalidInputError otherwise (a box outside the
    photo is a caller's mistake, not "no face").
    """

    name = "given"

    def __init__(
        self,
        boxes: object | None = None,
        landmarks: object | None = None,
        scores: Sequence[float] | None = None,
    ):
        if (boxes is None) == (landmarks is None):
            raise InvalidInputError("the given detector needs exactly one of boxes, landmarks")
        if boxes is not None:
            box_array = _as_boxes(boxes)
            points: list[np.ndarray | None] = [None] * len(box_array)
        else:
            sets = _as_landmark_sets(landmarks)
            box_array = np.array(
                [[*s.min(axis=0), *s.max(axis=0)] for s in sets], dtype=np.float64
            ).reshape(-1, 4)
            points = list(sets)
        if scores is None:
            score_array = np.ones(len(box_array))
        else:
            score_array = _as_float_array(scores, "scores").reshape(-1)
            if len(score_array) != len(box_array):
                raise InvalidInputError(f"{len(score_array)} scores for {len(box_array)} faces")
        order = np.argsort(-score_array, kind="stable")
        # Detection checks finiteness and x1 < x2, y1 < y2 (so a degenerate box fails here).
        self.detections = tuple(
            Detection(box=box_array[i], score=score_array[i], keypoints=points[i]) for i in order
        )

    def detect(self, image: np.ndarray) -> list[Detection]:
        """The given faces (best score first), after checking they overlap ``image``."""
        height, width = validate_image(image).shape[:2]
        for detection in self.detections:
            x1, y1, x2, y2 = detection.box
            # The image covers [-0.5, W - 0.5] x [-0.5, H - 0.5] (pixel centres at integers).
            if x2 <= -0.5 or y2 <= -0.5 or x1 >= width - 0.5 or y1 >= height - 0.5:
                raise InvalidInputError(
                    f"given box {detection.box.tolist()} lies outside the {width}x{height} image"
                )
        return list(self.detections)
