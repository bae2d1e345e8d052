"""Run a position-map network on RGB crops: uint8 in, float32 position maps out."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from facerecon.errors import InvalidInputError
from facerecon.models.config import ModelConfig


def predict_posmaps(
    model: nn.Module,
    config: ModelConfig,
    crops: np.ndarray,
    *,
    batch_size: int = 16,
    bf16: bool = False,
    channels_last: bool = True,
) -> np.ndarray:
    """Position maps for a stack of crops.

    Args:
        model: a network from :func:`facerecon.models.create_model` (or its
            :func:`facerecon.models.prepare_for_inference` copy, or that copy's
            :func:`facerecon.models.freeze_for_cpu` trace, each faster); it is run as it is,
            so put it in eval mode. It runs on the device of its parameters (the CPU when it
            has none, as a frozen trace).
        config: the model's config; gives the crop size and the normalisation.
        crops: (B, S, S, 3) ``uint8`` RGB, S = ``config.input_size``; not modified.
        batch_size: crops per forward pass.
        bf16: run under bfloat16 autocast. Off by default: on random-init networks it moved
            outputs by a fraction of a pixel for no speed gain at batch 1 (see docs/models.md).
        channels_last: feed channels-last tensors (matches a channels-last model).

    Returns:
        (B, R, R, 3) float32 position maps, R = ``config.output_size``: x, y, z in pixels of
        the input crop (x right, y down, larger z nearer), each in ``[0, config.output_scale]``.

    Raises:
        InvalidInputError: crops of the wrong dtype or shape, or ``batch_size < 1``.
    """
    crops = np.asarray(crops)
    size = config.output_size
    posmaps = _forward(model, config, crops, batch_size, bf16, channels_last,
                       lambda output: output.permute(0, 2, 3, 1), (size, size, 3))
    if posmaps.shape[1:] != (size, size, 3):
        raise InvalidInputError(
            f"model returned maps of shape {posmaps.shape[1:]}, config says ({size}, {size}, 3)"
        )
    return posmaps


def predict_texels(model: nn.Module, config: ModelConfig, crops: np.ndarray, texel_count: int,
                   *, batch_size: int = 16) -> np.ndarray:
    """A :class:`~facerecon.models.texels.TexelNet` (or its frozen trace) on a stack of
    crops: its weighted sums of position-map texels, without the rest of the map.

    Args:
        model: the texel network, in eval mode; run on the device of its parameters.
        config: the config of the network it was made from.
        crops: (B, S, S, 3) ``uint8`` RGB, S = ``config.input_size``; not modified.
        texel_count: N, the number of sums the network returns (a frozen trace does not
            say).
        batch_size: crops per forward pass.

    Returns:
        (B, N, 3) float32: x, y, z in pixels of the input crop.

    Raises:
        InvalidInputError: crops of the wrong dtype or shape, or ``batch_size < 1``.
    """
    return _forward(model, config, np.asarray(crops), batch_size, False, True,
                    lambda output: output, (texel_count, 3))


def _forward(model, config: ModelConfig, crops: np.ndarray, batch_size: int, bf16: bool,
             channels_last: bool, arrange, empty_shape: tuple) -> np.ndarray:
    """``arrange(model(inputs))`` for batches of ``batch_size`` normalised crops, stacked
    as one float32 array; ``(0, *empty_shape)`` for no crops (validated all the same)."""
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be >= 1, got {batch_size}")
    if crops.ndim == 4 and crops.shape[0] == 0:
        config.normalize(np.zeros((1, *crops.shape[1:]), dtype=crops.dtype))  # validates
        return np.zeros((0, *empty_shape), dtype=np.float32)
    device = next((parameter.device for parameter in model.parameters()), torch.device("cpu"))
    chunks = []
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        for start in range(0, len(crops), batch_size):
            inputs = config.normalize(crops[start : start + batch_size], channels_last)
            chunks.append(arrange(model(inputs.to(device)).float()).cpu())
    outputs = chunks[0] if len(chunks) == 1 else torch.cat(chunks)
    return np.ascontiguousarray(outputs.numpy(), dtype=np.float32)
