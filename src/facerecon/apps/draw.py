"""Pictures of a reconstruction: landmark overlay with a pose box, depth colour map, UV sheet.

Every function returns a new (H, W, 3) uint8 RGB array and never modifies its inputs;
writing files is the CLI's job. Coordinates are image pixels (x right, y down, integer =
pixel centre); lines and circles are anti-aliased (``cv2.LINE_AA``) and placed with
sub-pixel precision (fixed point, 4 fractional bits).
"""

from __future__ import annotations

import cv2
import numpy as np

from facerecon.apps.depth import depth_to_uint8
from facerecon.apps.pose import Pose
from facerecon.apps.texture import rgb_image, uv_mask_at
from facerecon.errors import InvalidInputError
from facerecon.topology.uv_topology import UVTopology

__all__ = ["LANDMARK_CONTOURS", "depth_colormap", "draw_overlay", "uv_texture_sheet"]

# iBUG 68 contours (0-based): (first, last, closed).
LANDMARK_CONTOURS = ((0, 16, False), (17, 21, False), (22, 26, False), (27, 30, False),
                     (31, 35, False), (36, 41, True), (42, 47, True), (48, 59, True),
                     (60, 67, True))
VISIBLE_COLOR = (60, 230, 60)
HIDDEN_COLOR = (255, 150, 30)
DENSE_COLOR = (80, 200, 255)
BOX_COLOR = (255, 230, 60)
FRONT_COLOR = (255, 80, 80)
AXIS_COLORS = ((255, 60, 60), (60, 255, 60), (80, 120, 255))  # x, y, z
_SHIFT = 4
_ONE = 1 << _SHIFT


def _fixed(point) -> tuple[int, int]:
    return int(round(float(point[0]) * _ONE)), int(round(float(point[1]) * _ONE))


def _points(value, name: str, rows: int | None = None) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] not in (2, 3) or (rows and array.shape[0] != rows):
        raise InvalidInputError(f"{name} must be ({rows or 'N'}, 2 or 3), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} holds NaN or infinite values")
    return array


def _line(canvas, a, b, color, thickness) -> None:
    cv2.line(canvas, _fixed(a), _fixed(b), color, thickness, cv2.LINE_AA, _SHIFT)


def pose_box_corners(landmarks: np.ndarray, pose: Pose) -> np.ndarray:
    """(8, 3) image-frame corners of a box around the face, aligned with the head.

    The landmarks are taken into the pose's canonical frame; the box spans their x range,
    their y range extended upwards by 40 % (the forehead), and their z range extended 20 %
    backwards; then it is mapped to the image by the pose. Corners 0-3 are the front
    (nearest in canonical z) face.
    """
    canonical = (landmarks - pose.translation) @ pose.rotation / pose.scale
    low, high = canonical.min(axis=0), canonical.max(axis=0)
    span = high - low
    low = low - np.array([0.0, 0.4 * span[1], 0.2 * span[2]])
    x = (low[0], high[0], high[0], low[0])
    y = (low[1], low[1], high[1], high[1])
    front = [(x[i], y[i], high[2]) for i in range(4)]
    back = [(x[i], y[i], low[2]) for i in range(4)]
    return pose.project(np.array(front + back))


def draw_overlay(image, landmarks, visibility=None, dense_points=None, pose: Pose | None = None,
                 *, pose_style: str = "box", max_dense_points: int = 4000,
                 contours: bool = True) -> np.ndarray:
    """Landmarks, dense points and head pose drawn over a photo.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        landmarks: (68, 2 or 3) iBUG landmarks in image pixels.
        visibility: optional (68,) bool; hidden landmarks are drawn as hollow orange rings,
            visible ones as filled green dots (all filled green when None).
        dense_points: optional (N, 2 or 3) points (e.g. the dense vertices), drawn as small
            light-blue dots, evenly subsampled to at most ``max_dense_points``.
        pose: optional :class:`facerecon.apps.pose.Pose` of the face.
        pose_style: ``"box"``: a head-aligned 3D box (:func:`pose_box_corners`; front face
            red, rest yellow); ``"axes"``: the pose's x (red, subject's left), y (green,
            down) and z (blue, towards the camera when frontal) axes from the nose tip.
        max_dense_points: subsampling limit for ``dense_points``.
        contours: draw the landmark contours (jaw, brows, nose, eyes, lips) as thin lines.

    Returns:
        (H, W, 3) uint8 RGB, a new array. Sizes scale with the landmarks' extent.
    """
    canvas = rgb_image(image).copy()
    marks = _points(landmarks, "landmarks", 68)
    hidden = np.zeros(68, dtype=bool)
    if visibility is not None:
        visibility = np.asarray(visibility)
        if visibility.shape != (68,) or visibility.dtype != np.bool_:
            raise InvalidInputError(f"visibility must be (68,) bool, got {visibility.dtype} "
                                    f"{visibility.shape}")
        hidden = ~visibility
    if pose_style not in ("box", "axes"):
        raise InvalidInputError(f"pose_style must be 'box' or 'axes', got {pose_style!r}")
    extent = max(float(np.ptp(marks[:, :2], axis=0).max()), 1.0)
    thickness = max(1, int(round(extent / 250)))
    radius = max(1.5, extent / 90)

    if dense_points is not None:
        points = _points(dense_points, "dense_points")
        stride = max(1, int(np.ceil(len(points) / max(int(max_dense_points), 1))))
        cols, rows = np.rint(points[::stride, :2]).astype(np.int64).T
        height, width = canvas.shape[:2]
        inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
        rows, cols = rows[inside], cols[inside]
        canvas[rows, cols] = (0.4 * canvas[rows, cols] + 0.6 * np.array(DENSE_COLOR)
                              ).astype(np.uint8)

    if pose is not None:
        if not isinstance(pose, Pose):
            raise InvalidInputError(f"pose must be a Pose, got {type(pose).__name__}")
        if pose_style == "box":
            corners = pose_box_corners(marks if marks.shape[1] == 3 else
                                       np.column_stack([marks, np.zeros(68)]), pose)
            for i in range(4):
                _line(canvas, corners[4 + i], corners[4 + (i + 1) % 4], BOX_COLOR, thickness)
                _line(canvas, corners[i], corners[4 + i], BOX_COLOR, thickness)
            for i in range(4):
                _line(canvas, corners[i], corners[(i + 1) % 4], FRONT_COLOR, thickness)
        else:
            origin = marks[30, :2]
            for axis, color in enumerate(AXIS_COLORS):
                tip = origin + 0.5 * extent * pose.rotation[:2, axis]
                cv2.arrowedLine(canvas, _fixed(origin), _fixed(tip), color, thickness + 1,
                                cv2.LINE_AA, _SHIFT, 0.15)

    if contours:
        layer = canvas.copy()
        for first, last, closed in LANDMARK_CONTOURS:
            idx = list(range(first, last + 1)) + ([first] if closed else [])
            for a, b in zip(idx[:-1], idx[1:], strict=True):
                color = HIDDEN_COLOR if hidden[a] or hidden[b] else (235, 235, 235)
                _line(layer, marks[a], marks[b], color, thickness)
        canvas = cv2.addWeighted(layer, 0.6, canvas, 0.4, 0.0)
    fixed_radius = int(round(radius * _ONE))
    for point, is_hidden in zip(marks, hidden, strict=True):
        if is_hidden:
            cv2.circle(canvas, _fixed(point), fixed_radius, HIDDEN_COLOR, thickness,
                       cv2.LINE_AA, _SHIFT)
        else:
            cv2.circle(canvas, _fixed(point), fixed_radius, (20, 20, 20), -1, cv2.LINE_AA,
                       _SHIFT)
            cv2.circle(canvas, _fixed(point), int(round(0.7 * radius * _ONE)), VISIBLE_COLOR,
                       -1, cv2.LINE_AA, _SHIFT)
    return canvas


def depth_colormap(depth, mask=None) -> np.ndarray:
    """A colour picture of a depth image with OpenCV's Turbo colour map.

    Args:
        depth: (H, W) real depth, larger = nearer (:func:`facerecon.apps.depth.depth_image`).
        mask: optional (H, W) bool face pixels (default: finite, non-zero pixels).

    Returns:
        (H, W, 3) uint8 RGB: nearest face pixel dark red, farthest dark blue (Turbo runs
        blue - cyan - green - yellow - red with increasing nearness), background black.
    """
    grey = depth_to_uint8(depth, mask)
    face = grey > 0
    coloured = cv2.cvtColor(cv2.applyColorMap(grey, cv2.COLORMAP_TURBO), cv2.COLOR_BGR2RGB)
    coloured[~face] = 0
    return coloured


def _label(panel: np.ndarray, text: str) -> np.ndarray:
    scale = panel.shape[0] / 640
    cv2.putText(panel, text, (4, panel.shape[0] - 6), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 0), max(1, int(round(2 * scale))), cv2.LINE_AA)
    return panel


def uv_texture_sheet(texture, visible, topology: UVTopology, filled=None,
                     labels: bool = True) -> np.ndarray:
    """A row of UV panels: the sampled texture, its visibility, the filled texture, regions.

    Args:
        texture: (T, T, 3) uint8 sampled texture (``UVTexture.texture``).
        visible: (T, T) bool visible texels.
        topology: the UV topology (regions and landmarks are drawn at size T).
        filled: optional (T, T, 3) uint8 texture after :func:`facerecon.apps.texture.fill_hidden`.
        labels: write a caption on each panel.

    Returns:
        (T, k * T, 3) uint8 RGB, k = 3 or 4 panels: the texture with hidden texels darkened
        and hatched orange; the visibility (white visible, grey hidden, black off the mask);
        the filled texture (if given); region outlines and the 68 landmark positions over
        the filled (else sampled) texture.
    """
    texture = rgb_image(texture, "texture")
    size = texture.shape[0]
    visible = np.asarray(visible)
    if texture.shape != (size, size, 3) or visible.shape != (size, size):
        raise InvalidInputError(f"texture must be (T, T, 3) with visible (T, T), got "
                                f"{texture.shape} and {visible.shape}")
    mask = uv_mask_at(topology, size)
    visible = visible.astype(bool) & mask
    sampled = texture.copy()
    dim = ~visible & mask
    rows, cols = np.mgrid[0:size, 0:size]
    hatch = dim & (((rows + cols) // max(1, size // 64)) % 3 == 0)
    sampled[dim] = (0.45 * sampled[dim]).astype(np.uint8)
    sampled[hatch] = HIDDEN_COLOR
    visibility = np.zeros_like(texture)
    visibility[mask] = 90
    visibility[visible] = 255
    panels = [(sampled, "sampled (hidden hatched)"), (visibility, "visible texels")]
    base = texture
    if filled is not None:
        base = rgb_image(filled, "filled")
        if base.shape != texture.shape:
            raise InvalidInputError(f"filled must be {texture.shape}, got {base.shape}")
        panels.append((base.copy(), "hidden texels filled"))
    regions = base.copy()
    scale = size / topology.resolution
    for name, color in (("face", (255, 255, 255)), ("nose", (255, 80, 255)),
                        ("mouth", (255, 230, 40)), ("eye_right", (60, 255, 60)),
                        ("eye_left", (60, 220, 255))):
        region = cv2.resize(topology.region_masks[name].astype(np.uint8), (size, size),
                            interpolation=cv2.INTER_NEAREST)
        outline, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(regions, outline, -1, color, max(1, size // 256), cv2.LINE_AA)
    for col, row in topology.landmark_uv:
        centre = ((col + 0.5) * scale - 0.5, (row + 0.5) * scale - 0.5)
        cv2.circle(regions, _fixed(centre), int(max(1.5, size / 200) * _ONE), (255, 40, 40),
                   -1, cv2.LINE_AA, _SHIFT)
    panels.append((regions, "regions + landmarks"))
    return np.hstack([_label(p, text) if labels else p for p, text in panels])
