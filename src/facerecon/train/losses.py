"""PRN's weighted position-map loss, normalised so that its value reads as an error size.

PRN (Feng et al. 2018, eq. 1) weights the squared error of every UV pixel by a mask
(landmarks 16 : eyes, nose, mouth 4 : rest of face 3 : ears and under-jaw 1 : outside 0 here,
the topology's ``weight_mask``). We divide by the sum of the weights and express distances in
percent of the crop side S:

    loss = sum_p w_p ||pred_p - target_p||^2 / sum_p w_p / (S / 100)^2      (batch mean)

so ``sqrt(loss)`` is the weighted RMS 3D error in % of the crop side, whatever the model's
resolution (a 1.28 px error everywhere on a 128 crop gives loss 1.0).

>>> import torch
>>> weights = torch.ones(4, 4)
>>> target = torch.zeros(1, 4, 4, 3)
>>> float(weighted_posmap_loss(target + torch.tensor([3.0, 4.0, 0.0]), target, weights, 500))
1.0
"""

from __future__ import annotations

import torch

from facerecon.errors import InvalidInputError


def weighted_posmap_loss(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor,
                         crop_size: int) -> torch.Tensor:
    """The normalised weighted squared error (module docstring); a 0-d tensor.

    Args:
        pred: (B, R, R, 3) predicted position maps in crop pixels (channels last, as the
            codec stores them; permute a network's (B, 3, R, R) output first).
        target: (B, R, R, 3) target position maps, same frame.
        weights: (R, R) non-negative per-pixel weights, not all zero.
        crop_size: S, the side of the crop the coordinates are pixels of.

    Raises:
        InvalidInputError: mismatched shapes or an all-zero weight mask.
    """
    if pred.shape != target.shape or pred.shape[1:3] != weights.shape or pred.shape[-1] != 3:
        raise InvalidInputError(
            f"pred {tuple(pred.shape)}, target {tuple(target.shape)} and weights "
            f"{tuple(weights.shape)} must be (B, R, R, 3), (B, R, R, 3), (R, R)")
    total = weights.sum()
    if not total > 0:
        raise InvalidInputError("the weight mask is all zero")
    squared = (pred.float() - target.float()).square().sum(dim=-1)  # (B, R, R)
    per_sample = (squared * weights).sum(dim=(1, 2)) / total
    return per_sample.mean() / (crop_size / 100.0) ** 2


def loss_weights(weight_mask, device: torch.device | str = "cpu") -> torch.Tensor:
    """(R, R) float32 tensor of a topology's ``weight_mask`` (the loss normalises it)."""
    weights = torch.tensor(weight_mask, dtype=torch.float32, device=device)
    if weights.ndim != 2 or bool((weights < 0).any()):
        raise InvalidInputError("weight_mask must be a non-negative (R, R) array")
    return weights
