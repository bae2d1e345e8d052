"""Pictures for checking samples by eye: landmarks drawn on crops, and contact sheets.

Pure functions returning new uint8 RGB arrays; the CLI writes them.
"""

from __future__ import annotations

import cv2
import numpy as np

from facerecon.errors import InvalidInputError

VISIBLE_COLOR = (40, 230, 40)  # RGB, filled dots
HIDDEN_COLOR = (255, 60, 60)  # RGB, hollow rings


def draw_landmarks(image: np.ndarray, landmarks, visible=None) -> np.ndarray:
    """Draw 68 landmarks on a copy of ``image``: visible ones as filled green dots, hidden
    (self-occluded) ones as red rings, and the jaw, brows, nose, eyes and lips as thin lines.

    Args:
        image: (H, W, 3) uint8 RGB.
        landmarks: (68, 2|3) image pixels (x, y used).
        visible: optional (68,) bool; all visible when omitted.
    """
    image = np.asarray(image)
    points = np.asarray(landmarks, dtype=np.float64)
    if image.dtype != np.uint8 or image.ndim != 3 or points.shape[0] != 68:
        raise InvalidInputError("need an (H, W, 3) uint8 image and (68, 2|3) landmarks")
    shown = np.ones(68, dtype=bool) if visible is None else np.asarray(visible, dtype=bool)
    canvas = np.ascontiguousarray(image.copy())
    shift = 4  # sub-pixel drawing: coordinates in 1/16 pixel
    fixed = np.rint(points[:, :2] * (1 << shift)).astype(np.int32)
    radius = max(1, round(image.shape[0] / 110))
    for start, stop, closed in ((0, 17, False), (17, 22, False), (22, 27, False),
                                (27, 31, False), (31, 36, False), (36, 42, True),
                                (42, 48, True), (48, 60, True), (60, 68, True)):
        cv2.polylines(canvas, [fixed[start:stop]], closed, (230, 230, 230), 1, cv2.LINE_AA,
                      shift)
    for index in range(68):
        center = (int(fixed[index, 0]), int(fixed[index, 1]))
        if shown[index]:
            cv2.circle(canvas, center, radius << shift, VISIBLE_COLOR, -1, cv2.LINE_AA, shift)
        else:
            cv2.circle(canvas, center, (radius + 1) << shift, HIDDEN_COLOR, 1, cv2.LINE_AA,
                       shift)
    return canvas


def contact_sheet(rows: list[list[np.ndarray]], labels: list[list[str]] | None = None,
                  gap: int = 4) -> np.ndarray:
    """Tile equally sized (S, S, 3) uint8 tiles into rows (short rows are padded with grey),
    with an optional caption in each tile's top-left corner."""
    if not rows or not rows[0]:
        raise InvalidInputError("contact_sheet needs at least one tile")
    size = rows[0][0].shape[0]
    columns = max(len(row) for row in rows)
    height = len(rows) * size + (len(rows) + 1) * gap
    width = columns * size + (columns + 1) * gap
    sheet = np.full((height, width, 3), 40, dtype=np.uint8)
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            if tile.shape != (size, size, 3):
                raise InvalidInputError(f"tile {r},{c} is {tile.shape}, expected {size}x{size}")
            top, left = gap + r * (size + gap), gap + c * (size + gap)
            sheet[top:top + size, left:left + size] = tile
            if labels is not None and c < len(labels[r]) and labels[r][c]:
                cv2.putText(sheet, labels[r][c], (left + 3, top + 14), cv2.FONT_HERSHEY_SIMPLEX,
                            0.4, (255, 255, 0), 1, cv2.LINE_AA)
    return sheet
