"""Ground truth for one photo: 68 landmarks -> fitted ICT face -> crop -> position map.

The chain (issue 4, item 4):

1. :func:`fit_photo`: :class:`facerecon.morphable.fit.IctFitter` fits ICT identity,
   expression and a scaled-orthographic pose to the photo's 68 landmarks (human 2D points
   with the jaw as a silhouette, or the teacher's 3D points), giving the 9,409 face-region
   vertices in image coordinates (x right, y down, z in pixels, larger z nearer); with a
   :class:`facerecon.morphable.snap.LandmarkSnap` the fitted face is then moved smoothly so
   its landmark vertices lie on the given landmarks (the fit alone stays ~2.5 % of the box
   away from them, partly systematically; docs/data.md).
2. :func:`crop_for_face`: the pipeline's own crop recipe,
   :func:`facerecon.crop.crop_from_landmarks` (``LANDMARK_CROP_PARAMS[68]``: now side 1.7
   landmark boxes about a centre moved up 0.12 box sides, the same as ``crop_from_box``
   with ``BOX_CROP_PARAMS["landmarks"]``), applied to the **fitted
   face's** 68 landmark vertices. Real and synthetic samples thus share one rule, and the
   rule is the one a second inference pass applies to the network's own landmarks.
3. :func:`make_sample`: the photo warped into the S x S crop and the region vertices mapped
   into crop pixels (z scaled, never shifted) and encoded into the R x R position map with
   :func:`facerecon.posmap.encode`. Position-map values are **pixels of the S x S crop**
   whatever R is; a network working at input size s uses ``(s / S) * (p + 0.5) - 0.5`` for
   x and y and ``(s / S) * z`` (pixel centres at integers, :mod:`facerecon.crop`).
4. :func:`uv_texture`: the photo sampled into UV by the position map (``cv2.remap`` at the
   map's x, y), as PRN's texture.

A fit is dropped unless ``FitResult.is_plausible()`` (the fitting module's rule, docs/fitting.md:
the face looks towards the camera and ``residual_nme``, the RMS 2D landmark error /
sqrt(w * h) of the landmark box, is at most ``DROP_RESIDUAL_NME`` = 0.046); the residuals
measured on our sources are in docs/data.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facerecon.crop import CropTransform, crop_from_landmarks
from facerecon.errors import InvalidInputError
from facerecon.morphable.fit import FitResult, IctFitter
from facerecon.morphable.ict import IctModel
from facerecon.morphable.snap import LandmarkSnap
from facerecon.posmap import encode
from facerecon.render import rasterize, vertex_visibility
from facerecon.topology import UVTopology


@dataclass(frozen=True, eq=False)
class FittedPhoto:
    """A photo with its fitted face.

    Attributes:
        image: (H, W, 3) uint8 RGB photo.
        vertices: (V, 3) float32 ICT face-region vertices in image coordinates (snapped onto
            the annotation when :func:`fit_photo` was given a snap).
        fit: the landmark fit (pose, weights, residual; always of the unsnapped fit).
        annotation: (68, 3) float32 the landmarks that were fitted (z NaN for 2D input).
    """

    image: np.ndarray
    vertices: np.ndarray
    fit: FitResult
    annotation: np.ndarray


@dataclass(frozen=True, eq=False)
class Sample:
    """One training sample in crop space.

    Attributes:
        image: (S, S, 3) uint8 RGB crop.
        posmap: (R, R, 3) float32 position map, values in pixels of the S x S crop.
        landmarks: (68, 3) float32 the 68 landmarks read from ``posmap`` (crop pixels).
        visible: (68,) bool landmark not hidden by the face itself in ``image``.
        yaw, pitch, roll: head pose in degrees (:mod:`facerecon.apps.pose`).
    """

    image: np.ndarray
    posmap: np.ndarray
    landmarks: np.ndarray
    visible: np.ndarray
    yaw: float
    pitch: float
    roll: float


def fit_photo(image: np.ndarray, landmarks, fitter: IctFitter, model: IctModel,
              snap: LandmarkSnap | None = None, weights=None) -> FittedPhoto:
    """Fit ICT to a photo's (68, 2) or (68, 3) landmarks (image pixels, iBUG order).

    Args:
        snap: when given, the fitted vertices are moved onto the landmarks (module docstring).
        weights: optional (68,) per-landmark weights of the fit (the snap uses every point).

    Raises:
        InvalidInputError: bad image or landmarks.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise InvalidInputError(f"image must be (H, W, 3) uint8, got {image.shape} {image.dtype}")
    points = np.asarray(landmarks, dtype=np.float32)
    fit = fitter.fit(points, weights)
    annotation = np.full((68, 3), np.nan, dtype=np.float32)
    annotation[:, : points.shape[1]] = points
    vertices = fit.vertices(model)
    if snap is not None:
        vertices = snap.snap(vertices, fit.landmark_vertices, points)
    return FittedPhoto(image=image, vertices=vertices, fit=fit, annotation=annotation)


def crop_for_face(vertices: np.ndarray, topology: UVTopology, size: int) -> CropTransform:
    """The S x S crop of a face from its region vertices (image coordinates): the 68-point
    landmark recipe of :func:`facerecon.crop.crop_from_landmarks` on its landmark vertices."""
    return crop_from_landmarks(np.asarray(vertices)[topology.landmark_vertices, :2], size)


def visibility_tolerance(size: int) -> float:
    """z slack (pixels) for landmark and texel visibility in an S-pixel view: 1 % of S,
    about 2.5 px at 256, well under the nose's height above the cheeks yet above the
    difference between a point and the triangles drawn around it."""
    return 0.01 * size


def make_sample(photo: FittedPhoto, topology: UVTopology, size: int) -> Sample:
    """Crop a fitted photo and encode its position map.

    Args:
        photo: the fitted photo.
        topology: the position map's topology (its resolution is R).
        size: crop side S in pixels.
    """
    crop = crop_for_face(photo.vertices, topology, size)
    crop_vertices = crop.to_crop(photo.vertices)
    posmap = encode(crop_vertices, topology)
    landmarks = crop_vertices[topology.landmark_vertices].astype(np.float32)
    raster = rasterize(crop_vertices, topology.region_triangles, size, size)
    pose = photo.fit.pose
    return Sample(image=crop.warp(photo.image), posmap=posmap, landmarks=landmarks,
                  visible=vertex_visibility(landmarks, raster, visibility_tolerance(size)),
                  yaw=pose.yaw, pitch=pose.pitch, roll=pose.roll)


def uv_texture(image: np.ndarray, image_posmap: np.ndarray, uv_mask: np.ndarray) -> np.ndarray:
    """Sample a photo into UV: ``texture[r, c] = image at image_posmap[r, c, :2]`` (bilinear).

    Args:
        image: (H, W, 3) uint8 RGB.
        image_posmap: (R, R, 3) position map in the pixels of ``image``.
        uv_mask: (R, R) bool valid pixels; others are 0 in the result.

    Returns:
        (R, R, 3) uint8 texture; texels whose point lies off the image are 0.
    """
    map_x = np.ascontiguousarray(image_posmap[..., 0], dtype=np.float32)
    map_y = np.ascontiguousarray(image_posmap[..., 1], dtype=np.float32)
    texture = cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    texture[~uv_mask] = 0
    return texture
