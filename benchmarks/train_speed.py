"""Training throughput of one network: bf16 autocast + channels-last against plain fp32.

One training step = normalise a uint8 batch, forward, PRN's weighted loss, backward, Adam
step (what :meth:`facerecon.train.loop.Trainer.train_step` does after augmentation), on a
fixed random batch. The variants are interleaved step by step (so a change of machine load
hits both alike); median step time over ``--steps`` steps after ``--warmup`` steps each.
Augmentation of one batch (:func:`facerecon.train.augment.augment_batch`) is timed apart.
2 torch threads. The load average is recorded before and after: the machine is shared.

    PYTHONPATH=src OMP_NUM_THREADS=2 /work/venv/bin/python benchmarks/train_speed.py
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from facerecon.atomic import write_text
from facerecon.models import create_model, get_config
from facerecon.topology import load_topology
from facerecon.train.augment import augment_batch
from facerecon.train.config import AugmentConfig
from facerecon.train.losses import loss_weights, weighted_posmap_loss
from facerecon.train.validate import forward

REPO = Path(__file__).resolve().parents[1]
COMMAND = "PYTHONPATH=src OMP_NUM_THREADS=2 /work/venv/bin/python benchmarks/train_speed.py"
VARIANTS = {"bf16_channels_last": (True, True), "fp32": (False, False),
            "fp32_channels_last": (False, True)}


def _step_function(name: str, batch: dict, bf16: bool, channels_last: bool):
    torch.manual_seed(0)
    model = create_model(name).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    config = get_config(name)
    weights = loss_weights(load_topology(config.output_size).weight_mask)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    device = torch.device("cpu")

    def step() -> float:
        start = time.perf_counter()
        pred = forward(model, config, batch["image"], device, bf16, channels_last)
        loss = weighted_posmap_loss(pred, batch["posmap"], weights, config.input_size)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - start

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobile_posmap128")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    config = get_config(args.model)
    generator = torch.Generator().manual_seed(0)
    size, resolution = config.input_size, config.output_size
    uv_mask = torch.tensor(load_topology(resolution).uv_mask)
    batch = {"image": torch.randint(0, 256, (args.batch_size, size, size, 3), dtype=torch.uint8,
                                    generator=generator),
             "posmap": torch.rand((args.batch_size, resolution, resolution, 3),
                                  generator=generator) * size * uv_mask[..., None]}
    load_before = [round(v, 2) for v in os.getloadavg()]
    steps = {key: _step_function(args.model, batch, *flags) for key, flags in VARIANTS.items()}
    for step in steps.values():
        for _ in range(args.warmup):
            step()
    times: dict[str, list[float]] = {key: [] for key in steps}
    for _ in range(args.steps):
        for key, step in steps.items():
            times[key].append(step())
    augment_times = []
    for index in range(args.steps):
        start = time.perf_counter()
        augment_batch(batch["image"], batch["posmap"], uv_mask, AugmentConfig(),
                      torch.Generator().manual_seed(index))
        augment_times.append(time.perf_counter() - start)
    results = {}
    for key, values in times.items():
        median = float(np.median(values))
        results[key] = {"median_step_s": round(median, 4),
                        "p10_p90_step_s": [round(float(np.percentile(values, q)), 4)
                                           for q in (10, 90)],
                        "img_per_s": round(args.batch_size / median, 2)}
    report = {
        "command": COMMAND,
        "protocol": (f"{args.model}, batch {args.batch_size}, train step (normalise, forward, "
                     "weighted loss, backward, Adam) on a fixed random batch; variants "
                     f"interleaved, median of {args.steps} steps after {args.warmup} warm-up "
                     "steps each; 2 torch threads; CPU shared with other jobs, so absolute "
                     "numbers depend on the load average below"),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15_before": load_before,
        "load_average_1_5_15_after": [round(v, 2) for v in os.getloadavg()],
        "variants": results,
        "speedup_bf16_channels_last_vs_fp32": round(
            results["fp32"]["median_step_s"] / results["bf16_channels_last"]["median_step_s"], 2),
        "augment_batch_median_ms": round(float(np.median(augment_times)) * 1e3, 2),
    }
    text = json.dumps(report, indent=1)
    print(text)
    write_text(REPO / "benchmarks" / "results" / "train_speed.json", text + "\n")


if __name__ == "__main__":
    main()
