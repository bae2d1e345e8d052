"""Shared fixtures.

Real data comes from ``../shared/data`` beside the repository (or ``$FACERECON_SHARED_DATA``).
When it is missing, tests that need it fail under CI (``CI=true``) and skip elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from facerecon.data.synthetic import GroundTruthPredictor

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


@pytest.fixture
def make_oracle():
    """Factory: ``make_oracle(topology, [vertices, ...])`` -> a predictor that returns the
    true position maps (:class:`facerecon.data.synthetic.GroundTruthPredictor`)."""
    return GroundTruthPredictor
