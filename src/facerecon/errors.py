"""Typed exceptions. Library code raises these; only the CLI turns them into messages."""

from __future__ import annotations


class FaceReconError(Exception):
    """Base class of every error facerecon raises on purpose."""


class InvalidInputError(FaceReconError, ValueError):
    """An argument has the wrong type, shape, dtype or value."""


class ImageReadError(FaceReconError):
    """An image file is missing, unreadable, truncated, too large or not an image."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class DataNotFoundError(FaceReconError, FileNotFoundError):
    """A dataset or model folder does not hold the files it should."""


class WeightsError(FaceReconError):
    """Model weights are missing, or do not match the architecture exactly."""


class MissingDependencyError(FaceReconError, ImportError):
    """An optional dependency is needed for this feature and is not installed."""
