"""Landmark error metrics (pure numpy; no data loading).

All functions take predicted and ground-truth points with points as rows, (N, 2|3) for one
face or (B, N, 2|3) for a batch, and return per-face errors as fractions (multiply by 100
for the usual % figures). Only the columns a metric names are used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facerecon.errors import InvalidInputError

YAW_BIN_EDGES = (30.0, 60.0)
YAW_BIN_LABELS = ("[0,30]", "(30,60]", "(60,90+]")
OUTER_EYE_CORNERS = (36, 45)  # 0-based iBUG indices of the outer eye corners


def _pair(pred, gt, dims: int) -> tuple[np.ndarray, np.ndarray, bool]:
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    single = gt.ndim == 2
    if single:
        pred, gt = pred[None], gt[None]
    if gt.ndim != 3 or pred.shape[:2] != gt.shape[:2]:
        raise InvalidInputError(f"pred {pred.shape} and gt {gt.shape} must be (B, N, D) alike")
    if pred.shape[2] < dims or gt.shape[2] < dims:
        raise InvalidInputError(f"need {dims} coordinates, got {pred.shape} and {gt.shape}")
    return pred[..., :dims], gt[..., :dims], single


def _out(values: np.ndarray, single: bool):
    return float(values[0]) if single else values


def bbox_normalizer(gt) -> np.ndarray:
    """sqrt(w * h) of the 2D bounding box of each ground-truth point set: (B,) or float."""
    _, gt2, single = _pair(gt, gt, 2)
    size = gt2.max(axis=1) - gt2.min(axis=1)
    return _out(np.sqrt(size[:, 0] * size[:, 1]), single)


def nme_bbox(pred, gt):
    """AFLW2000-3D NME: mean 2D (x, y) point error / sqrt(w*h) of the GT 68-point box.

    >>> nme_bbox([[1, 0], [11, 0], [0, 10]], [[0, 0], [10, 0], [0, 10]])  # box 10x10
    0.06666666666666667
    """
    pred2, gt2, single = _pair(pred, gt, 2)
    error = np.linalg.norm(pred2 - gt2, axis=2).mean(axis=1)
    return _out(error / np.atleast_1d(bbox_normalizer(gt2)), single)


def nme_bbox_3d(pred, gt):
    """3D NME: mean 3D point error / sqrt(w*h) of the GT 2D box, z centred per face.

    Depth has no common origin between a prediction and the ground truth (3DDFA's z and the
    teacher's are both defined up to an offset), so each set's z is shifted by its own mean
    over the points before the distance is taken; x and y are used as they are.
    """
    pred3, gt3, single = _pair(pred, gt, 3)
    pred3 = pred3.copy()
    gt3 = gt3.copy()
    pred3[..., 2] -= pred3[..., 2].mean(axis=1, keepdims=True)
    gt3[..., 2] -= gt3[..., 2].mean(axis=1, keepdims=True)
    error = np.linalg.norm(pred3 - gt3, axis=2).mean(axis=1)
    return _out(error / np.atleast_1d(bbox_normalizer(gt3)), single)


def nme_interocular(pred, gt, corners: tuple[int, int] = OUTER_EYE_CORNERS):
    """300-W NME: mean 2D point error / distance between GT outer eye corners (36, 45)."""
    pred2, gt2, single = _pair(pred, gt, 2)
    distance = np.linalg.norm(gt2[:, corners[0]] - gt2[:, corners[1]], axis=1)
    if np.any(distance <= 0):
        raise InvalidInputError("ground-truth outer eye corners coincide")
    error = np.linalg.norm(pred2 - gt2, axis=2).mean(axis=1)
    return _out(error / distance, single)


def yaw_bin(yaw_degrees) -> np.ndarray:
    """Bin index of |yaw| (degrees): 0 for [0, 30], 1 for (30, 60], 2 above 60 (int64)."""
    magnitude = np.abs(np.asarray(yaw_degrees, dtype=np.float64))
    return np.searchsorted(np.asarray(YAW_BIN_EDGES), magnitude, side="left").astype(np.int64)


@dataclass(frozen=True)
class BinnedError:
    """Per-bin summary of per-image errors.

    Attributes:
        counts: images per |yaw| bin. bin_means: mean error per bin (None for an empty bin).
        mean_of_bins: mean of the non-empty bins' means (the papers' number when all three
            bins are filled). mean: plain mean over all images.
    """

    counts: tuple[int, int, int]
    bin_means: tuple[float | None, float | None, float | None]
    mean_of_bins: float
    mean: float

    def as_dict(self, percent: bool = True) -> dict:
        scale = 100.0 if percent else 1.0
        return {
            "bins": list(YAW_BIN_LABELS),
            "counts": list(self.counts),
            "bin_means": [None if m is None else m * scale for m in self.bin_means],
            "mean_of_bins": self.mean_of_bins * scale,
            "mean": self.mean * scale,
            "unit": "%" if percent else "fraction",
        }


def binned_errors(errors, yaw_degrees) -> BinnedError:
    """Summarise per-image errors by |yaw| bin (see :func:`yaw_bin`).

    >>> round(binned_errors([0.1, 0.3, 0.2], [10, -45, 80]).mean_of_bins, 6)
    0.2
    """
    errors = np.asarray(errors, dtype=np.float64).reshape(-1)
    bins = yaw_bin(yaw_degrees).reshape(-1)
    if len(errors) == 0 or len(errors) != len(bins):
        raise InvalidInputError(f"need as many yaws as errors (> 0): {len(bins)} vs {len(errors)}")
    counts = tuple(int(np.sum(bins == b)) for b in range(3))
    means = tuple(float(errors[bins == b].mean()) if counts[b] else None for b in range(3))
    filled = [m for m in means if m is not None]
    return BinnedError(counts, means, float(np.mean(filled)), float(errors.mean()))
