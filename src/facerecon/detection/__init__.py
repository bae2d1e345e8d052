"""Face detectors behind one protocol, created by name.

>>> from facerecon.detection import create_detector
>>> detector = create_detector("opencv_haar")
>>> import numpy as np
>>> detector.detect(np.zeros((64, 64, 3), np.uint8))
[]
"""

from facerecon.detection.base import FaceDetector, box_iou, validate_image
from facerecon.detection.registry import (
    DEFAULT_DETECTOR,
    create_detector,
    list_detectors,
    register_detector,
)

__all__ = [
    "DEFAULT_DETECTOR",
    "FaceDetector",
    "box_iou",
    "create_detector",
    "list_detectors",
    "register_detector",
    "validate_image",
]
