"""Where facerecon keeps files it computes: the user cache and the packaged assets.

Nothing here guesses data locations from the current directory: data paths are always
arguments. The cache defaults to ``$XDG_CACHE_HOME/facerecon`` (``~/.cache/facerecon``) and
can be moved with ``FACERECON_CACHE``.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"


def cache_dir() -> Path:
    """Return (and create) the per-user cache directory."""
    root = os.environ.get("FACERECON_CACHE")
    if root:
        path = Path(root)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(xdg) / "facerecon"
    path.mkdir(parents=True, exist_ok=True)
    return path
