"""Detector registry: names, options, errors, plugins, the default."""

from __future__ import annotations

import numpy as np
import pytest

from facerecon.detection import (
    DEFAULT_DETECTOR,
    FaceDetector,
    create_detector,
    list_detectors,
    register_detector,
    registry,
)
from facerecon.errors import InvalidInputError
from facerecon.types import Detection


def test_default_is_a_core_backend():
    # the default must work with the core dependencies alone (mediapipe is an extra)
    assert DEFAULT_DETECTOR in list_detectors()
    assert DEFAULT_DETECTOR not in ("mediapipe", "given")
    assert isinstance(create_detector(), FaceDetector)
    assert create_detector().name == DEFAULT_DETECTOR


def test_unknown_name_and_option():
    with pytest.raises(InvalidInputError, match="unknown detector"):
        create_detector("no_such_detector")
    with pytest.raises(InvalidInputError, match="dlib_hog"):
        create_detector("dlib_hog", no_such_option=1)


def test_register_a_plugin(monkeypatch):
    monkeypatch.setattr(registry, "_PLUGINS", {})

    class Everywhere:
        name = "everywhere"

        def __init__(self, score: float = 1.0):
            self.score = score

        def detect(self, image):
            height, width = image.shape[:2]
            return [Detection(box=[0, 0, width, height], score=self.score)]

    register_detector("everywhere", Everywhere)
    assert "everywhere" in list_detectors()
    (detection,) = create_detector("everywhere", score=0.5).detect(np.zeros((8, 8, 3), np.uint8))
    assert detection.score == 0.5
    with pytest.raises(InvalidInputError):
        register_detector("everywhere", Everywhere)
    with pytest.raises(InvalidInputError):
        register_detector("dlib_hog", Everywhere)
