"""Training curves as a PNG, drawn with OpenCV (no plotting dependency).

Two panels side by side: the training loss against the step (log10 axis), and the
validation ``nme_bbox`` (and ``nme_interocular_300w`` when present) in % against the step.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facerecon.atomic import atomic_path

_PANEL = (480, 640)  # height, width of one panel
_MARGIN = 80
_COLOURS = {"loss": (40, 90, 200), "nme_bbox": (200, 60, 40), "nme_interocular_300w": (40, 150, 60)}


def _panel(title: str, series: dict[str, tuple[np.ndarray, np.ndarray]], log_y: bool) -> np.ndarray:
    height, width = _PANEL
    canvas = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(canvas, title, (_MARGIN, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1,
                cv2.LINE_AA)
    left, right, top, bottom = _MARGIN, width - 20, 45, height - _MARGIN
    cv2.rectangle(canvas, (left, top), (right, bottom), (0, 0, 0), 1)
    points = [(x, np.log10(np.maximum(y, 1e-12)) if log_y else y)
              for x, y in series.values() if len(x)]
    if not points:
        return canvas
    xs = np.concatenate([x for x, _ in points])
    ys = np.concatenate([y for _, y in points])
    x0, x1 = float(xs.min()), float(max(xs.max(), xs.min() + 1))
    y0, y1 = float(ys.min()), float(ys.max())
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 0.5, y1 + 0.5
    for fraction in (0.0, 0.5, 1.0):
        value = y0 + fraction * (y1 - y0)
        row = int(round(bottom - fraction * (bottom - top)))
        label = f"{10 ** value:.3g}" if log_y else f"{value:.3g}"
        cv2.putText(canvas, label, (2, row + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    for fraction in (0.0, 1.0):
        col = int(round(left + fraction * (right - left)))
        cv2.putText(canvas, f"{x0 + fraction * (x1 - x0):.0f}", (col - 15, bottom + 20),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    for index, (name, (x, y)) in enumerate(series.items()):
        if not len(x):
            continue
        y = np.log10(np.maximum(y, 1e-12)) if log_y else y
        cols = left + (x - x0) / (x1 - x0) * (right - left)
        rows = bottom - (y - y0) / (y1 - y0) * (bottom - top)
        polyline = np.stack([cols, rows], axis=1).round().astype(np.int32)
        colour = _COLOURS.get(name, (0, 0, 0))[::-1]  # RGB -> BGR for OpenCV
        cv2.polylines(canvas, [polyline], False, colour, 2, cv2.LINE_AA)
        if len(x) < 50:
            for point in polyline:
                cv2.circle(canvas, tuple(int(v) for v in point), 3, colour, -1, cv2.LINE_AA)
        cv2.putText(canvas, name, (right - 220, top + 20 + 18 * index), cv2.FONT_HERSHEY_SIMPLEX,
                    0.5, colour, 1, cv2.LINE_AA)
    return canvas


def write_curves(path: str | Path, records: list[dict]) -> Path:
    """Draw the curves of metrics-log records (dicts with ``kind`` "train" or "val")."""
    train = [r for r in records if r.get("kind") == "train"]
    val = [r for r in records if r.get("kind") == "val"]

    def column(rows: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
        kept = [r for r in rows if key in r]
        scale = 100.0 if key.startswith("nme") else 1.0
        return (np.array([r["step"] for r in kept], np.float64),
                np.array([r[key] * scale for r in kept], np.float64))

    left = _panel("train loss (log scale)", {"loss": column(train, "loss")}, log_y=True)
    right = _panel("validation NME (%)", {key: column(val, key)
                                         for key in ("nme_bbox", "nme_interocular_300w")},
                   log_y=False)
    image = np.concatenate([left, right], axis=1)
    with atomic_path(path) as tmp:
        cv2.imwrite(str(tmp), image)
    return Path(path)
