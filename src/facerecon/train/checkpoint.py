"""Training checkpoints (exact resume) and the exported ``.safetensors`` weights.

A checkpoint is a ``torch.save`` dict of plain tensors, numbers and strings, written
atomically and read back with ``weights_only=True`` (no pickled code runs). It holds what the
next step depends on: model (parameters and batch-norm buffers), optimiser (Adam moments and
step counts), scheduler, the global torch RNG states, the step and the best validation score.
Data order and augmentation draws are functions of (seed, epoch, step), so they need no state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import torch

from facerecon.atomic import atomic_path
from facerecon.data.shards import list_shards
from facerecon.errors import DataNotFoundError, InvalidInputError
from facerecon.models import save_weights

CHECKPOINT_VERSION = 1


def save_checkpoint(path: str | Path, *, model: torch.nn.Module, optimizer, scheduler,
                    step: int, best_score: float, config: dict, last_val: dict,
                    train_samples: int) -> Path:
    """Write a resumable checkpoint atomically; returns its path.

    ``train_samples`` (the training set's size) lets a resume notice that the data changed.
    """
    state = {
        "version": CHECKPOINT_VERSION,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "step": int(step),
        "train_samples": int(train_samples),
        "best_score": float(best_score),
        "config_json": json.dumps(config, sort_keys=True),
        "last_val_json": json.dumps(last_val, sort_keys=True),
        "torch_rng": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint of :func:`save_checkpoint` (``config``, ``last_val`` decoded to dicts).

    Raises:
        DataNotFoundError: no such file.
        InvalidInputError: not a facerecon training checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"no checkpoint {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for foreign or corrupt files
        raise InvalidInputError(f"{path}: not a readable checkpoint ({error})") from error
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        raise InvalidInputError(f"{path}: not a facerecon training checkpoint")
    state["config"] = json.loads(state.pop("config_json"))
    state["last_val"] = json.loads(state.pop("last_val_json"))
    return state


def restore_rng(state: dict) -> None:
    """Put back the global RNG states saved in a checkpoint."""
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])


def data_fingerprint(data_dirs: str | Path | Sequence[str | Path]) -> dict[str, str]:
    """Identify the training data: sha256 of the build's ``manifest.json`` when there is one,
    else of its ``config.json`` plus every shard's name and size. For several builds, the
    sha256 of their fingerprints in order (one build gives its own fingerprint)."""
    folders = [data_dirs] if isinstance(data_dirs, str | Path) else list(data_dirs)
    if len(folders) != 1:
        parts = [data_fingerprint(folder) for folder in folders]
        digest = hashlib.sha256("".join(f"{part['data_manifest_sha256']}\n"
                                        for part in parts).encode())
        return {"data_manifest_sha256": digest.hexdigest(),
                "data_manifest": f"{len(parts)} builds: " + "; ".join(
                    f"{part['data_manifest']} {part['data_manifest_sha256']}" for part in parts)}
    data_dir = Path(folders[0])
    manifest = data_dir / "manifest.json"
    digest = hashlib.sha256()
    if manifest.is_file():
        digest.update(manifest.read_bytes())
        return {"data_manifest_sha256": digest.hexdigest(), "data_manifest": "manifest.json"}
    shards = list_shards(data_dir)
    if not shards:
        raise DataNotFoundError(f"no shards in {data_dir}")
    config = data_dir / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    for shard in shards:
        digest.update(f"{shard.name}:{shard.stat().st_size}\n".encode())
    return {"data_manifest_sha256": digest.hexdigest(),
            "data_manifest": "config.json + shard names and sizes (no manifest.json yet)"}


def export_weights(path: str | Path, model: torch.nn.Module, *, model_name: str, config: dict,
                   metrics: dict, data: dict[str, str], step: int) -> Path:
    """Save inference weights as ``.safetensors`` with the run's provenance as metadata.

    Metadata keys (all strings): ``model``, ``config`` (JSON), ``metrics`` (JSON), ``step``,
    ``data_manifest_sha256``, ``data_manifest``, ``format`` ("facerecon-posmap").
    """
    metadata = {"format": "facerecon-posmap", "model": model_name,
                "config": json.dumps(config, sort_keys=True),
                "metrics": json.dumps(metrics, sort_keys=True), "step": str(int(step)), **data}
    return save_weights(model, path, metadata=metadata)
