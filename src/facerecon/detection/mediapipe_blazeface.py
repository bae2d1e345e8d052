"""MediaPipe's BlazeFace (optional extra ``facerecon[mediapipe]``).

The ``mediapipe==0.10.21`` wheel bundles the BlazeFace ``.tflite`` models, so nothing is
downloaded at run time. That wheel requires ``numpy<2``, which conflicts with the numpy 2
the rest of the project is developed on, so it is an optional extra to install in its own
environment: ``pip install "facerecon[mediapipe]"`` (pulls numpy<2). mediapipe is imported only
when this detector is created; without it, creation raises MissingDependencyError.

BlazeFace resizes the whole photo to its 128x128 (short range) or 192x192 (full range)
input, so enlarging the photo cannot help it find small faces; there is no ``upsample``
option. It gives six keypoints (eyes, nose tip, mouth centre, ear tragions), not the five of
``Detection.keypoints`` (which has two mouth corners), so ``keypoints`` is left ``None``.
"""

from __future__ import annotations

import numpy as np

from facerecon.detection.base import as_number, finalize, validate_image, validate_min_size
from facerecon.errors import InvalidInputError, MissingDependencyError
from facerecon.types import Detection

INSTALL_HINT = (
    'the mediapipe detector needs mediapipe: pip install "facerecon[mediapipe]" '
    "(mediapipe==0.10.21, which requires numpy<2; use a separate environment)"
)
_MODELS = {"short": 0, "full": 1}


def _import_face_detection():
    try:
        from mediapipe.python.solutions import face_detection
    except ImportError as error:
        raise MissingDependencyError(INSTALL_HINT) from error
    return face_detection


class MediaPipeDetector:
    """BlazeFace through MediaPipe's face-detection solution.

    Args:
        model: "short" (faces within about 2 m of the camera, the usual photo) or "full"
            (small, distant faces).
        min_score: detections scoring below this (0..1) are dropped.
        min_size: drop boxes with a side shorter than this many pixels.

    Scores are BlazeFace's probabilities in [0, 1]. Boxes are xyxy in pixels with integer
    coordinates at pixel centres (MediaPipe's relative box, whose 0 and 1 are the image's
    outer edges, is scaled by W and H and shifted by -0.5); they may reach past the border.
    """

    name = "mediapipe"

    def __init__(self, model: str = "short", min_score: float = 0.5, min_size: float = 0.0):
        if model not in _MODELS:
            raise InvalidInputError(f"model must be one of {sorted(_MODELS)}, got {model!r}")
        if not 0.0 <= as_number(min_score, "min_score") <= 1.0:
            raise InvalidInputError(f"min_score must be in [0, 1], got {min_score}")
        self.model = model
        self.min_score = float(min_score)
        self.min_size = validate_min_size(min_size)
        self._solution = _import_face_detection().FaceDetection(
            model_selection=_MODELS[model], min_detection_confidence=self.min_score
        )

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` ((H, W, 3) uint8 RGB), best score first; [] if none."""
        image = validate_image(image)
        height, width = image.shape[:2]
        result = self._solution.process(np.ascontiguousarray(image))
        found = result.detections or []
        boxes = np.zeros((len(found), 4))
        scores = np.zeros(len(found))
        for index, detection in enumerate(found):
            rel = detection.location_data.relative_bounding_box
            boxes[index] = [
                rel.xmin * width - 0.5,
                rel.ymin * height - 0.5,
                (rel.xmin + rel.width) * width - 0.5,
                (rel.ymin + rel.height) * height - 0.5,
            ]
            scores[index] = detection.score[0]
        return finalize(boxes, scores, self.min_size)

    def close(self) -> None:
        """Release MediaPipe's graph now rather than at garbage collection."""
        self._solution.close()
