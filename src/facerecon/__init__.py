"""facerecon: one photo in, dense 3D faces out (PRN-style UV position-map regression)."""

from facerecon.errors import (
    DataNotFoundError,
    FaceReconError,
    ImageReadError,
    InvalidInputError,
    MissingDependencyError,
    WeightsError,
)
from facerecon.types import Detection

__version__ = "0.1.0"

__all__ = [
    "DataNotFoundError",
    "Detection",
    "FaceReconError",
    "ImageReadError",
    "InvalidInputError",
    "MissingDependencyError",
    "WeightsError",
    "__version__",
]
