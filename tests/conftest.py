"""Shared fixtures.

Real data comes from ``../shared/data`` beside the repository (or ``$FACERECON_SHARED_DATA``).
When it is missing, tests that need it fail under CI (``CI=true``) and skip elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shared_data import require_shared

from facerecon.data.synthetic import GroundTruthPredictor


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
