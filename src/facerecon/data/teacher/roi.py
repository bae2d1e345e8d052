"""The teacher's own ROI recipe: box -> square ROI -> 120x120 BGR crop, and the way back.

This is not the pipeline crop (``facerecon.crop``): the 3DDFA_V2 weights were trained on
crops made this way, so the teacher keeps them. A ROI is ``xyxy`` float pixels (pixel
centres at integer coordinates, as everywhere in facerecon).

Crop (as 3DDFA_V2): the ROI corners are rounded to whole pixels, the window
``[sx, ex) x [sy, ey)`` is copied into a zero image (zero padding outside the photo), then
resized to 120x120 with OpenCV's bilinear ``INTER_LINEAR``. The way back maps a point of
the 120x120 crop with ``x * (ex - sx) / 120 + sx`` using the *unrounded* ROI, as upstream.

ROI rules (:data:`ROI_RULES`) turn a face box into a ROI: ``side = scale * size`` where size
is the mean or the max of the box's width and height, centred on the box centre moved down
by ``shift_y * size``. The two 3DDFA_V2 rules are ``"detector"`` (FaceBoxes box: mean size,
shift 0.14, scale 1.58, side truncated to an integer) and ``"landmarks"`` (the 68-point box:
max size, no shift, scale sqrt(2)); ``"landmarks_tuned"`` (max size, shift 0.25, scale 1.45)
is ours, tuned on 300-W landmark boxes; ``"dlib_hog"`` (mean size, shift 0.2, scale 1.3) is
ours, tuned on 300-W boxes of dlib's HOG detector; docs/teacher.md has the measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from facerecon.errors import InvalidInputError

CROP_SIZE = 120


@dataclass(frozen=True)
class RoiRule:
    """How a face box becomes the teacher's square ROI.

    Attributes:
        scale: ROI side / box size.
        shift_y: downward shift of the centre, as a fraction of the box size.
        size_from: ``"mean"`` ((w + h) / 2) or ``"max"`` (max(w, h)).
        integer_side: truncate the side to an integer (3DDFA_V2's detector rule does).
    """

    scale: float
    shift_y: float = 0.0
    size_from: str = "mean"
    integer_side: bool = False


ROI_RULES: dict[str, RoiRule] = {
    "detector": RoiRule(scale=1.58, shift_y=0.14, size_from="mean", integer_side=True),
    "landmarks": RoiRule(scale=math.sqrt(2.0), shift_y=0.0, size_from="max"),
    # Grid search on 300-W HELEN landmark boxes (benchmarks/teacher_roi_rules.py): the middle
    # of the flat optimum, away from the cliff at shifts >= 0.3 with small scales.
    "landmarks_tuned": RoiRule(scale=1.45, shift_y=0.25, size_from="max"),
    # Grid search on 300-W HELEN with dlib_hog boxes (benchmarks/teacher_detector_roi.py): the
    # lowest 3x3-neighbourhood mean, which is also the lowest single grid point.
    "dlib_hog": RoiRule(scale=1.3, shift_y=0.2, size_from="mean"),
}


def roi_from_box(box, rule: str | RoiRule = "detector") -> np.ndarray:
    """Square teacher ROI from a face box.

    Args:
        box: (4,) ``xyxy`` face box (detector box or landmark bounding box).
        rule: a name in :data:`ROI_RULES` or a :class:`RoiRule`.

    Returns:
        (4,) float32 ``xyxy`` square ROI.

    >>> [round(float(v), 2) for v in roi_from_box([10, 10, 110, 110], "landmarks")]
    [-10.71, -10.71, 130.71, 130.71]
    """
    if isinstance(rule, str):
        if rule not in ROI_RULES:
            raise InvalidInputError(f"unknown ROI rule {rule!r}; known: {sorted(ROI_RULES)}")
        rule = ROI_RULES[rule]
    x1, y1, x2, y2 = np.asarray(box, dtype=np.float64).reshape(4)
    width, height = x2 - x1, y2 - y1
    if not (width > 0 and height > 0):
        raise InvalidInputError(f"box must be xyxy with positive size, got {box}")
    if rule.size_from == "mean":
        size = (width + height) / 2.0
    elif rule.size_from == "max":
        size = max(width, height)
    else:
        raise InvalidInputError(f"size_from must be 'mean' or 'max', got {rule.size_from!r}")
    centre_x = (x1 + x2) / 2.0
    centre_y = (y1 + y2) / 2.0 + rule.shift_y * size
    side = rule.scale * size
    if rule.integer_side:
        side = float(int(side))
    half = side / 2.0
    return np.array(
        [centre_x - half, centre_y - half, centre_x + half, centre_y + half], dtype=np.float32
    )


def landmark_box(points) -> np.ndarray:
    """(4,) float32 ``xyxy`` bounding box of (N, 2+) points (x, y columns)."""
    points = np.asarray(points, dtype=np.float32)
    if points.ndim != 2 or points.shape[1] < 2 or len(points) == 0:
        raise InvalidInputError(f"points must be (N, 2 or 3), got {points.shape}")
    return np.concatenate([points[:, :2].min(axis=0), points[:, :2].max(axis=0)])


def crop_roi_bgr(image_rgb: np.ndarray, roi) -> np.ndarray:
    """Crop a ROI from an RGB image into the teacher's (120, 120, 3) uint8 **BGR** input.

    Pixels of the rounded ROI window that fall outside the image are zero.
    The input image is not modified.
    """
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
        raise InvalidInputError(f"image must be (H, W, 3) uint8 RGB, got {image_rgb.shape}")
    sx, sy, ex, ey = (int(round(float(value))) for value in np.asarray(roi).reshape(4))
    if ex <= sx or ey <= sy:
        raise InvalidInputError(f"ROI must have positive size, got {roi}")
    height, width = image_rgb.shape[:2]
    window = np.zeros((ey - sy, ex - sx, 3), dtype=np.uint8)
    src_x1, src_y1 = max(sx, 0), max(sy, 0)
    src_x2, src_y2 = min(ex, width), min(ey, height)
    if src_x2 > src_x1 and src_y2 > src_y1:
        # Reversing the channel axis here is the RGB -> BGR conversion the weights expect.
        window[src_y1 - sy : src_y2 - sy, src_x1 - sx : src_x2 - sx] = image_rgb[
            src_y1:src_y2, src_x1:src_x2, ::-1
        ]
    return cv2.resize(window, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_LINEAR)


def crop_to_image(points_crop: np.ndarray, roi) -> np.ndarray:
    """Map (..., 68, 3) points of the 120x120 crop to image pixels with the unrounded ROI.

    x, y are scaled per axis by ``roi_side / 120`` and shifted by the ROI corner; z is scaled
    by the mean of the two scales (its origin stays arbitrary).
    """
    roi = np.asarray(roi, dtype=np.float32)
    scale_x = (roi[..., 2] - roi[..., 0]) / CROP_SIZE
    scale_y = (roi[..., 3] - roi[..., 1]) / CROP_SIZE
    out = np.empty_like(points_crop, dtype=np.float32)
    out[..., 0] = points_crop[..., 0] * scale_x[..., None] + roi[..., 0, None]
    out[..., 1] = points_crop[..., 1] * scale_y[..., None] + roi[..., 1, None]
    out[..., 2] = points_crop[..., 2] * ((scale_x + scale_y) / 2.0)[..., None]
    return out
