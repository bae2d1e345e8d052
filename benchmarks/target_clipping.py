"""How much of the training targets lies outside what the network can output.

The networks end in ``sigmoid * output_scale``: a label pixel with x or y below 0 or above
``output_scale`` (crop pixels) cannot be predicted, and the trainer clips it
(:func:`facerecon.train.validate.clamp_targets`), which teaches the network to flatten the
top of the forehead along the crop's edge. On ``--samples`` random samples (seed 0) of a
build's ``train`` split, in the default model's geometry, separately for real photos and
synthetic head turns: the mean fraction of ``uv_mask`` pixels outside, the share of samples
with any pixel outside (x or y), the share whose top lies above the crop (minimum y < 0),
and the median and 10th percentile of that top.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/target_clipping.py \
        --build /work/data/build-v3 [--samples 3000]

Writes benchmarks/results/target_clipping.json and prints the same JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import write_result

from facerecon.data.shards import read_shard_meta
from facerecon.models import DEFAULT_MODEL, get_config
from facerecon.train.dataset import ShardDataset

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/target_clipping.py "
           "--build /work/data/build-v3")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True, help="a data build folder")
    parser.add_argument("--samples", type=int, default=3000)
    args = parser.parse_args()
    config = get_config(DEFAULT_MODEL)
    dataset = ShardDataset(args.build, "train", config)
    synthetic = np.array([bool(meta.get("synthetic", False)) for shard in dataset.shards
                          for meta in read_shard_meta(shard)])
    chosen = np.random.default_rng(0).choice(len(dataset), min(args.samples, len(dataset)),
                                             replace=False)
    outside, tops = [], []
    for index in chosen:
        points = dataset[int(index)]["posmap"][dataset.uv_mask][:, :2]
        beyond = (points < 0) | (points > config.output_scale)
        outside.append(float(beyond.any(axis=1).mean()))
        tops.append(float(points[:, 1].min()))
    outside, tops, kinds = np.array(outside), np.array(tops), synthetic[chosen]
    groups = {}
    for name, members in (("real", ~kinds), ("synthetic", kinds)):
        groups[name] = {
            "samples": int(members.sum()),
            "mean_fraction_outside": round(float(outside[members].mean()), 4),
            "share_with_any_outside": round(float((outside[members] > 0).mean()), 3),
            "share_with_top_above_crop": round(float((tops[members] < 0).mean()), 3),
            "median_top_y_px": round(float(np.median(tops[members])), 2),
            "p10_top_y_px": round(float(np.percentile(tops[members], 10)), 2)}
    write_result("target_clipping", {"command": COMMAND, "build": str(args.build),
                                     "model": DEFAULT_MODEL, "crop_size": config.input_size,
                                     "output_scale": config.output_scale, "groups": groups})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
