"""Tiny synthetic data builds for the training tests (shards written with the real writer)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facerecon.data.shards import encode_jpeg, write_shard
from facerecon.posmap import decode
from facerecon.topology import load_topology


def synthetic_sample(rng: np.random.Generator, crop: int, resolution: int, split: str,
                     source: str = "utkface", synthetic: bool = False) -> dict:
    """The canonical face moved by a random similarity into a ``crop`` crop, with z offset,
    and a picture with its landmarks drawn (so the image depends on the target)."""
    topology = load_topology(resolution)
    canonical = topology.canonical_posmap * (crop / resolution)
    centre = (crop - 1) / 2
    angle = np.deg2rad(rng.uniform(-20, 20))
    scale = rng.uniform(0.8, 1.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    posmap = np.zeros_like(canonical)
    mask = topology.uv_mask
    xy = (canonical[mask, :2] - centre) @ (scale * rotation).T + centre + rng.uniform(-5, 5, 2)
    posmap[mask, :2] = xy
    posmap[mask, 2] = canonical[mask, 2] * scale - 40.0  # a depth origin of the builder's own
    landmarks = decode(posmap, topology).landmarks
    image = np.full((crop, crop, 3), 60, np.uint8)
    image[..., 0] = rng.integers(40, 200)
    for x, y in landmarks[:, :2]:
        cv2.circle(image, (int(round(x)), int(round(y))), max(crop // 64, 1), (255, 220, 0), -1)
    annotation = landmarks.copy() if not synthetic else np.full((68, 3), np.nan, np.float32)
    meta = {"source": source, "synthetic": synthetic, "split": split, "yaw": 0.0}
    return {"jpeg": encode_jpeg(image), "posmap": posmap.astype(np.float32),
            "landmarks": landmarks, "visible": np.ones(68, bool), "annotation": annotation,
            "meta": meta}


def write_build(folder: Path, train: int = 6, val: int = 3, crop: int = 128,
                resolution: int = 128, seed: int = 0) -> Path:
    """A build folder with one train and one val shard (val starts with a 300-W photo)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    train_samples = [synthetic_sample(rng, crop, resolution, "train") for _ in range(train)]
    val_samples = [synthetic_sample(rng, crop, resolution, "val", "300w/afw")]
    val_samples += [synthetic_sample(rng, crop, resolution, "val", synthetic=True)
                    for _ in range(val - 1)]
    write_shard(folder / "train-00000.npz", train_samples, {"photos": train})
    write_shard(folder / "val-00000.npz", val_samples, {"photos": val})
    return folder


@pytest.fixture()
def make_build():
    """The :func:`write_build` function, for tests that need other sizes."""
    return write_build


@pytest.fixture()
def make_sample():
    """The :func:`synthetic_sample` function, for tests that write shards of their own."""
    return synthetic_sample


@pytest.fixture()
def tiny_build(tmp_path) -> Path:
    return write_build(tmp_path / "build")
