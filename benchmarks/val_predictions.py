"""Predictions of the default model on a data build's validation split, as the trainer
validates (black frames filled with the background step seeded by the batch index,
:mod:`facerecon.train.validate`), through the inference path (batch-norm folded, fp32).

Shared by the benchmarks that score a build's ``val`` split (val_pitch_bias.py,
surface_smoothing.py); run them with ``PYTHONPATH=src`` from the repository root.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from facerecon.models import create_model, get_config, predict_posmaps, prepare_for_inference
from facerecon.train.augment import fill_black_regions
from facerecon.train.dataset import ShardDataset

MODEL = "mobile_posmap128"
BATCH = 32  # the trainer validates in batches of its batch_size (32 in every run)


def val_batches(dataset: ShardDataset, weights: Path) -> Iterator[tuple[list[dict], np.ndarray]]:
    """Per batch of the split, in order: its samples (``ShardDataset`` dicts) and the
    (B, R, R, 3) position maps ``weights`` predict for them, crop pixels."""
    config = get_config(MODEL)
    model = prepare_for_inference(create_model(MODEL, weights=weights))
    for index, start in enumerate(range(0, len(dataset), BATCH)):
        samples = [dataset[i] for i in range(start, min(start + BATCH, len(dataset)))]
        images = torch.from_numpy(np.stack([sample["image"] for sample in samples]))
        images = fill_black_regions(images, 1.0, torch.Generator().manual_seed(index))
        yield samples, predict_posmaps(model, config, images.numpy(), batch_size=BATCH)
