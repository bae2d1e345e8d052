"""Cumulative error distribution (CED) curves, drawn with OpenCV (no plotting library).

A CED curve shows, for each error e on the x axis, the share of images whose error is at
most e. :func:`cumulative_curve` computes it; :func:`draw_ced` draws several on one chart
and returns an RGB image (write it with :func:`encode_png`).
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from facerecon.errors import InvalidInputError

# Distinct line colours (RGB), used in order.
PALETTE = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189),
           (140, 86, 75))
FONT = cv2.FONT_HERSHEY_SIMPLEX


def cumulative_curve(errors, thresholds) -> np.ndarray:
    """Share of ``errors`` <= each threshold: (T,) float64 in [0, 1].

    >>> cumulative_curve([0.01, 0.02, 0.05], [0.0, 0.02, 0.1]).tolist()
    [0.0, 0.6666666666666666, 1.0]
    """
    errors = np.sort(np.asarray(errors, np.float64).reshape(-1))
    if errors.size == 0:
        raise InvalidInputError("no errors to draw")
    return np.searchsorted(errors, np.asarray(thresholds, np.float64), side="right") / errors.size


def _nice_step(span: float) -> float:
    """A 1/2/5 x 10^k step giving 4 to 10 ticks over ``span``."""
    raw = span / 6.0
    power = 10.0 ** np.floor(np.log10(raw))
    return float(min((m * power for m in (1, 2, 5, 10) if span / (m * power) <= 10),
                     key=lambda step: abs(span / step - 6)))


def draw_ced(
    curves: Mapping[str, np.ndarray],
    x_max: float | None = None,
    title: str = "",
    x_label: str = "NME (%)",
    size: tuple[int, int] = (480, 640),
) -> np.ndarray:
    """Draw CED curves of per-image errors given in percent.

    Args:
        curves: legend label -> (N,) per-image errors (%, any N >= 1).
        x_max: right end of the x axis; default the 95th percentile of all errors rounded
            up to a tick (at least 1).
        size: (height, width) of the chart in pixels.

    Returns:
        (H, W, 3) uint8 RGB chart: white background, grid, axes, ticks, legend.
    """
    if not curves:
        raise InvalidInputError("need at least one curve")
    height, width = size
    all_errors = np.concatenate([np.asarray(v, np.float64).reshape(-1) for v in curves.values()])
    if x_max is None:
        x_max = max(1.0, float(np.percentile(all_errors, 95)) * 1.1)
    step = _nice_step(x_max)
    x_max = float(np.ceil(x_max / step - 1e-9) * step)
    left, right, top, bottom = 70, 20, 60 if title else 35, 55
    plot_w, plot_h = width - left - right, height - top - bottom
    image = np.full((height, width, 3), 255, np.uint8)

    def to_px(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        px = left + np.clip(x / x_max, 0, 1) * plot_w
        py = top + (1 - y) * plot_h
        return np.round(np.column_stack([px, py])).astype(np.int32)

    grey, black = (220, 220, 220), (0, 0, 0)
    for x in np.arange(0, x_max + step / 2, step):
        (px, _), = to_px(np.array([x]), np.array([0.0]))
        cv2.line(image, (px, top), (px, top + plot_h), grey, 1)
        cv2.putText(image, f"{x:g}", (px - 10, top + plot_h + 20), FONT, 0.45, black, 1,
                    cv2.LINE_AA)
    for y in np.linspace(0, 1, 6):
        (_, py), = to_px(np.array([0.0]), np.array([y]))
        cv2.line(image, (left, py), (left + plot_w, py), grey, 1)
        cv2.putText(image, f"{y * 100:.0f}", (left - 35, py + 5), FONT, 0.45, black, 1,
                    cv2.LINE_AA)
    cv2.rectangle(image, (left, top), (left + plot_w, top + plot_h), black, 1)
    cv2.putText(image, x_label, (left + plot_w // 2 - 40, height - 12), FONT, 0.5, black, 1,
                cv2.LINE_AA)
    cv2.putText(image, "images (%)", (5, top - 12), FONT, 0.45, black, 1,
                cv2.LINE_AA)
    if title:
        cv2.putText(image, title, (left, 25), FONT, 0.55, black, 1, cv2.LINE_AA)

    thresholds = np.linspace(0, x_max, 400)
    for index, (label, errors) in enumerate(curves.items()):
        colour = PALETTE[index % len(PALETTE)]
        points = to_px(thresholds, cumulative_curve(errors, thresholds))
        cv2.polylines(image, [points.reshape(-1, 1, 2)], False, colour, 2, cv2.LINE_AA)
        y = top + plot_h - 15 - 20 * (len(curves) - 1 - index)
        cv2.line(image, (left + plot_w - 230, y - 4), (left + plot_w - 205, y - 4), colour, 2)
        cv2.putText(image, label[:32], (left + plot_w - 198, y), FONT, 0.45, black, 1,
                    cv2.LINE_AA)
    return image


def encode_png(image_rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 image (OpenCV writes BGR, so the channels are swapped)."""
    ok, data = cv2.imencode(".png", np.ascontiguousarray(image_rgb[..., ::-1]))
    if not ok:
        raise InvalidInputError("PNG encoding failed")
    return data.tobytes()
