"""Predictions of the default model on a data build's validation split, as the trainer
validates (black frames filled with the background step seeded by the batch index,
:mod:`facerecon.train.validate`), through the inference path (batch-norm folded, fp32).

Shared by the benchmarks that score a build's ``val`` split (val_pitch_bias.py,
val_by_source.py, surface_smoothing.py); run them with ``PYTHONPATH=src`` from the
repository root.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from common import add_named_weights, named_weights, set_threads

from facerecon.models import create_model, get_config, predict_posmaps, prepare_for_inference
from facerecon.posmap import decode
from facerecon.topology import load_topology
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


def predict_landmarks(dataset: ShardDataset, weights: Path) -> tuple[np.ndarray, np.ndarray]:
    """(N, 68, 2) predicted and (N, 68, 2) label landmarks of every sample, crop pixels."""
    topology = load_topology(get_config(MODEL).output_size)
    predicted, labels = [], []
    for samples, posmaps in val_batches(dataset, weights):
        predicted.append(decode(posmaps, topology).landmarks[..., :2])
        labels.append(np.stack([sample["landmarks"][:, :2] for sample in samples]))
    return np.concatenate(predicted), np.concatenate(labels)


def parse_weights_on_build(description: str) -> tuple[dict[str, Path], ShardDataset]:
    """The command line ``--build BUILD --weights NAME=FILE [...] [--threads N]`` of the
    benchmarks that compare named weights on a build's val split: ``{name: path}`` and the
    split (threads set)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--build", type=Path, required=True, help="a data build folder")
    add_named_weights(parser, "weights to compare, each named")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    named = named_weights(parser, args.weights)
    set_threads(args.threads)
    return named, ShardDataset(args.build, "val", get_config(MODEL))
