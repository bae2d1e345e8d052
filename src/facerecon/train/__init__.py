"""Training of the position-map networks (``facerecon train``; docs/training.md).

- :mod:`.config`: :class:`TrainConfig` / :class:`AugmentConfig`, YAML + ``key=value``.
- :mod:`.dataset`: :class:`ShardDataset` over the shards of ``facerecon data build``.
- :mod:`.augment`: PRN's augmentation on batches, image and position map alike.
- :mod:`.losses`: PRN's weighted position-map loss.
- :mod:`.loop`: :class:`Trainer` (schedule, bf16, checkpoints, exact resume, validation).
"""

from facerecon.train.augment import augment_batch
from facerecon.train.config import AugmentConfig, TrainConfig, apply_overrides, load_config
from facerecon.train.dataset import ShardDataset
from facerecon.train.loop import Trainer
from facerecon.train.losses import weighted_posmap_loss
from facerecon.train.resample import resample_posmap

__all__ = [
    "AugmentConfig",
    "ShardDataset",
    "TrainConfig",
    "Trainer",
    "apply_overrides",
    "augment_batch",
    "load_config",
    "resample_posmap",
    "weighted_posmap_loss",
]
