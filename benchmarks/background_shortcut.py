"""Does a model lean on the black margins of the training crops?

91 % of the build's samples come from UTKFace's tight 200 x 200 photos, so their crops frame
the face with black; real photos never do. For each weights file this scores the training
loss (the trainer's weighted position-map loss, eval mode, bf16 as in training) on the same
256 seeded training samples of a build, once as built and once with every black region
filled by the augmentation's background (``background_prob = 1``, no other augmentation).
A model that found the face through the black frame gets much worse when it is filled.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/background_shortcut.py \
        --build /path/to/build --weights A.safetensors [B.safetensors ...]

Writes benchmarks/results/background_shortcut.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch
from common import write_result

from facerecon.models import create_model, get_config
from facerecon.topology import load_topology
from facerecon.train.augment import augment_batch
from facerecon.train.config import AugmentConfig
from facerecon.train.dataset import ShardDataset, collate
from facerecon.train.losses import loss_weights, weighted_posmap_loss
from facerecon.train.validate import clamp_targets, forward

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/background_shortcut.py "
           "--build BUILD --weights WEIGHTS...")
NO_GEOMETRY = AugmentConfig(rotation_deg=0, translation=0, scale_min=1, scale_max=1,
                            color_min=1, color_max=1, occlusion_prob=0, background_prob=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True)
    parser.add_argument("--weights", type=Path, nargs="+", required=True)
    parser.add_argument("--model", default="mobile_posmap128")
    parser.add_argument("--samples", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(2)
    config = get_config(args.model)
    topology = load_topology(config.output_size)
    uv_mask, weights = torch.tensor(topology.uv_mask), loss_weights(topology.weight_mask)
    dataset = ShardDataset(args.build, "train", config)
    chosen = np.random.default_rng(0).choice(len(dataset), args.samples, replace=False)
    batches = [collate([dataset[int(i)] for i in chosen[start:start + 32]])
               for start in range(0, len(chosen), 32)]
    settings = {"as built": NO_GEOMETRY,
                "black filled": dataclasses.replace(NO_GEOMETRY, background_prob=1.0)}
    rows = {}
    for path in args.weights:
        model = create_model(args.model, weights=path).eval()
        row = {}
        for name, augment in settings.items():
            losses = []
            for index, batch in enumerate(batches):
                images, posmaps = augment_batch(batch["image"], batch["posmap"], uv_mask, augment,
                                                torch.Generator().manual_seed(index))
                with torch.no_grad():
                    pred = forward(model, config, images, torch.device("cpu"), True, False)
                    losses.append(float(weighted_posmap_loss(
                        pred, clamp_targets(posmaps, config.output_scale), weights,
                        config.input_size)))
            row[name] = round(float(np.mean(losses)), 2)
        row["ratio"] = round(row["black filled"] / row["as built"], 2)
        rows[str(path)] = row
    write_result("background_shortcut", {"command": COMMAND, "build": str(args.build),
                                         "samples": args.samples, "loss": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
