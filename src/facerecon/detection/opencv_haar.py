"""OpenCV's Viola-Jones Haar cascade, with the XML files that opencv-python ships.

No dependency beyond OpenCV, but it finds near-frontal faces only; on 300-W it found fewer
faces than dlib and, with the default cascade, made more false detections. Its boxes are
square, larger than the 68-landmark box and higher: they include the forehead and stop above
the chin (the measured relation is in docs/detection.md).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facerecon.detection.base import (
    as_number,
    finalize,
    to_gray,
    validate_image,
    validate_min_size,
    validate_upsample,
)
from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.types import Detection

CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml")


class OpenCVHaarDetector:
    """Haar cascade face detector.

    Args:
        cascade: file name of a cascade in ``cv2.data.haarcascades`` (see ``CASCADES``), or a
            path to another cascade XML.
        scale_factor: step between pyramid scales (> 1); smaller is slower and finds more.
        min_neighbors: how many overlapping raw hits a face needs; higher is stricter.
        min_size: smallest face side searched, in pixels of the input image.
        upsample: how many times the image is doubled before scanning (0..3); finds faces
            smaller than the cascade's 24 px window at 4x the cost per step.
        equalize: equalise the grey histogram first (helps dark or low-contrast photos).

    Scores are the cascade's last-stage weight sums (``levelWeights`` of
    ``detectMultiScale3``), larger is more face-like. Boxes are xyxy with integer coordinates
    at pixel centres: OpenCV's rectangle (x, y, w, h) becomes (x - 0.5, y - 0.5, x + w - 0.5,
    y + h - 0.5).
    """

    name = "opencv_haar"

    def __init__(
        self,
        cascade: str = "haarcascade_frontalface_default.xml",
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: float = 30.0,
        upsample: int = 0,
        equalize: bool = False,
    ):
        path = Path(cascade)
        if not path.is_file():
            path = Path(cv2.data.haarcascades) / cascade
        classifier = cv2.CascadeClassifier(str(path))
        if classifier.empty():
            raise DataNotFoundError(f"cannot load the Haar cascade {cascade!r} (tried {path})")
        if not as_number(scale_factor, "scale_factor") > 1.0:
            raise InvalidInputError(f"scale_factor must be > 1, got {scale_factor}")
        if as_number(min_neighbors, "min_neighbors") < 0 or int(min_neighbors) != min_neighbors:
            raise InvalidInputError(f"min_neighbors must be an int >= 0, got {min_neighbors}")
        self.cascade = str(path)
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_size = validate_min_size(min_size)
        self.upsample = validate_upsample(upsample)
        self.equalize = bool(equalize)
        self._classifier = classifier

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` ((H, W, 3) uint8 RGB), best score first; [] if none."""
        gray = to_gray(validate_image(image))
        if self.equalize:
            gray = cv2.equalizeHist(gray)
        scale = 2**self.upsample
        if scale > 1:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        side = max(1, round(self.min_size * scale))
        rects, _, weights = self._classifier.detectMultiScale3(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(side, side),
            outputRejectLevels=True,
        )
        rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
        # A pixel centre c of the enlarged image lies at (c + 0.5) / scale - 0.5 in the input.
        x1 = rects[:, 0] - 0.5
        y1 = rects[:, 1] - 0.5
        boxes = np.stack([x1, y1, x1 + rects[:, 2], y1 + rects[:, 3]], axis=1)
        boxes = (boxes + 0.5) / scale - 0.5
        return finalize(boxes, np.asarray(weights, dtype=np.float64).reshape(-1), self.min_size)
