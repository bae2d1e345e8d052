"""Does a model fit its own training photos better than unseen ones? Landmark error against
the labels on a slice of a build's train split and on its whole val split, per photo source.

Every ``--every``-th train shard (shards 0, N, 2N, ...) and every val shard are predicted as
the trainer validates (``val_predictions.py``: no augmentation, black frames filled by the
background step seeded per batch), and the 68 decoded landmarks are compared in 2D with the
sample's own labels, per group as ``val_by_source.py`` reports them (UTKFace or 300-W; the
photo itself or a synthetic view; NME % of sqrt(w*h) of the label box over all points, the
51 inner points 17-67 and the 17 jaw points). ``gap_inner``: per group, the train NME minus
the val NME over the inner points. Near 0 means the network does no better on photos it
trained on than on unseen photos (it underfits: more optimisation or capacity, not more
data, is the next lever); clearly negative means it memorises. The train samples are the
un-augmented crops, so for weights trained on another build of the same photos (their split
is by identity and the same in every build) the labels differ only by the build's recipe.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/train_val_gap.py \
        --build /work/data/build-v11 \
        --weights v6=v6.safetensors run_v31=/work/runs/v31/final.safetensors

Writes benchmarks/results/<name>.json (default train_val_gap) and prints the same JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import add_named_weights, named_weights, set_threads, write_result
from torch.utils.data import Subset
from val_by_source import errors_by_group, groups
from val_predictions import MODEL, predict_landmarks

from facerecon.data.shards import read_shard_meta
from facerecon.models import get_config
from facerecon.train.dataset import ShardDataset

COMMAND = ("PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/train_val_gap.py "
           "--build BUILD --weights NAME=FILE [NAME=FILE ...] [--every N]")


def shard_slice(dataset: ShardDataset, every: int) -> tuple[Subset, list[dict]]:
    """The samples of shards 0, every, 2 every, ... of ``dataset`` (all of them for 1) and
    their metadata."""
    chosen = range(0, len(dataset.shards), every)
    indices = np.flatnonzero(np.isin(dataset.shard_ids, list(chosen)))
    metas = [meta for shard_id in chosen for meta in read_shard_meta(dataset.shards[shard_id])]
    if len(metas) != len(indices):
        raise RuntimeError("shard metadata and dataset index disagree")
    return Subset(dataset, indices.tolist()), metas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True, help="a data build folder")
    add_named_weights(parser, "weights to compare, each named")
    parser.add_argument("--every", type=int, default=15,
                        help="score every N-th train shard (default 15)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--name", default="train_val_gap",
                        help="result file name under benchmarks/results (without .json)")
    args = parser.parse_args()
    if args.every < 1:
        parser.error("--every must be >= 1")
    named = named_weights(parser, args.weights)
    set_threads(args.threads)
    config = get_config(MODEL)
    splits = {"train": shard_slice(ShardDataset(args.build, "train", config), args.every),
              "val": shard_slice(ShardDataset(args.build, "val", config), 1)}
    models = {}
    for name, path in named.items():
        rows = {}
        for split, (dataset, metas) in splits.items():
            predicted, labels = predict_landmarks(dataset, path)
            yaw = np.array([meta["yaw"] for meta in metas], np.float64)
            rows[split] = errors_by_group(predicted, labels, groups(metas), yaw)
        rows["gap_inner"] = {group: round(rows["train"][group]["nme_inner"]
                                          - rows["val"][group]["nme_inner"], 2)
                             for group in rows["val"]}
        models[name] = {"weights": str(path), **rows}
    write_result(args.name, {
        "command": COMMAND, "build": str(args.build), "every": args.every,
        "samples": {split: len(dataset) for split, (dataset, _) in splits.items()},
        "models": models})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
