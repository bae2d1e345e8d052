"""300-W protocol: NME by the outer inter-ocular distance on a held-out split.

Faces: every image + ``.pts`` pair under a folder laid out like ``shared/data/300w`` (any
depth), kept when :func:`facerecon.data.splits.split_300w` puts it in the requested split,
the split the data build holds out (``val``, 10 % of the photos, all faces of a photo
together). Each face is cropped from the box of its ground-truth 68 points (the "landmarks"
crop; the teacher gets 3DDFA's landmark ROI rule on the same box), so the score measures the
landmark regression, not a detector. Per face: mean 2D (x, y) point error / distance between
ground-truth points 36 and 45 (:func:`~facerecon.evaluate.metrics.nme_interocular`).
Reported: mean, median, and the failure rate (share of faces above 8 %).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facerecon.data.pts import iter_300w
from facerecon.data.splits import check_split, split_300w
from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.evaluate.metrics import nme_interocular

FAILURE_THRESHOLD = 0.08


@dataclass(frozen=True)
class W300Sample:
    """One 300-W face: ``name`` is its image path relative to the folder (POSIX)."""

    name: str
    image_path: Path
    landmarks: np.ndarray  # (68, 2) float32 image pixels

    @property
    def box(self) -> np.ndarray:
        """(4,) float64 ``xyxy`` extent of the 68 ground-truth points."""
        return np.concatenate([self.landmarks.min(axis=0), self.landmarks.max(axis=0)]).astype(
            np.float64
        )


def load_300w_split(folder: str | Path, split: str = "val") -> list[W300Sample]:
    """The faces of ``folder`` in ``split`` (``"train"`` or ``"val"``), sorted by name."""
    check_split(split)
    folder = Path(folder)
    samples = [
        W300Sample(image.relative_to(folder).as_posix(), image, points)
        for image, points in iter_300w(folder)
        if split_300w(image) == split
    ]
    if not samples:
        raise DataNotFoundError(f"no 300-W faces of split {split!r} under {folder}")
    return sorted(samples, key=lambda s: s.name)


@dataclass(frozen=True)
class W300Result:
    """Per-face NMEs (fractions) in sample order, and their summary."""

    names: tuple[str, ...]
    per_image: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.per_image.mean())

    @property
    def median(self) -> float:
        return float(np.median(self.per_image))

    @property
    def failure_rate(self) -> float:
        return float(np.mean(self.per_image > FAILURE_THRESHOLD))

    def as_dict(self) -> dict:
        """JSON-ready summary (percent) and per-face NMEs."""
        return {
            "protocol": "300-W 68 points, NME / outer inter-ocular distance (points 36, 45)",
            "num_images": len(self.names),
            "mean": self.mean * 100,
            "median": self.median * 100,
            "failure_rate": self.failure_rate * 100,
            "failure_threshold": FAILURE_THRESHOLD * 100,
            "unit": "%",
            "per_image_percent": {
                name: float(error * 100) for name, error in zip(self.names, self.per_image,
                                                                strict=True)
            },
        }


def evaluate_300w(samples: list[W300Sample], predictions: Mapping[str, np.ndarray]) -> W300Result:
    """Score (68, 2|3) image-pixel predictions, one per sample name (no more, no fewer)."""
    names = tuple(s.name for s in samples)
    missing = [name for name in names if name not in predictions]
    extra = [name for name in predictions if name not in set(names)]
    if missing or extra:
        raise InvalidInputError(f"predictions miss {missing[:5]} / have unknown {extra[:5]}")
    pred = np.stack([np.asarray(predictions[name], np.float64)[:, :2] for name in names])
    if pred.shape[1:] != (68, 2):
        raise InvalidInputError(f"each prediction must be (68, 2|3), got {pred.shape[1:]}")
    errors = nme_interocular(pred, np.stack([s.landmarks for s in samples]))
    return W300Result(names, np.asarray(errors, np.float64))
