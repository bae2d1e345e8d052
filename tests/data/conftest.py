"""Fixtures for the ground-truth and synthesis tests: a synthetic ICT face in a photo."""

from __future__ import annotations

import numpy as np
import pytest

from facerecon.apps.pose import Pose
from facerecon.morphable.fit import FLIP_Y


@pytest.fixture(scope="session")
def ict_model(ict_dir):
    from facerecon.morphable.ict import load_ict

    return load_ict(ict_dir)


@pytest.fixture(scope="session")
def ict_fitter(ict_model):
    """A fitter that trusts exact landmarks (weak priors): these tests check the chain after
    the fit (crop, codec, synthesis); the fit's own accuracy is tested in tests/morphable."""
    from facerecon.morphable.fit import IctFitter

    return IctFitter(ict_model, landmark_sigma=0.005)


@pytest.fixture(scope="session")
def synthetic_photo():
    """The function :func:`make_synthetic_photo`."""
    return make_synthetic_photo


def make_synthetic_photo(model, yaw=20.0, pitch=5.0, roll=3.0, seed=7, size=320):
    """A random ICT face rendered into a noisy (size, size) photo.

    Returns (image, vertices (V, 3) image coordinates, pose)."""
    from facerecon.render import render_colors, vertex_normals

    rng = np.random.default_rng(seed)
    shape = model.shape(rng.normal(0.0, 0.6, 40), rng.uniform(0.0, 0.3, 53)) * FLIP_Y
    pose = Pose.from_euler(yaw, pitch, roll, scale=size / 40.0,
                           translation=(size / 2, size / 2, 0.0))
    vertices = pose.project(shape).astype(np.float32)
    shade = np.clip(vertex_normals(vertices, model.triangles)[:, 2:3], 0.2, 1.0)
    colors = shade * np.array([0.9, 0.7, 0.6]) + 0.1 * np.sin(vertices[:, :1] / 7.0)
    background = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    image, _ = render_colors(vertices, model.triangles, np.clip(colors, 0, 1), background)
    return image, vertices, pose
