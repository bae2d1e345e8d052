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
