"""The one crop recipe: box or landmarks -> similarity transform -> fixed-size crop, and back.

Every model head sees faces through this module, and every crop-space result (a position
map, landmarks, vertices) returns to the image through :meth:`CropTransform.to_image`.

Conventions (see :mod:`facerecon.types`):

- Integer coordinates are pixel centres, in the image and in the crop alike: pixel
  (row r, col c) has its centre at (x=c, y=r), so an S-pixel crop spans [-0.5, S-0.5] on
  each axis. :meth:`CropTransform.warp` follows this exactly (OpenCV's ``warpAffine`` samples
  source pixel centres at integer coordinates), so a point's crop coordinates sample the
  image at that very point.
- The recipe squares map a square region of the image, of side ``side`` pixels about a
  centre ``c``, onto the whole crop: ``crop = (S / side) * (image - c) + (S - 1) / 2``.
- Points carry an optional z in the same pixel scale as x and y. z is **scaled** by the
  transform's scale and **never shifted**, so ``to_image(to_crop(p)) == p`` in 3D and depth
  differences keep their meaning (x, y and z scaled alike, as PRN's position maps need).
- :class:`CropTransform` holds any 2x3 similarity (uniform scale, rotation, translation;
  no reflection). The recipes below make axis-aligned crops (no rotation), as PRN does: the
  network sees the face's roll and regresses it; a rotated, landmark-aligned crop can still
  be expressed with the same class.

Example:
    >>> import numpy as np
    >>> crop = crop_from_box([100, 100, 200, 200], size=256, scale=1.6, center_shift=0.0)
    >>> crop.scale
    1.6
    >>> crop.to_crop(np.array([[150.0, 150.0, 10.0]])).tolist()
    [[127.5, 127.5, 16.0]]
    >>> crop.to_image(np.array([[127.5, 127.5, 16.0]])).tolist()
    [[150.0, 150.0, 10.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facerecon.errors import InvalidInputError


@dataclass(frozen=True)
class BoxCropParams:
    """How a detector's box becomes a crop square.

    Attributes:
        scale: crop side / mean box side, where mean box side = (w + h) / 2.
        center_shift: the crop centre moves down (towards the chin of an upright face) by
            this fraction of the mean box side; negative moves it up.
    """

    scale: float
    center_shift: float


#: Per box source: crop parameters that make its crop match the 68-point landmark crop
#: (``LANDMARK_CROP_PARAMS[68]``). Each detector frames faces
#: differently, so the detector entries are tuned from that detector's box statistics
#: against the 68-point landmark box with :func:`fit_box_crop_params` (medians over the
#: 300-W images in shared/data; settings, spread and command in
#: benchmarks/results/crop_params.json and docs/crop.md). Re-tune an entry whenever the
#: detector's settings change.
BOX_CROP_PARAMS: dict[str, BoxCropParams] = {
    # a box that is the extent of the 68 landmarks: the same as LANDMARK_CROP_PARAMS[68]
    "landmarks": BoxCropParams(scale=1.7, center_shift=-0.12),
    # user-given boxes (--box) are assumed to be tight face boxes like the landmark box;
    # this entry is an assumption, not a measurement
    "given": BoxCropParams(scale=1.7, center_shift=-0.12),
    # AFLW2000-3D benchmark ROI boxes (3DDFA's rule: sqrt(2) max(w, h) of the landmark box,
    # same centre): fitted on 300-W ROIs made by that rule, never on the AFLW test labels
    # (benchmarks/aflw_roi_crop.py, docs/evaluation.md)
    "aflw_roi": BoxCropParams(scale=1.168, center_shift=-0.082),
    # measured: dlib.get_frontal_face_detector(), upsample 0, 1128 of 1207 faces matched
    "dlib_hog": BoxCropParams(scale=1.633, center_shift=-0.008),
    # measured: haarcascade_frontalface_default, scaleFactor 1.1, minNeighbors 5, 1036 faces
    "opencv_haar": BoxCropParams(scale=1.434, center_shift=0.045),
}


def box_crop_params(source: str) -> BoxCropParams:
    """Return ``BOX_CROP_PARAMS[source]``; unknown names raise :class:`InvalidInputError`."""
    try:
        return BOX_CROP_PARAMS[source]
    except KeyError:
        known = ", ".join(sorted(BOX_CROP_PARAMS))
        raise InvalidInputError(
            f"no crop parameters for box source {source!r}; known: {known}"
        ) from None


@dataclass(frozen=True)
class CropTransform:
    """A similarity from image pixels to the pixels of a ``size`` x ``size`` crop.

    Attributes:
        matrix: (2, 3) float64, read-only: ``[x_crop, y_crop] = matrix @ [x, y, 1]``. Its 2x2
            part must be a positive uniform scale times a rotation (no shear, no reflection).
        size: side S of the square crop in pixels.
    """

    matrix: np.ndarray
    size: int

    def __post_init__(self) -> None:
        matrix = np.array(self.matrix, dtype=np.float64, copy=True)
        if matrix.shape != (2, 3) or not np.all(np.isfinite(matrix)):
            raise InvalidInputError(f"matrix must be a finite (2, 3) array, got {matrix.shape}")
        a, b, c, d = matrix[0, 0], matrix[0, 1], matrix[1, 0], matrix[1, 1]
        norm = max(abs(a), abs(b), abs(c), abs(d))
        # relative tolerance: matrices estimated in float32 are similarities up to rounding
        if norm == 0 or abs(a - d) > 1e-6 * norm or abs(b + c) > 1e-6 * norm:
            raise InvalidInputError(
                f"matrix must be a similarity [[s*cos, -s*sin, tx], [s*sin, s*cos, ty]], "
                f"got {matrix.tolist()}"
            )
        _check_size(self.size)
        matrix.setflags(write=False)
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "size", int(self.size))

    @property
    def scale(self) -> float:
        """Crop pixels per image pixel (also the factor applied to z)."""
        return float(np.hypot(self.matrix[0, 0], self.matrix[1, 0]))

    def inverse(self) -> np.ndarray:
        """(2, 3) float64: the crop -> image matrix (a fresh array)."""
        return cv2.invertAffineTransform(self.matrix)

    def to_crop(self, points) -> np.ndarray:
        """Map image points (..., 2) or (..., 3) to crop points of the same shape.

        z (the third column, if any) is multiplied by :attr:`scale` and not shifted. The
        result is a new array: float64 for float64 input, float32 otherwise. NaN propagates.
        """
        return _apply(self.matrix, self.scale, points)

    def to_image(self, points) -> np.ndarray:
        """Map crop points (..., 2) or (..., 3) back to the image (exact inverse of to_crop).

        Works on whole position maps, (H, W, 3), as well as on point lists (N, 3).
        """
        return _apply(self.inverse(), 1.0 / self.scale, points)

    def warp(self, image: np.ndarray, supersample: int = 1) -> np.ndarray:
        """Sample the crop from an (H, W, 3) uint8 image; returns a new (S, S, 3) uint8 array.

        Bilinear interpolation (OpenCV quantises sample positions to 1/32 pixel); crop pixels
        whose source lies outside the image are 0 (black), and those within one pixel of the
        border blend with that black. Crop pixel (row r, col c) holds the image sampled at
        ``to_image([c, r])``.

        Args:
            image: the photo.
            supersample: k >= 1. With k > 1 the crop is first sampled at k*S (bilinear) and
                every k x k block is then averaged (``INTER_AREA``), so a photo much larger
                than the crop is smoothed rather than aliased. This is the chain a model's
                training crops went through (build crops at 256 resized to a 128 network's
                input: k = 2, :attr:`~facerecon.models.ModelConfig.crop_supersample`).
        """
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise InvalidInputError(
                f"image must be (H, W, 3) uint8, got {image.shape} {image.dtype}"
            )
        if (isinstance(supersample, bool) or not isinstance(supersample, int | np.integer)
                or supersample < 1):
            raise InvalidInputError(f"supersample must be an integer >= 1, got {supersample!r}")
        size = self.size * int(supersample)
        # Pixel centres: fine pixel k*c + (k-1)/2 lies at the centre of crop pixel c's block.
        offset = (supersample - 1) / 2.0
        matrix = self.matrix * supersample + np.array([[0, 0, offset], [0, 0, offset]])
        sampled = cv2.warpAffine(
            image,
            matrix,
            (size, size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )
        if supersample == 1:
            return sampled
        return cv2.resize(sampled, (self.size, self.size), interpolation=cv2.INTER_AREA)


def _apply(matrix: np.ndarray, z_scale: float, points) -> np.ndarray:
    points = np.asarray(points)
    if points.ndim < 1 or points.shape[-1] not in (2, 3):
        raise InvalidInputError(f"points must have shape (..., 2) or (..., 3), got {points.shape}")
    if not (np.issubdtype(points.dtype, np.floating) or np.issubdtype(points.dtype, np.integer)):
        raise InvalidInputError(f"points must be numeric, got dtype {points.dtype}")
    out_dtype = np.float64 if points.dtype == np.float64 else np.float32
    x = points[..., 0].astype(np.float64)
    y = points[..., 1].astype(np.float64)
    result = np.empty(points.shape, dtype=np.float64)
    # element-wise rather than a matmul over the last axis: ~30x faster on position maps
    result[..., 0] = matrix[0, 0] * x + matrix[0, 1] * y + matrix[0, 2]
    result[..., 1] = matrix[1, 0] * x + matrix[1, 1] * y + matrix[1, 2]
    if points.shape[-1] == 3:
        result[..., 2] = points[..., 2] * z_scale
    return result.astype(out_dtype, copy=False)


def _float_array(value, name: str) -> np.ndarray:
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{name} must be numeric: {error}") from None


def _check_size(size) -> None:
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise InvalidInputError(f"size must be a positive integer, got {size!r}")


def _square_crop(center_x: float, center_y: float, side: float, size: int,
                 turn: np.ndarray | None = None) -> CropTransform:
    """The crop of ``side`` image pixels about (center_x, center_y), sampled at ``size``;
    ``turn``: an optional (2, 2) rotation applied to the image before cropping."""
    _check_size(size)
    scale = size / side
    half = (size - 1) / 2.0
    linear = scale * (np.eye(2) if turn is None else turn)
    shift = half - linear @ np.array([center_x, center_y])
    return CropTransform(matrix=np.concatenate([linear, shift[:, None]], axis=1), size=int(size))


def _extent(points: np.ndarray, name: str) -> tuple[float, float, float, float]:
    x1, y1 = points[:, 0].min(), points[:, 1].min()
    x2, y2 = points[:, 0].max(), points[:, 1].max()
    if not (x2 > x1 and y2 > y1):
        raise InvalidInputError(f"{name} span no area: x {x1}..{x2}, y {y1}..{y2}")
    return float(x1), float(y1), float(x2), float(y2)


def crop_from_box(
    box, size: int = 256, scale: float = 1.6, center_shift: float = 0.0
) -> CropTransform:
    """Square crop around a face box (PRN's recipe, parametrised per detector).

    The crop side is ``scale * (w + h) / 2`` and its centre is the box centre moved down by
    ``center_shift * (w + h) / 2``. Take ``scale`` and ``center_shift`` from
    :data:`BOX_CROP_PARAMS` for the detector that made the box. The crop may extend past the
    image border; :meth:`CropTransform.warp` fills that part with black.

    Args:
        box: (4,) ``xyxy`` image pixels with x1 < x2, y1 < y2 (any array-like; not modified).
        size: crop side S in pixels.
        scale: crop side / mean box side, > 0.
        center_shift: downward shift of the centre as a fraction of the mean box side.
    """
    box = _float_array(box, "box")
    if box.shape != (4,) or not np.all(np.isfinite(box)):
        raise InvalidInputError(f"box must be 4 finite numbers x1, y1, x2, y2, got {box.tolist()}")
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (x2 > x1 and y2 > y1):
        raise InvalidInputError(f"box must be xyxy with x1 < x2 and y1 < y2, got {box.tolist()}")
    if not (np.isfinite(scale) and scale > 0 and np.isfinite(center_shift)):
        raise InvalidInputError(
            f"scale must be > 0 and center_shift finite, got {scale}, {center_shift}"
        )
    mean_side = ((x2 - x1) + (y2 - y1)) / 2.0
    center_y = (y1 + y2) / 2.0 + center_shift * mean_side
    return _square_crop((x1 + x2) / 2.0, center_y, scale * mean_side, size)


#: Crop parameters about the landmark box, by number of points. 68: PRN's 1.6 about the
#: landmark-box centre. 5 (eye centres, nose tip, mouth corners): their box is much smaller
#: and sits above the face centre; the values, fitted to the 68-point crop on the 1207
#: 300-W faces in shared/data (benchmarks/crop_params.py), make the two crops match.
LANDMARK_CROP_PARAMS: dict[int, BoxCropParams] = {
    # 1.7 about a centre 0.12 box sides above the landmark-box centre, not PRN's 1.6 about
    # the centre: our position map covers the whole forehead, which 1.6 puts above the crop
    # (y = -18 px at 256 for the canonical face); this keeps it inside (y 9..225).
    68: BoxCropParams(scale=1.7, center_shift=-0.12),
    5: BoxCropParams(scale=3.551, center_shift=-0.103),
}


def crop_from_landmarks(landmarks, size: int = 256, roll: float = 0.0) -> CropTransform:
    """Square crop from 68 or 5 landmarks (tighter and steadier than a detector box).

    Uses the landmarks' x, y extent with :data:`LANDMARK_CROP_PARAMS`; a third column (z)
    is ignored. This is what a second pass uses to re-crop from first-pass landmarks.

    Args:
        landmarks: (68, 2|3) iBUG order or (5, 2|3) (eyes, nose, mouth corners); finite.
        size: crop side S in pixels.
        roll: the head's roll in degrees (:class:`facerecon.apps.pose.Pose` convention,
            e.g. a first pass's ``face.pose.roll``). The crop turns with the head so that
            the face stands upright in it; the extent and the centre shift are taken in
            that upright frame. 0 (the default, and the build's recipe): axis-aligned.
    """
    points = _float_array(landmarks, "landmarks")
    counts = tuple(LANDMARK_CROP_PARAMS)
    if points.ndim != 2 or points.shape[0] not in counts or points.shape[1] not in (2, 3):
        raise InvalidInputError(f"landmarks must be (68 or 5, 2 or 3), got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise InvalidInputError("landmarks hold NaN or infinite values")
    if not np.isfinite(roll):
        raise InvalidInputError(f"roll must be a finite angle in degrees, got {roll}")
    params = LANDMARK_CROP_PARAMS[points.shape[0]]
    # upright = turn @ image point: the image turned by -roll (exactly the identity at 0)
    angle = np.deg2rad(-float(roll))
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    x1, y1, x2, y2 = _extent(points[:, :2] @ turn.T, "landmarks")
    mean_side = ((x2 - x1) + (y2 - y1)) / 2.0
    upright_center = np.array([(x1 + x2) / 2.0, (y1 + y2) / 2.0 + params.center_shift * mean_side])
    center_x, center_y = upright_center @ turn  # back to image pixels (turn^-1 = turn^T)
    return _square_crop(center_x, center_y, params.scale * mean_side, size, turn)


def fit_box_crop_params(boxes, landmarks68) -> BoxCropParams:
    """Tune :class:`BoxCropParams` for a box source from matched boxes and 68-point landmarks.

    Picks the scale and shift that make ``crop_from_box(box, ...)`` match
    ``crop_from_landmarks(landmarks68)`` in the median: scale = 1.6 * median(landmark-box
    side / box side), center_shift = median((landmark-box centre y - box centre y) / box side),
    sides being (w + h) / 2.

    Args:
        boxes: (N, 4) ``xyxy``, one per face (N >= 1).
        landmarks68: (N, 68, 2|3), the same faces' landmarks.
    """
    boxes = _float_array(boxes, "boxes")
    points = _float_array(landmarks68, "landmarks68")
    if boxes.ndim != 2 or boxes.shape[1] != 4 or len(boxes) == 0:
        raise InvalidInputError(f"boxes must be (N >= 1, 4), got {boxes.shape}")
    if points.ndim != 3 or points.shape[:2] != (len(boxes), 68):
        raise InvalidInputError(f"landmarks68 must be ({len(boxes)}, 68, 2|3), got {points.shape}")
    box_side = ((boxes[:, 2] - boxes[:, 0]) + (boxes[:, 3] - boxes[:, 1])) / 2.0
    if not np.all(box_side > 0):
        raise InvalidInputError("every box must have x1 < x2 and y1 < y2")
    low, high = points[..., :2].min(axis=1), points[..., :2].max(axis=1)
    mark_side = ((high[:, 0] - low[:, 0]) + (high[:, 1] - low[:, 1])) / 2.0
    mark_cy = (low[:, 1] + high[:, 1]) / 2.0
    box_cy = (boxes[:, 1] + boxes[:, 3]) / 2.0
    reference = LANDMARK_CROP_PARAMS[68]
    target_cy = mark_cy + reference.center_shift * mark_side
    return BoxCropParams(
        scale=float(reference.scale * np.median(mark_side / box_side)),
        center_shift=float(np.median((target_cy - box_cy) / box_side)),
    )
