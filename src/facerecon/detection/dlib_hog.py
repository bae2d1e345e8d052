"""dlib's frontal face detector: HOG features + linear SVM over an image pyramid.

Needs the ``dlib`` module, which the ``dlib-bin`` wheel provides (a core dependency). The
detector scans an 80x80 window, so faces smaller than about that need ``upsample`` (each
doubling halves the smallest face found and costs about 4x the time). Its boxes are square,
about as wide as the 68-landmark box, and sit higher: they include the forehead and stop above
the chin (the measured relation is in docs/detection.md).
"""

from __future__ import annotations

import functools

import numpy as np

from facerecon.detection.base import (
    as_number,
    finalize,
    validate_image,
    validate_min_size,
    validate_upsample,
)
from facerecon.errors import MissingDependencyError
from facerecon.types import Detection


@functools.cache
def _frontal_detector():
    """dlib's detector, built once: it deserialises a model (seconds on a busy machine), and
    ``run`` keeps no state, so every DlibHogDetector can share it."""
    try:
        import dlib
    except ImportError as error:
        raise MissingDependencyError(
            "the dlib_hog detector needs dlib: pip install dlib-bin"
        ) from error
    return dlib.get_frontal_face_detector()


class DlibHogDetector:
    """dlib HOG face detector.

    Args:
        upsample: how many times dlib doubles the image before scanning (0..3).
        threshold: added to the SVM decision threshold; lower finds more (and more false)
            faces. dlib's default is 0.
        min_size: drop boxes with a side shorter than this many pixels.

    Scores are dlib's SVM margins (0 at the decision threshold). Boxes are xyxy with integer
    coordinates at pixel centres: dlib's inclusive pixel rectangle [l, r] becomes
    (l - 0.5, ..., r + 0.5).
    """

    name = "dlib_hog"

    def __init__(self, upsample: int = 0, threshold: float = 0.0, min_size: float = 0.0):
        self.upsample = validate_upsample(upsample)
        self.threshold = as_number(threshold, "threshold")
        self.min_size = validate_min_size(min_size)
        self._detector = _frontal_detector()

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` ((H, W, 3) uint8 RGB), best score first; [] if none."""
        image = validate_image(image)
        # dlib reads the buffer without writing; it only needs C order.
        rects, scores, _ = self._detector.run(
            np.ascontiguousarray(image), self.upsample, self.threshold
        )
        boxes = np.array(
            [[r.left() - 0.5, r.top() - 0.5, r.right() + 0.5, r.bottom() + 0.5] for r in rects],
            dtype=np.float64,
        ).reshape(-1, 4)
        return finalize(boxes, np.asarray(scores, dtype=np.float64), self.min_size)
