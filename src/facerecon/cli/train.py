"""``facerecon train -c config.yaml [--set key=value ...] [--resume PATH]``.

Trains a registered position-map network on the shards of ``facerecon data build``
(recipe, files and measured speeds: docs/training.md). The config is the defaults of
:class:`facerecon.train.config.TrainConfig`, then the YAML file, then each ``--set``
(dotted keys, YAML values: ``--set augment.rotation_deg=30 --set bf16=false``). With
``--resume`` and no ``-c``, the checkpoint's own config is used (``--set`` still applies,
e.g. a new ``max_minutes``). ``--validate-only`` scores the starting weights (``init_weights``,
or the ``--resume`` checkpoint's) on the build's ``val`` split as the epochs' validation does,
prints the JSON and trains nothing: e.g. an older model on a newer build.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a position-map network on a data build",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", type=Path, default=None, help="YAML config file")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override one setting (repeatable)")
    parser.add_argument("--resume", type=Path, default=None,
                        help="continue from a checkpoint (output_dir/last.pt)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--validate-only", action="store_true",
                        help="print the starting weights' validation and stop")
    parser.set_defaults(func=run_train)


def _config(args):
    from facerecon.errors import InvalidInputError
    from facerecon.train.checkpoint import load_checkpoint
    from facerecon.train.config import apply_overrides, from_dict, load_config

    if args.config is not None:
        return load_config(args.config, args.overrides)
    if args.resume is None:
        raise InvalidInputError("give a config file (-c config.yaml) or a checkpoint (--resume)")
    config = apply_overrides(from_dict(load_checkpoint(args.resume)["config"]), args.overrides)
    config.check()
    return config


def run_train(args) -> int:
    from tqdm import tqdm

    from facerecon.train.loop import Trainer

    config = _config(args)
    trainer = Trainer(config, resume=args.resume)
    if args.validate_only:
        print(json.dumps({"step": trainer.step, **trainer.validate()}, indent=1))
        return 0
    stop = min(trainer.total_steps, config.max_steps or trainer.total_steps)
    print(f"facerecon train: {config.model} on {trainer.device}, {len(trainer.train_set)} train / "
          f"{len(trainer.val_set) if trainer.val_set else 0} val samples, "
          f"{trainer.steps_per_epoch} steps/epoch, steps {trainer.step}..{stop} "
          f"of {trainer.total_steps}; output {Path(config.output_dir).resolve()}",
          file=sys.stderr)
    bar = None if args.no_progress else tqdm(total=stop, initial=trainer.step, unit="step",
                                             file=sys.stderr, dynamic_ncols=True)

    def on_step(record: dict) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix(epoch=record["epoch"], loss=f"{record['loss']:.3g}",
                            lr=f"{record['lr']:.2e}")

    try:
        summary = trainer.run(on_step=on_step)
    finally:
        if bar is not None:
            bar.close()
    print(json.dumps(summary, indent=1))
    return 0
