"""facerecon: one photo in, dense 3D faces out (PRN-style UV position-map regression).

The public API is listed in ``__all__``. Heavy parts (torch, numba, OpenCV) load on first
use of a name, so ``import facerecon`` and ``facerecon --help`` stay fast.

>>> import facerecon
>>> facerecon.Detection(box=[10, 20, 110, 140]).box.tolist()
[10.0, 20.0, 110.0, 140.0]
"""

from __future__ import annotations

import importlib

from facerecon.errors import (
    DataNotFoundError,
    FaceReconError,
    ImageReadError,
    InvalidInputError,
    MissingDependencyError,
    WeightsError,
)

__version__ = "0.1.0"

# name -> module that defines it, imported on first access (PEP 562)
_LAZY = {
    "Detection": "facerecon.types",
    "FaceReconstructor": "facerecon.api",
    "Face": "facerecon.face",
    "PosmapPredictor": "facerecon.predictor",
    "CropTransform": "facerecon.crop",
    "crop_from_box": "facerecon.crop",
    "crop_from_landmarks": "facerecon.crop",
    "load_image": "facerecon.imageio",
    "read_image": "facerecon.imageio",
    "write_image": "facerecon.imageio",
    "encode": "facerecon.posmap",
    "decode": "facerecon.posmap",
    "UVTopology": "facerecon.topology",
    "load_topology": "facerecon.topology",
    "Mesh": "facerecon.mesh",
    "Pose": "facerecon.apps.pose",
    "estimate_pose": "facerecon.apps.pose",
    "create_detector": "facerecon.detection",
    "list_detectors": "facerecon.detection",
    "create_model": "facerecon.models",
    "list_models": "facerecon.models",
}

__all__ = [
    "DataNotFoundError",
    "FaceReconError",
    "ImageReadError",
    "InvalidInputError",
    "MissingDependencyError",
    "WeightsError",
    "__version__",
    *sorted(_LAZY),
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'facerecon' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
