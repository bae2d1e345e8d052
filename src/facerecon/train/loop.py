"""The training loop: Adam(W), step/cosine schedule, bf16 autocast, checkpoints, exact resume.

Determinism: the data order of epoch e is a permutation seeded by (seed, e), and the
augmentation of step k draws from a generator seeded by (seed, k), so a run resumed from a
checkpoint at step k replays exactly the batches and draws an uninterrupted run would see;
the checkpoint restores everything else (:mod:`facerecon.train.checkpoint`). Tested: N steps
straight and N/2 + resume + N/2 give bit-identical weights on the CPU.

Files in ``output_dir``: ``last.pt`` (resumable checkpoint, every ``checkpoint_every_steps``,
at each epoch end and when the run stops), ``best.safetensors`` (weights with the lowest
val ``nme_bbox`` so far), ``final.safetensors`` (weights at the end), ``metrics.jsonl`` (one
JSON record per log interval and per validation), ``curves.png``, ``config.yaml``.

The schedule spans ``epochs``; ``max_steps`` / ``max_minutes`` only stop a run early (it can
be resumed), so a time-boxed run and a full run follow the same learning-rate curve.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader, Sampler

from facerecon.atomic import write_text
from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.models import create_model, get_config, load_weights, resolve_device
from facerecon.topology import load_topology
from facerecon.train.augment import augment_batch, mirror_columns, mirror_posmaps
from facerecon.train.checkpoint import (
    data_fingerprint,
    export_weights,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from facerecon.train.config import TrainConfig, from_dict
from facerecon.train.dataset import ShardDataset, collate
from facerecon.train.losses import (
    landmark_loss,
    loss_weights,
    posmap_gradient_loss,
    weighted_posmap_loss,
)
from facerecon.train.plot import write_curves
from facerecon.train.validate import clamp_targets, forward, validate

#: Settings a resumed run may change: they time-box, log or parallelise, never alter a step.
RESUMABLE_CHANGES = frozenset({"max_steps", "max_minutes", "workers", "threads",
                               "checkpoint_every_steps", "log_every_steps", "output_dir"})


def _seed_of(*values: int) -> int:
    return int(np.random.SeedSequence([int(v) for v in values]).generate_state(1)[0])


class EpochBatches(Sampler):
    """Batches of one epoch: the sample indices ``epoch_indices`` (a sample repeated appears
    that many times) in a permutation seeded by (seed, epoch), last partial batch dropped,
    starting at batch ``start`` (to resume mid-epoch). With ``np.arange(n)`` the order is
    the plain permutation of the n samples."""

    def __init__(self, epoch_indices: np.ndarray, batch_size: int, seed: int, epoch: int,
                 start: int = 0):
        self.length, self.batch_size, self.start = len(epoch_indices), batch_size, start
        permutation = np.random.default_rng([seed, epoch]).permutation(self.length)
        self.order = np.asarray(epoch_indices)[permutation]

    def __len__(self) -> int:
        return self.length // self.batch_size - self.start

    def __iter__(self) -> Iterator[list[int]]:
        for index in range(self.start, self.length // self.batch_size):
            yield self.order[index * self.batch_size:(index + 1) * self.batch_size].tolist()


def lr_factor(step: int, config: TrainConfig, steps_per_epoch: int) -> float:
    """Multiplier of ``config.lr`` at ``step`` (warm-up, then cosine or step decay)."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "step":
        return config.step_gamma ** (step // (config.step_epochs * steps_per_epoch))
    total = max(config.epochs * steps_per_epoch - config.warmup_steps, 1)
    progress = min((step - config.warmup_steps) / total, 1.0)
    floor = config.min_lr_ratio
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


class Trainer:
    """One training run. Build it, then :meth:`run`. See the module docstring for the files.

    Args:
        config: a validated :class:`TrainConfig`.
        resume: a ``last.pt`` checkpoint to continue from; its config must equal ``config``
            except for :data:`RESUMABLE_CHANGES`.

    Raises:
        DataNotFoundError: no training shards, or too few samples for one batch.
        InvalidInputError: unknown model, CUDA missing, or a resume with another config.
    """

    def __init__(self, config: TrainConfig, resume: str | Path | None = None):
        config.check()
        self.config = config
        self.device = resolve_device(config.device)
        if config.threads:
            torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        self.model_config = get_config(config.model)
        self.model = create_model(config.model)
        if config.init_weights:  # fine-tuning: start from saved weights (strict keys)
            load_weights(self.model, config.init_weights)
        self.model = self.model.train().to(self.device)
        if config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.train_set = ShardDataset(config.train_data_dirs, "train", self.model_config)
        # (M,) the sample indices one epoch visits: each once, 300-W's repeat_300w times.
        self.epoch_indices = np.repeat(
            np.arange(len(self.train_set)),
            np.where(self.train_set.is_300w, config.repeat_300w, 1))
        self.steps_per_epoch = len(self.epoch_indices) // config.batch_size
        if self.steps_per_epoch < 1:
            raise DataNotFoundError(
                f"{len(self.train_set)} training samples is less than one batch "
                f"of {config.batch_size}")
        try:
            self.val_set = ShardDataset(config.data_dir, "val", self.model_config,
                                        config.val_max_samples)
        except DataNotFoundError:
            self.val_set = None
        self.total_steps = config.epochs * self.steps_per_epoch
        topology = load_topology(self.model_config.output_size)
        self.uv_mask = torch.tensor(topology.uv_mask, device=self.device)
        self.weights = loss_weights(topology.weight_mask, self.device)
        # (68, K) where and how the pipeline reads the landmarks off a map (landmark loss).
        self.landmark_samples = (
            torch.tensor(topology.landmark_sample_index, dtype=torch.int64, device=self.device),
            torch.tensor(topology.landmark_sample_weight, dtype=torch.float32,
                         device=self.device))
        self.mirror_index = mirror_columns(self.uv_mask)  # (R, R) for mirror consistency
        optimizer_class = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
        self.optimizer = optimizer_class(self.model.parameters(), lr=config.lr,
                                         weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: lr_factor(step, config, self.steps_per_epoch))
        self.output = Path(config.output_dir)
        self.step = 0
        self.best_score = math.inf
        self.last_val: dict = {}
        if resume is not None:
            self._resume(resume)

    def _resume(self, path: str | Path) -> None:
        state = load_checkpoint(path)
        saved = from_dict(state["config"]).to_dict()
        current = self.config.to_dict()
        changed = sorted(key for key in current
                         if current[key] != saved[key] and key not in RESUMABLE_CHANGES)
        if changed:
            raise InvalidInputError(
                f"{path} was trained with other settings ({', '.join(changed)}); resume with "
                "the checkpoint's config (only max_steps, max_minutes, workers, threads, "
                "output_dir and the logging intervals may change)")
        if state["train_samples"] != len(self.train_set):
            raise InvalidInputError(
                f"{path} was trained on {state['train_samples']} training samples, "
                f"{', '.join(self.config.train_data_dirs)} now hold {len(self.train_set)}: the "
                "data order and schedule would differ, so this is not a resume; start a new run")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = state["step"]
        self.best_score = state["best_score"]
        self.last_val = state["last_val"]
        restore_rng(state)
        self._truncate_log()

    def _truncate_log(self) -> None:
        """Drop log records written after the checkpoint (a crash left them behind)."""
        path = self.output / "metrics.jsonl"
        if path.is_file():
            kept = [line for line in path.read_text(encoding="utf-8").splitlines()
                    if line.strip() and json.loads(line)["step"] <= self.step]
            write_text(path, "".join(line + "\n" for line in kept))

    def _log(self, record: dict) -> None:
        with open(self.output / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")

    def _loader(self, dataset, sampler) -> DataLoader:
        generator = torch.Generator().manual_seed(self.config.seed)
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate,
                          num_workers=self.config.workers, generator=generator,
                          persistent_workers=False, pin_memory=self.device.type == "cuda")

    def train_step(self, batch: dict) -> float:
        """One optimiser step on a collated batch; returns the loss it minimised (PRN's loss,
        with ``mirror_consistency_weight`` > 0 :meth:`_mirror_consistent_loss`, plus
        ``gradient_loss_weight`` x the gradient loss of the unmirrored pass, plus
        ``landmark_loss_weight`` x the landmark loss, of both passes averaged under mirror
        consistency)."""
        images = batch["image"].to(self.device, non_blocking=True)
        posmaps = batch["posmap"].to(self.device, non_blocking=True)
        if self.config.augment.enabled:
            # A CPU generator seeded by the step: the same draws on any device, and no state.
            generator = torch.Generator().manual_seed(_seed_of(self.config.seed, self.step))
            images, posmaps = augment_batch(images, posmaps, self.uv_mask, self.config.augment,
                                            generator)
        target = clamp_targets(posmaps, self.model_config.output_scale)
        if self.config.mirror_consistency_weight > 0:
            pred, loss = self._mirror_consistent_loss(images, target)
        else:
            pred = forward(self.model, self.model_config, images, self.device, self.config.bf16,
                           self.config.channels_last)
            loss = weighted_posmap_loss(pred, target, self.weights,
                                        self.model_config.input_size)
            if self.config.landmark_loss_weight > 0:
                loss = loss + self.config.landmark_loss_weight * self._landmark_loss(pred, target)
        if self.config.gradient_loss_weight > 0:
            loss = loss + self.config.gradient_loss_weight * posmap_gradient_loss(
                pred, target, self.weights, self.model_config.input_size)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        return float(loss.detach())

    def _mirror_consistent_loss(self, images: torch.Tensor,
                                target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(pred, loss) for (B, S, S, 3) uint8 crops and (B, R, R, 3) targets: the crops and
        their mirrors in one pass, the mirrors' maps mapped back (``back``), and
        ``(PRN(pred, target) + PRN(back, target)) / 2 + weight * PRN(pred, back)``; with
        ``mirror_targets_in_crop`` the targets' x clipped to [0, S - 1] first."""
        count, size = images.shape[0], self.model_config.input_size
        if self.config.mirror_targets_in_crop:
            target = torch.cat([target[..., :1].clamp(0.0, size - 1.0), target[..., 1:]], -1)
        both = forward(self.model, self.model_config, torch.cat([images, images.flip(2)]),
                       self.device, self.config.bf16, self.config.channels_last)
        pred, back = both[:count], mirror_posmaps(both[count:], self.mirror_index, size)
        supervised = (weighted_posmap_loss(pred, target, self.weights, size)
                      + weighted_posmap_loss(back, target, self.weights, size)) / 2
        consistency = weighted_posmap_loss(pred, back, self.weights, size)
        loss = supervised + self.config.mirror_consistency_weight * consistency
        if self.config.landmark_loss_weight > 0:
            landmarks = (self._landmark_loss(pred, target) + self._landmark_loss(back, target)) / 2
            loss = loss + self.config.landmark_loss_weight * landmarks
        return pred, loss

    def _landmark_loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """:func:`landmark_loss` of (B, R, R, 3) maps with this model's topology and crop."""
        return landmark_loss(pred, target, *self.landmark_samples, self.model_config.input_size)

    def validate(self) -> dict:
        """Validation of the current weights on the build's ``val`` split, as logged each
        epoch (``val_loss``, ``nme_bbox``, ``nme_interocular_300w`` where 300-W photos are
        in it; fractions, not %), without training or writing anything.

        Raises:
            DataNotFoundError: the build has no ``val`` split.
        """
        if self.val_set is None:
            raise DataNotFoundError(f"{self.config.data_dir} has no val shards to validate on")
        sampler = [list(range(i, min(i + self.config.batch_size, len(self.val_set))))
                   for i in range(0, len(self.val_set), self.config.batch_size)]
        augment = self.config.augment
        return validate(self.model, self.model_config, self._loader(self.val_set, sampler),
                        self.weights, self.device, self.config.bf16, self.config.channels_last,
                        fill_black=augment.enabled and augment.background_prob > 0)

    def _checkpoint(self) -> None:
        save_checkpoint(self.output / "last.pt", model=self.model, optimizer=self.optimizer,
                        scheduler=self.scheduler, step=self.step, best_score=self.best_score,
                        config=self.config.to_dict(), last_val=self.last_val,
                        train_samples=len(self.train_set))

    def _export(self, name: str, data: dict) -> Path:
        metrics = {**self.last_val, "best_nme_bbox": self._best()}
        return export_weights(self.output / name, self.model, model_name=self.config.model,
                              config=self.config.to_dict(), metrics=metrics, data=data,
                              step=self.step)

    def run(self, on_step: Callable[[dict], None] | None = None) -> dict:
        """Train until ``epochs`` are done or a time box is hit; returns a summary dict.

        ``on_step(record)`` is called after every step with ``step``, ``epoch``, ``loss``,
        ``lr`` (for progress bars; the library itself never prints).
        """
        config = self.config
        self.output.mkdir(parents=True, exist_ok=True)
        write_text(self.output / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))
        data = data_fingerprint(config.train_data_dirs)
        stop_step = min(self.total_steps, config.max_steps or self.total_steps)
        started = time.monotonic()
        timed_out = False
        while self.step < stop_step and not timed_out:
            epoch, start = divmod(self.step, self.steps_per_epoch)
            sampler = EpochBatches(self.epoch_indices, config.batch_size, config.seed, epoch,
                                   start)
            window_start, window_images, window_losses = time.monotonic(), 0, []
            for batch in self._loader(self.train_set, sampler):
                lr = self.optimizer.param_groups[0]["lr"]  # the rate this step uses
                loss = self.train_step(batch)
                window_images += len(batch["image"])
                window_losses.append(loss)
                if on_step:
                    on_step({"step": self.step, "epoch": epoch, "loss": loss, "lr": lr})
                if self.step % config.log_every_steps == 0 or self.step == stop_step:
                    elapsed = time.monotonic() - window_start
                    self._log({"kind": "train", "step": self.step, "epoch": epoch,
                               "loss": float(np.mean(window_losses)), "lr": lr,
                               "img_per_s": window_images / max(elapsed, 1e-9)})
                    window_start, window_images, window_losses = time.monotonic(), 0, []
                if self.step % config.checkpoint_every_steps == 0:
                    self._checkpoint()
                timed_out = bool(config.max_minutes) and (
                    time.monotonic() - started > 60 * config.max_minutes)
                if self.step >= stop_step or timed_out:
                    break
            epoch_done = self.step % self.steps_per_epoch == 0
            scheduled = (self.step // self.steps_per_epoch) % config.val_every_epochs == 0
            stopping = self.step >= stop_step or timed_out
            # Validate at each scheduled epoch end, and once when the run stops (a time-boxed
            # run still reports where it got to). Evaluation changes no training state.
            if self.val_set is not None and ((epoch_done and scheduled) or stopping):
                self._validate_and_log(epoch, data)
            self._checkpoint()
            write_curves(self.output / "curves.png", self.history())
        final = self._export("final.safetensors", data)
        return {"step": self.step, "total_steps": self.total_steps, "timed_out": timed_out,
                "final_weights": str(final), "best_nme_bbox": self._best(),
                "last_val": self.last_val, "minutes": (time.monotonic() - started) / 60}

    def _validate_and_log(self, epoch: int, data: dict) -> None:
        self.last_val = {"step": self.step, **self.validate()}
        self._log({"kind": "val", "epoch": epoch, **self.last_val})
        if self.last_val["nme_bbox"] < self.best_score:
            self.best_score = self.last_val["nme_bbox"]
            self._export("best.safetensors", data)

    def _best(self) -> float | None:
        """The best validation nme_bbox, None before any validation (keeps JSON standard)."""
        return self.best_score if math.isfinite(self.best_score) else None

    def history(self) -> list[dict]:
        """The records of ``metrics.jsonl`` so far."""
        path = self.output / "metrics.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]
