"""Weights on disk: ``.safetensors`` only, loaded strictly.

safetensors holds plain tensors, so loading weights never runs pickled code. Loading checks
every key and shape against the architecture and names each mismatch, because a silently
half-loaded network still runs and returns plausible-looking garbage.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from facerecon.atomic import atomic_path
from facerecon.errors import WeightsError

WEIGHTS_SUFFIX = ".safetensors"
_LISTED = 8  # how many offending keys an error message names before summarising


def _check_suffix(path: Path) -> None:
    if path.suffix != WEIGHTS_SUFFIX:
        raise WeightsError(f"{path}: weights must be a {WEIGHTS_SUFFIX} file")


def save_weights(
    model: nn.Module, path: str | os.PathLike, metadata: dict[str, str] | None = None
) -> Path:
    """Write ``model.state_dict()`` (parameters and batch-norm buffers) atomically.

    Tensors are stored contiguous on the CPU in their own dtype; ``metadata`` is free-form
    text kept in the file header (e.g. the model name). Returns the written path.
    """
    path = Path(path)
    _check_suffix(path)
    tensors = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


def _summarise(keys: list[str]) -> str:
    shown = ", ".join(keys[:_LISTED])
    return shown + (f" ... (+{len(keys) - _LISTED} more)" if len(keys) > _LISTED else "")


def load_weights(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load a ``.safetensors`` file into ``model`` in place, strictly; returns ``model``.

    Raises:
        WeightsError: the file is missing, not safetensors, or its keys or shapes differ from
            the model's (missing, unexpected and mis-shaped keys are all listed).
    """
    path = Path(path)
    _check_suffix(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise WeightsError(f"{path}: not a readable safetensors file ({error})") from error
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    misshaped = sorted(
        f"{key} {tuple(tensors[key].shape)} != {tuple(expected[key].shape)}"
        for key in set(expected) & set(tensors)
        if tensors[key].shape != expected[key].shape
    )
    problems = []
    if missing:
        problems.append(f"missing keys: {_summarise(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_summarise(unexpected)}")
    if misshaped:
        problems.append(f"mis-shaped keys: {_summarise(misshaped)}")
    if problems:
        name = type(model).__name__
        raise WeightsError(f"{path} does not match {name}: " + "; ".join(problems))
    with torch.no_grad():
        model.load_state_dict(tensors, strict=True)
    return model


def weights_model(path: str | os.PathLike) -> str | None:
    """The registered model a weights file says it was trained as (its ``"model"`` metadata,
    written by ``facerecon train``), or None when the file does not say.

    Networks of one architecture at different input sizes (``mobile_posmap64`` /
    ``128``) load each other's weights without a key or shape error and then predict
    garbage, so the pipeline reads this before it runs a file.

    Raises:
        WeightsError: the file is missing or not safetensors.
    """
    path = Path(path)
    _check_suffix(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    try:
        with safe_open(str(path), "pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise WeightsError(f"{path}: not a readable safetensors file ({error})") from error
    return metadata.get("model") or None
