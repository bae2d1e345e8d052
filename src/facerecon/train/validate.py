"""Validation: landmark NME of a position-map network on the val split.

Landmarks are decoded from the predicted position maps with :func:`facerecon.posmap.decode`
(topology of the model's output size) and compared in 2D with the position map's own
landmarks (``nme_bbox``: mean error / sqrt(w*h) of the ground-truth 68-point box, the
AFLW2000-3D normaliser). Real 300-W photos also get the 300-W metric against their human
annotation (``nme_interocular_300w``: / outer inter-ocular distance). Values are fractions.
The surface is scored too: ``val_gradient_loss``
(:func:`facerecon.train.losses.posmap_gradient_loss` against the reachable targets) and
``normal_error_deg`` (the mean angle between predicted and true facet normals,
:mod:`facerecon.evaluate.surface`, against the unclipped maps, so a forehead cut off by the
crop counts).

With ``fill_black`` every crop's black regions (outside the photo) are first filled by the
augmentation's background step, seeded by the batch index (the same crops every time): a
model that found the face through the black frame of tight photos would otherwise look
better on validation than on real photos (docs/training.md).
"""

from __future__ import annotations

import numpy as np
import torch

from facerecon.evaluate.metrics import nme_bbox, nme_interocular
from facerecon.evaluate.surface import normal_error_deg
from facerecon.models import ModelConfig
from facerecon.posmap import decode
from facerecon.topology import load_topology
from facerecon.train.augment import fill_black_regions
from facerecon.train.losses import posmap_gradient_loss, weighted_posmap_loss


def normalize_on(images: torch.Tensor, model_config: ModelConfig,
                 device: torch.device) -> torch.Tensor:
    """``model_config.normalize`` computed on ``device``: uint8 (B, S, S, 3) -> (B, 3, S, S).

    Same formula, ``(pixel / 255 - mean) / std``; on a GPU it saves moving float32 batches.
    """
    mean = torch.tensor(model_config.mean, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    std = torch.tensor(model_config.std, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    floats = images.to(device, non_blocking=True).permute(0, 3, 1, 2).to(torch.float32)
    return (floats / 255.0 - mean) / std


def forward(model: torch.nn.Module, model_config: ModelConfig, images: torch.Tensor,
            device: torch.device, bf16: bool, channels_last: bool) -> torch.Tensor:
    """uint8 (B, S, S, 3) crops -> (B, R, R, 3) float32 position maps (graph kept)."""
    inputs = normalize_on(images, model_config, device)
    inputs = inputs.contiguous(
        memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        output = model(inputs)
    return output.float().permute(0, 2, 3, 1)

def clamp_targets(posmaps: torch.Tensor, output_scale: float) -> torch.Tensor:
    """Targets the network can reach: values clipped to ``[0, output_scale]``.

    A face partly outside the crop has x or y < 0 or > the crop; ``sigmoid * output_scale``
    cannot go there, so the loss asks for the nearest reachable value instead of leaving a
    floor no weights can remove. Validation NME uses the unclipped landmarks.
    """
    return posmaps.clamp(0.0, output_scale)


@torch.no_grad()
def validate(model: torch.nn.Module, model_config: ModelConfig, loader, weights: torch.Tensor,
             device: torch.device, bf16: bool, channels_last: bool,
             fill_black: bool = False) -> dict[str, float]:
    """Mean loss and NMEs over ``loader`` (batches of :func:`facerecon.train.dataset.collate`).

    The model is put in eval mode and back in train mode afterwards. ``fill_black``: see the
    module docstring.
    """
    topology = load_topology(model_config.output_size)
    was_training = model.training
    model.eval()
    losses, gradient_losses, counts, bbox, interocular, normals = [], [], [], [], [], []
    try:
        for index, batch in enumerate(loader):
            images = batch["image"]
            if fill_black:
                images = fill_black_regions(images, 1.0, torch.Generator().manual_seed(index))
            pred = forward(model, model_config, images, device, bf16, channels_last)
            target = clamp_targets(batch["posmap"].to(device), model_config.output_scale)
            loss = weighted_posmap_loss(pred, target, weights, model_config.input_size)
            losses.append(float(loss))
            gradient_losses.append(float(posmap_gradient_loss(pred, target, weights,
                                                              model_config.input_size)))
            counts.append(len(pred))
            pred_maps = pred.cpu().numpy()
            normals.append(np.atleast_1d(normal_error_deg(pred_maps, batch["posmap"].numpy(),
                                                          topology.uv_mask)))
            landmarks = decode(pred_maps, topology).landmarks
            bbox.append(np.atleast_1d(nme_bbox(landmarks, batch["landmarks"].numpy())))
            real = batch["is_300w_real"].numpy()
            if real.any():
                annotation = batch["annotation"].numpy()[real]
                interocular.append(np.atleast_1d(nme_interocular(landmarks[real], annotation)))
    finally:
        model.train(was_training)
    errors = np.concatenate(bbox)
    result = {"val_loss": float(np.average(losses, weights=counts)),
              "val_gradient_loss": float(np.average(gradient_losses, weights=counts)),
              "normal_error_deg": float(np.concatenate(normals).mean()),
              "nme_bbox": float(errors.mean()), "val_samples": int(len(errors))}
    if interocular:
        values = np.concatenate(interocular)
        result["nme_interocular_300w"] = float(values.mean())
        result["val_samples_300w"] = int(len(values))
    return result
