"""Detectors by name: ``create_detector("dlib_hog", upsample=1)``, ``list_detectors()``.

Backends are imported only when created, so an optional one that is not installed (mediapipe)
costs nothing until it is asked for, and then raises MissingDependencyError with the install
command. ``register_detector`` adds a plugin: any callable that takes keyword options and
returns an object with ``detect(image) -> list[Detection]``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable

from facerecon.detection.base import FaceDetector
from facerecon.errors import InvalidInputError

# Chosen from the 300-W numbers in docs/detection.md (benchmarks/detectors.py): the highest
# recall of the backends that install with the core package, at a latency that suits one photo.
DEFAULT_DETECTOR = "dlib_hog"

# name -> "module:attribute" of a built-in backend, resolved on first use.
_BUILTIN: dict[str, str] = {
    "dlib_hog": "facerecon.detection.dlib_hog:DlibHogDetector",
    "opencv_haar": "facerecon.detection.opencv_haar:OpenCVHaarDetector",
    "mediapipe": "facerecon.detection.mediapipe_blazeface:MediaPipeDetector",
    "given": "facerecon.detection.given:GivenDetector",
}
_PLUGINS: dict[str, Callable[..., FaceDetector]] = {}


def register_detector(name: str, factory: Callable[..., FaceDetector]) -> None:
    """Register ``factory(**options) -> FaceDetector`` under ``name`` (a new name only)."""
    if not name or name in _BUILTIN or name in _PLUGINS:
        raise InvalidInputError(f"detector name {name!r} is empty or already registered")
    _PLUGINS[name] = factory


def list_detectors() -> list[str]:
    """All registered detector names, sorted, including optional ones not installed."""
    return sorted({*_BUILTIN, *_PLUGINS})


def _factory(name: str) -> Callable[..., FaceDetector]:
    if name in _PLUGINS:
        return _PLUGINS[name]
    if name not in _BUILTIN:
        raise InvalidInputError(
            f"unknown detector {name!r}; choose one of {', '.join(list_detectors())}"
        )
    module_name, attribute = _BUILTIN[name].split(":")
    return getattr(importlib.import_module(module_name), attribute)


def create_detector(name: str = DEFAULT_DETECTOR, **options) -> FaceDetector:
    """Build the detector called ``name`` with backend ``options``.

    Raises:
        InvalidInputError: unknown name or bad option values.
        MissingDependencyError: the backend's optional package is not installed.
    """
    factory = _factory(name)
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as error:
        raise InvalidInputError(f"detector {name!r}: {error}") from error
    return factory(**options)
