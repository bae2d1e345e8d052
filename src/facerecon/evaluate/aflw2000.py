"""AFLW2000-3D protocol (3DDFA, as used by PRNet) over the images present in a folder.

Per image: NME = mean 2D (x, y) error over the 68 points / sqrt(w*h) of the ground-truth
68-point box (:func:`~facerecon.evaluate.metrics.nme_bbox`), against

- ``original``: ``AFLW2000-3D.pts68.npy`` (the fitted 3D landmarks, x and y);
- ``reannotated``: ``AFLW2000-3D-Reannotated.pts68.npy`` (3DDFA's 2D re-annotation), where
  the folder has it; its box is the normaliser then;
- ``original_3d``: 3D NME against the original landmarks with each set's z centred on its
  mean (:func:`~facerecon.evaluate.metrics.nme_bbox_3d`), same sqrt(w*h) normaliser.

Summaries per |yaw| bin [0,30], (30,60], (60,90+] with the yaw of ``AFLW2000-3D.pose.npy``
(``pose="fitted"``, the default: signed yaw of the fitted pose, bins 1312/383/305 on all
2000) or ``AFLW2000-3D-new.pose.npy`` (``pose="new"``: AFLW's own yaw labels, 1306/462/232,
the split of the 3DDFA paper). Reported: counts, bin means, mean of bin means, plain mean.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from facerecon.data.aflw2000 import Aflw2000Dataset
from facerecon.errors import InvalidInputError
from facerecon.evaluate.metrics import BinnedError, binned_errors, nme_bbox, nme_bbox_3d

POSE_CHOICES = ("fitted", "new")


@dataclass(frozen=True)
class Aflw2000Result:
    """Per-image errors and their summaries.

    Attributes:
        names: image file names, in dataset order. yaw: (N,) degrees used for the bins.
        per_image: ``{"original" | "reannotated" | "original_3d": (N,) float64 fractions}``.
        summary: the same keys mapped to :class:`BinnedError`.
        pose: ``"fitted"`` or ``"new"``.
    """

    names: tuple[str, ...]
    yaw: np.ndarray
    per_image: dict[str, np.ndarray]
    summary: dict[str, BinnedError]
    pose: str

    def as_dict(self) -> dict:
        """JSON-ready table (percent), plus per-image NMEs."""
        return {
            "protocol": "AFLW2000-3D 68 points, NME / sqrt(w*h) of the GT 68-point box",
            "pose_file": _pose_file(self.pose),
            "num_images": len(self.names),
            "tables": {key: value.as_dict() for key, value in self.summary.items()},
            "per_image_percent": {
                name: {key: float(errors[i] * 100) for key, errors in self.per_image.items()}
                for i, name in enumerate(self.names)
            },
        }


def _pose_file(pose: str) -> str:
    return "AFLW2000-3D.pose.npy" if pose == "fitted" else "AFLW2000-3D-new.pose.npy"


def evaluate_aflw2000(
    dataset: Aflw2000Dataset, predictions: Mapping[str, np.ndarray], pose: str = "fitted"
) -> Aflw2000Result:
    """Score predictions for every image of ``dataset``.

    Args:
        dataset: the images present and their annotations.
        predictions: image file name -> (68, 2|3) landmarks in image pixels; every image of
            the dataset must have one (extra names are an error too, to catch mix-ups).
            The 3D row is computed only when every prediction has z.
        pose: ``"fitted"`` or ``"new"`` (see the module docstring).
    """
    if pose not in POSE_CHOICES:
        raise InvalidInputError(f"pose must be one of {POSE_CHOICES}, got {pose!r}")
    if pose == "new" and not dataset.has_new_pose:
        raise InvalidInputError(f"{dataset.root} has no {_pose_file('new')}")
    names = tuple(dataset.names)
    missing = [name for name in names if name not in predictions]
    extra = [name for name in predictions if name not in set(names)]
    if missing or extra:
        raise InvalidInputError(f"predictions miss {missing[:5]} / have unknown {extra[:5]}")
    pred = [np.asarray(predictions[name], dtype=np.float64) for name in names]
    if any(p.shape not in ((68, 2), (68, 3)) for p in pred):
        raise InvalidInputError("each prediction must be (68, 2) or (68, 3)")
    yaw = np.array([s.yaw if pose == "fitted" else s.yaw_new for s in dataset], dtype=np.float64)
    gt3d = np.stack([s.pts68 for s in dataset])
    per_image = {"original": nme_bbox(np.stack([p[:, :2] for p in pred]), gt3d[..., :2])}
    if dataset.has_reannotated:
        gt_re = np.stack([s.pts68_reannotated for s in dataset])
        per_image["reannotated"] = nme_bbox(np.stack([p[:, :2] for p in pred]), gt_re)
    if all(p.shape[1] == 3 for p in pred):
        per_image["original_3d"] = nme_bbox_3d(np.stack(pred), gt3d)
    summary = {key: binned_errors(errors, yaw) for key, errors in per_image.items()}
    return Aflw2000Result(names, yaw, per_image, summary, pose)


def predict_dataset(
    predict_batch: Callable[[list[np.ndarray], np.ndarray], np.ndarray],
    dataset: Aflw2000Dataset,
    rois: np.ndarray | None = None,
    batch_size: int = 16,
) -> dict[str, np.ndarray]:
    """Run a landmark predictor over the dataset.

    Args:
        predict_batch: ``(RGB images, (B, 4) xyxy ROIs) -> (B, 68, 3)``, e.g.
            :meth:`facerecon.data.teacher.Teacher.predict_batch`.
        rois: (N, 4) boxes in dataset order; default the benchmark's ``roi_box`` rows.

    Returns:
        image file name -> (68, 3) float32 prediction.
    """
    from facerecon.data.images import read_image_rgb

    rois = np.stack([s.roi_box for s in dataset]) if rois is None else np.asarray(rois)
    if rois.shape != (len(dataset), 4):
        raise InvalidInputError(f"rois must be ({len(dataset)}, 4), got {rois.shape}")
    out: dict[str, np.ndarray] = {}
    for start in range(0, len(dataset), batch_size):
        samples = dataset.samples[start : start + batch_size]
        images = [read_image_rgb(s.image_path) for s in samples]
        points = predict_batch(images, rois[start : start + batch_size])
        out.update({s.name: p for s, p in zip(samples, points, strict=True)})
    return out
