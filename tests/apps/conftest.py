"""A procedural face-like point cloud for the pose and frontalisation tests.

The real ICT face replaces it where the topology assets are available; this one only needs
to be a non-degenerate, face-shaped, non-planar surface in the canonical frame: frontal,
nose towards +z, top of the head towards -y, image-pixel-like units.
"""

from __future__ import annotations

import numpy as np
import pytest


def make_face(samples: int = 41) -> np.ndarray:
    """(N, 3) float32: an ellipsoid cap (70 x 90 x 40) with a nose bump and a chin bump."""
    u, v = np.meshgrid(np.linspace(-1, 1, samples), np.linspace(-1, 1, samples))
    inside = u**2 + v**2 < 0.95
    u, v = u[inside], v[inside]
    x, y = 70.0 * u, 90.0 * v
    z = 40.0 * np.sqrt(1.0 - 0.9 * (u**2 + v**2))
    z += 25.0 * np.exp(-(x**2 + (y - 5.0) ** 2) / (2 * 10.0**2))  # nose, a bit below centre
    z += 6.0 * np.exp(-(x**2 + (y - 75.0) ** 2) / (2 * 15.0**2))  # chin
    return np.stack([x, y, z], axis=1).astype(np.float32)


@pytest.fixture(scope="session")
def canonical_face() -> np.ndarray:
    face = make_face()
    face.setflags(write=False)
    return face


# --- Synthetic photos of ICT faces for the texture, swap, edit and draw tests. ---------------

SCENE_SIZE = 288


@pytest.fixture(scope="session")
def topology():
    from facerecon.topology import load_topology

    return load_topology(256)


@pytest.fixture(scope="session")
def ict_model(ict_dir):
    from facerecon.morphable.ict import load_ict

    return load_ict(ict_dir)


def vertex_pattern(model, phase: float = 0.0) -> np.ndarray:
    """(V, 3) float32 RGB in [0, 1]: smooth stripes over ICT's neutral face, fixed per vertex.

    Defined on the neutral mesh (ICT units, about cm), so vertex i has the same colour in
    every identity, pose and photo: the "skin" of a synthetic face.
    """
    x, y, z = (model.neutral - model.neutral.mean(axis=0)).T.astype(np.float64)
    rgb = np.stack([0.55 + 0.3 * np.sin(x / 1.6 + phase),
                    0.50 + 0.3 * np.sin(y / 1.3 + 1.0 + phase),
                    0.45 + 0.25 * np.cos((x + y) / 2.2 + 2 * phase)], axis=1)
    return np.clip(rgb, 0, 1).astype(np.float32)


class Scene:
    """An ICT face posed in a noise photo: image, image-space position map, region vertices."""

    def __init__(self, model, topology, seed, yaw, pitch=0.0, roll=0.0, colors=None,
                 size=SCENE_SIZE, height=0.75, centre=None, background=None):
        from facerecon.apps.pose import rotation_from_euler
        from facerecon.posmap import encode
        from facerecon.render import render_colors
        from facerecon.topology.build import to_image_frame

        rng = np.random.default_rng(seed)
        face = to_image_frame(model.shape(0.7 * rng.normal(size=100),
                                          rng.uniform(0, 0.3, size=53)))
        face = face - face.mean(axis=0)
        scale = height * size / np.ptp(face[:, 1])
        centre = (size / 2, size / 2) if centre is None else centre
        rotation = rotation_from_euler(yaw, pitch, roll)
        self.vertices = (scale * face @ rotation.T + np.array([*centre, 0.0])).astype(np.float32)
        if background is None:
            background = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
        self.colors = vertex_pattern(model) if colors is None else colors
        self.image, self.face_mask = render_colors(self.vertices, topology.region_triangles,
                                                   self.colors, background)
        self.background = background
        self.posmap = encode(self.vertices, topology)
        self.topology = topology


@pytest.fixture(scope="session")
def make_scene(ict_model, topology):
    def make(seed=1, yaw=0.0, pitch=0.0, roll=0.0, **kwargs):
        return Scene(ict_model, topology, seed, yaw, pitch, roll, **kwargs)

    return make


@pytest.fixture(scope="session")
def skin_pattern(ict_model):
    """``skin_pattern(phase=0.0)`` -> (V, 3) per-vertex colours (:func:`vertex_pattern`)."""
    return lambda phase=0.0: vertex_pattern(ict_model, phase)
