"""Synthetic meshes for the mesh tests, built in the facerecon image frame."""

from __future__ import annotations

import numpy as np
import pytest

from facerecon.mesh.mesh import Mesh


def grid_mesh(rng: np.random.Generator, rows: int = 6, cols: int = 7) -> Mesh:
    """A camera-facing bump over a pixel grid: every vertex used, every triangle front-facing.

    Vertex (r, c) sits at image point (x = 10 c + 3, y = 10 r + 5) with z a smooth bump
    (larger z nearer the camera), colours and uvs random, texture random 12 x 16.
    """
    row, col = np.mgrid[0:rows, 0:cols]
    bump = 20.0 * np.exp(-((row - rows / 2) ** 2 + (col - cols / 2) ** 2) / 8.0)
    vertices = np.stack([10.0 * col + 3.0, 10.0 * row + 5.0, bump], axis=-1).reshape(-1, 3)
    index = np.arange(rows * cols).reshape(rows, cols)
    top_left, top_right = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
    bottom_left, bottom_right = index[1:, :-1].ravel(), index[1:, 1:].ravel()
    triangles = np.concatenate(
        [
            np.stack([top_left, bottom_left, top_right], axis=1),
            np.stack([top_right, bottom_left, bottom_right], axis=1),
        ]
    )
    count = rows * cols
    return Mesh(
        vertices=vertices,
        triangles=triangles,
        colors=rng.uniform(0.0, 1.0, (count, 3)),
        uvs=rng.uniform(0.0, 1.0, (count, 2)),
        texture=rng.integers(0, 256, (12, 16, 3), dtype=np.uint8),
    )


def image_frame_signed_area(mesh: Mesh) -> np.ndarray:
    """(x1-x0)(y2-y0) - (x2-x0)(y1-y0) per triangle; < 0 means facing the camera."""
    p0, p1, p2 = (mesh.vertices[mesh.triangles[:, k]].astype(np.float64) for k in range(3))
    return (p1[:, 0] - p0[:, 0]) * (p2[:, 1] - p0[:, 1]) - (p2[:, 0] - p0[:, 0]) * (
        p1[:, 1] - p0[:, 1]
    )


@pytest.fixture
def mesh(rng: np.random.Generator) -> Mesh:
    return grid_mesh(rng)


@pytest.fixture
def frontal_mesh(rng: np.random.Generator) -> Mesh:
    built = grid_mesh(rng)
    assert np.all(image_frame_signed_area(built) < 0)  # the fixture itself faces the camera
    return built
