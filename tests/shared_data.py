"""Where the real public data lives for tests: ``../shared/data`` beside the repository, or
``$FACERECON_SHARED_DATA``. Missing data fails the test under CI (``CI=true``) and skips it
elsewhere, with the path in the message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
