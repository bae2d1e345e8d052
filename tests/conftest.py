"""Shared fixtures.

Real data comes from ``../shared/data`` beside the repository (or ``$FACERECON_SHARED_DATA``).
When it is missing, tests that need it fail under CI (``CI=true``) and skip elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from facerecon.posmap import encode

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data_root() -> Path:
    override = os.environ.get("FACERECON_SHARED_DATA")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data"


def require_shared(relative: str) -> Path:
    """Return ``shared/data/<relative>``; fail in CI, skip elsewhere, when it is missing."""
    path = _shared_data_root() / relative
    if not path.exists():
        message = f"shared data not found: {path} (set FACERECON_SHARED_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return require_shared("")


@pytest.fixture(scope="session")
def ict_dir() -> Path:
    return require_shared("ict-facekit/FaceXModel")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


class OraclePredictor:
    """Knows the image-space region vertices of every face in a scene and, for each crop,
    encodes the face whose centre lies nearest the crop centre: the exact answer a perfect
    network would give."""

    name = "oracle"

    def __init__(self, topology, faces_vertices: list[np.ndarray], input_size: int = 256):
        self.topology = topology
        self.faces_vertices = [np.asarray(v, np.float32) for v in faces_vertices]
        self.input_size = input_size
        self.resolution = topology.resolution
        self.calls = 0

    def __call__(self, crops: np.ndarray, transforms) -> np.ndarray:
        assert crops.dtype == np.uint8 and crops.shape[1:] == (self.input_size,) * 2 + (3,)
        self.calls += 1
        maps = []
        for transform in transforms:
            centre = (self.input_size - 1) / 2
            distances = [
                np.linalg.norm(transform.to_crop(v[:, :2]).mean(axis=0) - centre)
                for v in self.faces_vertices
            ]
            vertices = self.faces_vertices[int(np.argmin(distances))]
            maps.append(encode(transform.to_crop(vertices), self.topology))
        return np.stack(maps).astype(np.float32)


@pytest.fixture
def make_oracle():
    """Factory: ``make_oracle(topology, [vertices, ...])`` -> :class:`OraclePredictor`."""
    return OraclePredictor
