"""Train / val splits, fixed by image id (never seeded): one rule for the data build and the
evaluation.

A photo goes to ``val`` when ``sha1("<group>:<key>")``, read as a number in [0, 1), falls
below the group's fraction. Keys keep one person's photos together: a 300-W photo's key is
its photo id, the file stem without the ``_<face>`` suffix (``1051618982_1`` ->
``1051618982``), so every face of one photo lands in the same split; a UTKFace photo's key
is its file name (UTKFace holds mostly one photo per person).

The data build (:mod:`facerecon.data.build`, whose default fractions are
:data:`VAL_FRACTION`) and the evaluation both use this module, so they stay one rule.

>>> split_of("300w", "1051618982", 0.1)
'train'
>>> photo_id_300w("afw/1051618982_1.pts")
'1051618982'
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from facerecon.errors import InvalidInputError

SPLITS = ("train", "val")
#: Fraction of photos held out for validation, per source group.
VAL_FRACTION = {"300w": 0.1, "utkface": 0.05}


def unit_hash(text: str) -> float:
    """A number in [0, 1) from the first 48 bits of sha1(text) (stable across machines)."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], 16) / float(1 << 48)


def split_of(group: str, key: str, fraction: float) -> str:
    """``"val"`` when ``unit_hash(f"{group}:{key}") < fraction``, else ``"train"``."""
    if not 0.0 <= fraction <= 1.0:
        raise InvalidInputError(f"fraction must lie in [0, 1], got {fraction}")
    return "val" if unit_hash(f"{group}:{key}") < fraction else "train"


def photo_id_300w(path: str | Path) -> str:
    """The photo id of a 300-W image or ``.pts`` file: the stem without ``_<face>``."""
    return Path(path).stem.rsplit("_", 1)[0]


def split_300w(path: str | Path, fraction: float = VAL_FRACTION["300w"]) -> str:
    """``"train"`` or ``"val"`` for a 300-W image or ``.pts`` path (HELEN and AFW alike)."""
    return split_of("300w", photo_id_300w(path), fraction)


def check_split(split: str) -> str:
    """Return ``split`` if it is ``"train"`` or ``"val"``; raise InvalidInputError otherwise."""
    if split not in SPLITS:
        raise InvalidInputError(f"split must be one of {SPLITS}, got {split!r}")
    return split
