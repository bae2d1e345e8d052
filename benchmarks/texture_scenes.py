"""Synthetic photos of ICT faces for the texture benchmarks and pictures (not a library module).

A face is an ICT-FaceKit identity with a mild expression, posed in an image; its "skin" is a
procedural UV texture painted from the topology's landmark positions (skin tone with smooth
variation, rosy cheeks, brows, eyelid lines, lips, optional face paint), drawn with the
position map's grid mesh, Lambert-shaded, over a soft background on which the eyeballs and the
mouth's inside are painted first (the mesh has openings there).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facerecon.apps.pose import rotation_from_euler
from facerecon.apps.texture import face_uvs
from facerecon.posmap import decode, encode
from facerecon.render import render_shaded, render_textured
from facerecon.topology.build import to_image_frame


@dataclass
class Scene:
    image: np.ndarray  # (H, W, 3) uint8 RGB photo
    posmap: np.ndarray  # (R, R, 3) image-space position map
    texture: np.ndarray  # (R, R, 3) the skin it was painted with
    landmarks: np.ndarray  # (68, 3)


def _stroke(canvas, points, color, thickness) -> None:
    cv2.polylines(canvas, [np.rint(points * 16).astype(np.int32)], False, color, thickness,
                  cv2.LINE_AA, 4)


def skin_texture(topology, tone, seed: int, paint: bool = False, lips=(175, 70, 75)
                 ) -> np.ndarray:
    """(R, R, 3) uint8 RGB procedural skin in the UV layout (0 outside the mask)."""
    size = topology.resolution
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(size=(size, size)).astype(np.float32), (0, 0), 6)
    texture = np.array(tone, np.float32) * (1 + 0.05 * noise / noise.std())[..., None]
    uv = topology.landmark_uv
    rows, cols = np.mgrid[0:size, 0:size]
    for centre in ((uv[2] + uv[31]) / 2, (uv[14] + uv[35]) / 2):  # cheeks
        blob = np.exp(-((cols - centre[0]) ** 2 + (rows - centre[1]) ** 2) / (2 * 14.0**2))
        texture += blob[..., None] * np.array([22, -12, -8], np.float32)
    canvas = np.clip(texture, 0, 255).astype(np.uint8)
    brow = tuple(int(c * 0.35) for c in tone)
    for first, last in ((17, 21), (22, 26)):
        _stroke(canvas, uv[first:last + 1] + [0, -2], brow, 7)
    for first, last in ((36, 41), (42, 47)):
        _stroke(canvas, np.vstack([uv[first:last + 1], uv[first:first + 1]]), (60, 40, 35), 3)
    outline = np.rint(uv[48:60] * 16).astype(np.int32)
    cv2.fillPoly(canvas, [outline], lips, cv2.LINE_AA, 4)
    if paint:  # a blue band over the eyes and a yellow chin mark: easy to follow in a swap
        _stroke(canvas, np.vstack([uv[0], uv[36], uv[39], uv[27], uv[42], uv[45], uv[16]]),
                (40, 90, 200), 13)
        cv2.circle(canvas, tuple(np.rint(uv[8] * 16 + [0, -16 * 14]).astype(int)), 16 * 9,
                   (230, 200, 40), -1, cv2.LINE_AA, 4)
    canvas[~topology.uv_mask] = 0
    return canvas


def background(height: int, width: int, seed: int) -> np.ndarray:
    """A soft two-colour gradient."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(40, 200, size=(2, 3))
    t = (0.7 * np.linspace(0, 1, width)[None, :, None]
         + 0.3 * np.linspace(0, 1, height)[:, None, None])
    image = a * (1 - t) + b * t
    return np.clip(image, 0, 255).astype(np.uint8)


def posed_vertices(model, seed: int, yaw: float, pitch: float, roll: float, height: float,
                   centre) -> np.ndarray:
    rng = np.random.default_rng(seed)
    face = to_image_frame(model.shape(0.8 * rng.normal(size=100), rng.uniform(0, 0.25, 53)))
    face = face - face.mean(axis=0)
    scale = height / np.ptp(face[:, 1])
    rotation = rotation_from_euler(yaw, pitch, roll)
    return (scale * face @ rotation.T + np.array([*centre, 0.0])).astype(np.float32)


def _paint_openings(image, landmarks) -> None:
    """Eyeballs and the mouth's inside, drawn where the mesh has openings."""
    for first in (36, 42):
        eye = landmarks[first:first + 6, :2]
        cv2.fillPoly(image, [np.rint(eye * 16).astype(np.int32)], (235, 235, 230), cv2.LINE_AA, 4)
        centre = eye.mean(axis=0)
        radius = 0.22 * np.ptp(eye[:, 0])
        cv2.circle(image, tuple(np.rint(centre * 16).astype(int)), int(radius * 16), (70, 50, 30),
                   -1, cv2.LINE_AA, 4)
    cv2.fillPoly(image, [np.rint(landmarks[60:68, :2] * 16).astype(np.int32)], (90, 30, 35),
                 cv2.LINE_AA, 4)


def make_scene(model, topology, *, seed: int, yaw: float = 0.0, pitch: float = 0.0,
               roll: float = 0.0, size=(512, 512), height: float = 300.0, centre=None,
               tone=(220, 170, 140), paint: bool = False, photo: np.ndarray | None = None
               ) -> Scene:
    """Pose a face and draw it into ``photo`` (default: a new background of ``size``)."""
    if photo is None:
        photo = background(*size, seed)
    centre = (photo.shape[1] / 2, photo.shape[0] / 2) if centre is None else centre
    vertices = posed_vertices(model, seed, yaw, pitch, roll, height, centre)
    posmap = encode(vertices, topology)
    decoded = decode(posmap, topology)
    texture = skin_texture(topology, tone, seed, paint)
    image = photo.copy()
    _paint_openings(image, decoded.landmarks)
    drawn, mask = render_textured(decoded.vertices, topology.triangles, face_uvs(topology),
                                  texture, image)
    shade, _ = render_shaded(decoded.vertices, topology.triangles, *photo.shape[:2],
                             light_direction=(0.3, -0.5, 1.0), ambient=0.35)
    lit = drawn.astype(np.float32) * (shade.astype(np.float32) / 255.0)
    image = np.where(mask[..., None], np.clip(lit * 1.1, 0, 255), drawn).astype(np.uint8)
    return Scene(image=image, posmap=posmap, texture=texture, landmarks=decoded.landmarks)
