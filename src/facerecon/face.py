"""The :class:`Face` result: one reconstructed face, everything in image pixels.

Cheap results (landmarks, dense vertices) are filled when the face is made; the rest (colours,
visibility, pose, depth, meshes) are computed on first access and cached.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

from facerecon.apps.depth import depth_image
from facerecon.apps.frontalize import frontalize
from facerecon.apps.pose import Pose, PoseFitter
from facerecon.crop import CropTransform
from facerecon.mesh import Mesh
from facerecon.posmap import decode, decode_landmarks
from facerecon.render import rasterize, vertex_visibility
from facerecon.topology import UVTopology

# A dense vertex counts as visible when it is at most this many pixels behind the z-buffer;
# the decoded surface is smooth at this scale, so one pixel absorbs interpolation noise.
VISIBILITY_TOLERANCE_PX = 1.0


@functools.lru_cache(maxsize=4)
def canonical_dense_vertices(topology: UVTopology) -> np.ndarray:
    """(N, 3) dense vertices of the topology's canonical frontal face (decoded once)."""
    vertices = decode(topology.canonical_posmap, topology).vertices
    vertices.setflags(write=False)
    return vertices


@functools.lru_cache(maxsize=4)
def canonical_landmarks(topology: UVTopology) -> np.ndarray:
    """(68, 3) landmarks of the topology's canonical frontal face (decoded once)."""
    landmarks = decode_landmarks(topology.canonical_posmap, topology)
    landmarks.setflags(write=False)
    return landmarks


@functools.lru_cache(maxsize=4)
def dense_pose_fitter(topology: UVTopology) -> PoseFitter:
    """:func:`~facerecon.apps.pose.estimate_pose` against the canonical dense vertices
    (:attr:`Face.pose`), with the canonical side of the fit computed once."""
    return PoseFitter(canonical_dense_vertices(topology))


@functools.lru_cache(maxsize=4)
def landmark_pose_fitter(topology: UVTopology) -> PoseFitter:
    """:func:`~facerecon.apps.pose.estimate_pose` against the canonical 68 landmarks, with
    the canonical side of the fit computed once."""
    return PoseFitter(canonical_landmarks(topology))


@dataclass(frozen=True, eq=False)
class Face:
    """One reconstructed face. Coordinates follow :mod:`facerecon.types` (image pixels, x right,
    y down, z in the same scale with larger z nearer the camera).

    Attributes:
        box: (4,) float32 ``xyxy`` detection box the face was cropped from.
        score: detector score (1.0 for given boxes).
        crop: the :class:`~facerecon.crop.CropTransform` the network saw.
        posmap: (R, R, 3) float32 position map in image pixels (0 outside ``topology.uv_mask``).
        topology: the UV layout the position map follows.
        image: (H, W, 3) uint8 RGB, the (read-only) image the face was found in.
        landmarks: (68, 3) float32, iBUG order, hidden ones included.
        vertices: (N, 3) float32 dense surface points, row-major valid UV pixels.
    """

    box: np.ndarray
    score: float
    crop: CropTransform
    posmap: np.ndarray
    topology: UVTopology = field(repr=False)
    image: np.ndarray = field(repr=False)
    landmarks: np.ndarray = field(init=False, repr=False)
    vertices: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # the caller's map is copied; decode's arrays are new ones already
        posmap = np.array(self.posmap, dtype=np.float32, copy=True)
        decoded = decode(posmap, self.topology)
        for name, array in (("posmap", posmap), ("landmarks", decoded.landmarks),
                            ("vertices", decoded.vertices)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def triangles(self) -> np.ndarray:
        """(T, 3) int32 triangles over :attr:`vertices` (front faces counter-clockwise)."""
        return self.topology.triangles

    @functools.cached_property
    def colors(self) -> np.ndarray:
        """(N, 3) float32 RGB in [0, 1] sampled bilinearly from the image at each vertex."""
        texture = cv2.remap(
            self.image,
            np.ascontiguousarray(self.posmap[..., 0]),
            np.ascontiguousarray(self.posmap[..., 1]),
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        colors = texture[self.topology.uv_mask].astype(np.float32) / 255.0
        colors.setflags(write=False)
        return colors

    @functools.cached_property
    def visibility(self) -> np.ndarray:
        """(N,) bool: vertex inside the image and not hidden by the face itself."""
        return self._visibility(self.vertices)

    @functools.cached_property
    def landmark_visibility(self) -> np.ndarray:
        """(68,) bool: landmark inside the image and not hidden by the face itself."""
        return self._visibility(self.landmarks)

    @functools.cached_property
    def _window_raster(self):
        """(offset (3,), Raster) of the face in its bounding window of the image: rasterised
        once for both visibilities, and never over the whole (possibly huge) image."""
        height, width = self.image.shape[:2]
        x0 = int(np.clip(np.floor(self.vertices[:, 0].min()), 0, width - 1))
        y0 = int(np.clip(np.floor(self.vertices[:, 1].min()), 0, height - 1))
        x1 = int(np.clip(np.ceil(self.vertices[:, 0].max()) + 1, x0 + 1, width))
        y1 = int(np.clip(np.ceil(self.vertices[:, 1].max()) + 1, y0 + 1, height))
        offset = np.array([x0, y0, 0], np.float32)
        return offset, rasterize(self.vertices - offset, self.triangles, y1 - y0, x1 - x0)

    def _visibility(self, points: np.ndarray) -> np.ndarray:
        offset, raster = self._window_raster
        visible = vertex_visibility(points - offset, raster, VISIBILITY_TOLERANCE_PX)
        visible.setflags(write=False)
        return visible

    @functools.cached_property
    def pose(self) -> Pose:
        """Similarity of the canonical frontal face onto this face (all dense vertices)."""
        return dense_pose_fitter(self.topology)(self.vertices)

    def depth(self, background: float = 0.0) -> np.ndarray:
        """(H, W) float32 z of the face surface per image pixel, ``background`` elsewhere
        (pass ``np.nan`` to tell background from a surface point at z = 0)."""
        height, width = self.image.shape[:2]
        return depth_image(self.vertices, self.triangles, height, width, background)

    def mesh(self, front: bool = False) -> Mesh:
        """The dense mesh with vertex colours; ``front=True`` gives the frontalised shape in
        the canonical crop frame (pose removed), so meshes of different faces line up."""
        vertices = frontalize(self.vertices, self.pose) if front else self.vertices
        return Mesh(vertices=vertices, triangles=self.triangles, colors=self.colors)
