"""Synthetic photos of a known 3D face at a known pose: exact ground truth for tests and demos.

The face is any set of face-region vertices in the canonical frame (the packaged
``topology.canonical_vertices`` needs no ICT-FaceKit; an ICT shape from
:mod:`facerecon.morphable.ict` put in the same frame works too). It is posed with
``image = scale * R @ (canonical - centre) + position`` (``R`` from
:func:`facerecon.apps.pose.rotation_from_euler`, so the pose conventions are the library's),
coloured with a procedural skin pattern under Lambert light, and drawn with the z-buffer
onto a noise background.

Random ICT faces (identity and expression weights, pose) for tests and benchmarks come from
:func:`random_ict_face` (a face and a :class:`~facerecon.apps.pose.Pose`) and
:func:`random_posed_ict_face` (a face posed inside a crop, as position maps see it). Both draw
from the ``rng`` in a fixed order, so a seed gives the same faces everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facerecon.apps.pose import Pose, rotation_from_euler
from facerecon.errors import InvalidInputError
from facerecon.posmap import encode
from facerecon.render import render_colors, vertex_normals
from facerecon.topology import UVTopology
from facerecon.topology.build import to_image_frame

SKIN_RGB = np.array([0.86, 0.67, 0.55], np.float32)


@dataclass(frozen=True, eq=False)
class SyntheticFace:
    """A rendered face with its exact geometry.

    Attributes:
        image: (H, W, 3) uint8 RGB photo.
        vertices: (V, 3) float32 face-region vertices in image pixels.
        landmarks: (68, 3) float32 the landmark vertices in image pixels.
        rotation: (3, 3) the rotation applied to the canonical face.
        yaw, pitch, roll: the pose in degrees (library conventions).
        face_mask: (H, W) bool pixels covered by the face.
        box: (4,) float32 ``xyxy`` box of the 68 landmarks.
    """

    image: np.ndarray
    vertices: np.ndarray
    landmarks: np.ndarray
    rotation: np.ndarray
    yaw: float
    pitch: float
    roll: float
    face_mask: np.ndarray
    box: np.ndarray


def skin_colors(canonical: np.ndarray) -> np.ndarray:
    """(V, 3) float32 RGB in [0, 1]: skin tone with soft stripes that fix the texture's
    orientation (so a mirrored or shifted texture is visible to tests and to the eye)."""
    span = np.ptp(canonical[:, :2], axis=0).max()
    u = (canonical[:, 0] - canonical[:, 0].min()) / span
    v = (canonical[:, 1] - canonical[:, 1].min()) / span
    pattern = 0.85 + 0.1 * np.sin(2 * np.pi * 6 * u) * np.cos(2 * np.pi * 4 * v) + 0.05 * u
    return np.clip(SKIN_RGB[None, :] * pattern[:, None], 0, 1).astype(np.float32)


def render_synthetic_face(
    topology: UVTopology,
    canonical: np.ndarray | None = None,
    yaw: float = 0.0,
    pitch: float = 0.0,
    roll: float = 0.0,
    image_size: tuple[int, int] = (360, 480),
    face_width: float = 160.0,
    position: tuple[float, float] | None = None,
    seed: int = 0,
) -> SyntheticFace:
    """Render one synthetic face.

    Args:
        topology: gives the region triangles and landmark vertices.
        canonical: (V, 3) face-region vertices in the canonical frame (image axes); default
            ``topology.canonical_vertices``.
        yaw, pitch, roll: degrees.
        image_size: (H, W) of the photo.
        face_width: width in pixels of the canonical landmark box after scaling.
        position: (x, y) image position of the face centre; default the image centre.
        seed: background noise seed.
    """
    canonical = topology.canonical_vertices if canonical is None else np.asarray(canonical)
    if canonical.shape != (topology.region_vertex_count, 3):
        raise InvalidInputError(
            f"canonical must be ({topology.region_vertex_count}, 3), got {canonical.shape}"
        )
    height, width = image_size
    landmarks0 = canonical[topology.landmark_vertices]
    centre = (landmarks0.min(axis=0) + landmarks0.max(axis=0)) / 2
    scale = face_width / np.ptp(landmarks0[:, 0])
    rotation = rotation_from_euler(yaw, pitch, roll)
    where = np.array(position if position is not None else (width / 2, height / 2), np.float64)
    vertices = scale * (canonical - centre) @ rotation.T
    vertices[:, :2] += where
    vertices = vertices.astype(np.float32)

    triangles = topology.region_triangles
    normals = vertex_normals(vertices, triangles)
    light = 0.35 + 0.65 * np.clip(normals[:, 2], 0, 1)
    colors = np.clip(skin_colors(canonical) * light[:, None], 0, 1)
    rng = np.random.default_rng(seed)
    background = rng.integers(40, 200, size=(height, width, 3), dtype=np.uint8)
    image, mask = render_colors(vertices, triangles, colors, background)
    landmarks = vertices[topology.landmark_vertices]
    box = np.concatenate([landmarks[:, :2].min(axis=0), landmarks[:, :2].max(axis=0)])
    return SyntheticFace(
        image=image,
        vertices=vertices,
        landmarks=landmarks,
        rotation=rotation,
        yaw=float(yaw),
        pitch=float(pitch),
        roll=float(roll),
        face_mask=mask,
        box=box.astype(np.float32),
    )


def random_ict_face(model, rng: np.random.Generator, yaw: float | None = None):
    """Random ICT weights and a random pose for one synthetic photo.

    Identity: 100 modes N(0, 0.7^2); expression: 0-5 of the 53 modes active with U[0, 1]
    weights; pose: yaw U[-70, 70] (or ``yaw``), pitch and roll U[-30, 30] degrees, scale
    U[8, 16] pixels per ICT unit (a face ~130-250 px wide), translation
    U[120, 220] x U[120, 220] x U[-50, 50].

    Args:
        model: an :class:`~facerecon.morphable.ict.IctModel`.

    Returns:
        (identity, expression, pose, canonical): (100,) and (53,) float64 weights, the
        :class:`~facerecon.apps.pose.Pose`, and the (V, 3) float64 face in the canonical image
        frame (ICT's y negated); ``pose.project(canonical)`` is the face in the photo.
    """
    identity = rng.normal(size=100) * 0.7
    expression = np.zeros(53)
    active = rng.choice(53, size=rng.integers(0, 6), replace=False)
    expression[active] = rng.uniform(0, 1, size=active.size)
    pose = Pose.from_euler(rng.uniform(-70, 70) if yaw is None else yaw,
                           rng.uniform(-30, 30), rng.uniform(-30, 30), scale=rng.uniform(8, 16),
                           translation=rng.uniform([120, 120, -50], [220, 220, 50]))
    return identity, expression, pose, to_image_frame(model.shape(identity, expression))


def random_posed_ict_face(model, topology: UVTopology, rng: np.random.Generator) -> np.ndarray:
    """A random ICT face at a random pose in a crop of ``topology.resolution`` pixels.

    Identity N(0, 1) (100 modes), expression U[0, 1] (53 modes), placed like the topology's
    canonical face (its scale and centre), then turned about the crop centre by yaw
    U[-90, 90], pitch U[-35, 35], roll U[-40, 40] degrees, shifted by U[-25, 25] px (x and y,
    per 256 px of crop) and scaled about the crop centre by U[0.7, 1.2] (drawn in that order).

    Args:
        model: an :class:`~facerecon.morphable.ict.IctModel`.

    Returns:
        (V, 3) float32 face-region vertices in crop pixels (image frame).
    """
    size = topology.resolution
    face = to_image_frame(model.shape(rng.normal(size=100), rng.uniform(size=53)))
    neutral = to_image_frame(model.neutral)
    canonical = topology.canonical_vertices.astype(np.float64)
    scale = np.ptp(canonical[:, 0]) / np.ptp(neutral[:, 0])
    centre = np.array([(size - 1) / 2, (size - 1) / 2, 0.0])
    placed = scale * (face - neutral.mean(axis=0)) + canonical.mean(axis=0)
    turn = rotation_from_euler(rng.uniform(-90, 90), rng.uniform(-35, 35), rng.uniform(-40, 40))
    shift = np.append(rng.uniform(-25, 25, size=2) * size / 256, 0)
    return (rng.uniform(0.7, 1.2) * (placed - centre) @ turn.T + centre + shift).astype(
        np.float32)


class GroundTruthPredictor:
    """A :class:`~facerecon.predictor.PosmapPredictor` that knows the answer.

    It holds the image-space region vertices of every face in a scene and, for each crop,
    encodes the face whose centre lies nearest the crop centre: the exact position map a
    perfect network would give. Used to test and demonstrate everything around the network.
    """

    name = "ground_truth"
    crop_supersample = 1  # it reads the transforms, not the pixels

    def __init__(self, topology, faces_vertices: list[np.ndarray], input_size: int = 256):
        self.topology = topology
        self.faces_vertices = [np.asarray(v, np.float32) for v in faces_vertices]
        self.input_size = input_size
        self.resolution = topology.resolution
        self.calls = 0

    def __call__(self, crops: np.ndarray, transforms) -> np.ndarray:
        if crops.dtype != np.uint8 or crops.shape[1:] != (self.input_size,) * 2 + (3,):
            raise InvalidInputError(f"crops must be (B, {self.input_size}, {self.input_size}, 3)"
                                    f" uint8, got {crops.dtype} {crops.shape}")
        self.calls += 1
        maps = []
        for transform in transforms:
            centre = (self.input_size - 1) / 2
            distances = [
                np.linalg.norm(transform.to_crop(v[:, :2]).mean(axis=0) - centre)
                for v in self.faces_vertices
            ]
            vertices = self.faces_vertices[int(np.argmin(distances))]
            maps.append(encode(transform.to_crop(vertices), self.topology))
        return np.stack(maps).astype(np.float32)
