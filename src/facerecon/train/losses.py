"""PRN's weighted position-map loss, normalised so that its value reads as an error size.

PRN (Feng et al. 2018, eq. 1) weights the squared error of every UV pixel by a mask
(landmarks 16 : eyes, nose, mouth 4 : rest of face 3 : ears and under-jaw 1 : outside 0 here,
the topology's ``weight_mask``). We divide by the sum of the weights and express distances in
percent of the crop side S:

    loss = sum_p w_p ||pred_p - target_p||^2 / sum_p w_p / (S / 100)^2      (batch mean)

so ``sqrt(loss)`` is the weighted RMS 3D error in % of the crop side, whatever the model's
resolution (a 1.28 px error everywhere on a 128 crop gives loss 1.0).

PRN's loss scores every pixel on its own, so a map whose neighbouring pixels are off by
different amounts (a rough surface: ridges in shading, normals 30 degrees off) costs
little more than a smooth map with the same average offset. The gradient loss (ours, off
unless ``gradient_loss_weight`` > 0) scores the first differences of neighbouring UV pixels,
along u and along v, against the target's, in the same units:

    gradient = sum_pq w_pq ||(pred_q - pred_p) - (target_q - target_p)||^2 / sum_pq w_pq
               / (S / 100)^2      over neighbour pairs, w_pq = min(w_p, w_q)   (batch mean)

A constant offset costs nothing there; only the shape of the surface does.

PRN's mask gives the 68 landmark pixels 11 % of the weight (272 of 16,384 pixels at 128).
The landmark loss (ours, off unless ``landmark_loss_weight`` > 0) scores the 68 landmarks
exactly as the pipeline reads them from a map (:func:`facerecon.posmap.decode`: a fixed
weighted sum of 12 UV pixels each), in the same units:

    landmark = sum_l ||decode(pred)_l - decode(target)_l||^2 / 68 / (S / 100)^2  (batch mean)

so ``sqrt(landmark)`` is the RMS 3D landmark error in % of the crop side.

>>> import torch
>>> weights = torch.ones(4, 4)
>>> target = torch.zeros(1, 4, 4, 3)
>>> float(weighted_posmap_loss(target + torch.tensor([3.0, 4.0, 0.0]), target, weights, 500))
1.0
"""

from __future__ import annotations

import torch

from facerecon.errors import InvalidInputError


def _check(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> None:
    if pred.shape != target.shape or pred.shape[1:3] != weights.shape or pred.shape[-1] != 3:
        raise InvalidInputError(
            f"pred {tuple(pred.shape)}, target {tuple(target.shape)} and weights "
            f"{tuple(weights.shape)} must be (B, R, R, 3), (B, R, R, 3), (R, R)")


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
    _check(pred, target, weights)
    total = weights.sum()
    if not total > 0:
        raise InvalidInputError("the weight mask is all zero")
    squared = (pred.float() - target.float()).square().sum(dim=-1)  # (B, R, R)
    per_sample = (squared * weights).sum(dim=(1, 2)) / total
    return per_sample.mean() / (crop_size / 100.0) ** 2


def posmap_gradient_loss(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor,
                         crop_size: int) -> torch.Tensor:
    """The normalised weighted squared error of neighbour differences (module docstring).

    Same arguments, shapes and errors as :func:`weighted_posmap_loss`; a pair of pixels
    counts with the smaller of their weights, so a pair with one pixel outside the face
    (weight 0) does not count.
    """
    _check(pred, target, weights)
    total = pred.new_zeros((), dtype=torch.float32)
    weighted = pred.new_zeros(pred.shape[0], dtype=torch.float32)
    for axis in (1, 2):  # v (rows), u (columns) of the (B, R, R, 3) maps
        length = pred.shape[axis] - 1
        step = (pred.float().diff(dim=axis) - target.float().diff(dim=axis)).square().sum(-1)
        pair = torch.minimum(weights.narrow(axis - 1, 0, length),
                             weights.narrow(axis - 1, 1, length))
        weighted = weighted + (step * pair).sum(dim=(1, 2))
        total = total + pair.sum()
    if not total > 0:
        raise InvalidInputError("no two neighbouring pixels have weight")
    return (weighted / total).mean() / (crop_size / 100.0) ** 2


def landmark_loss(pred: torch.Tensor, target: torch.Tensor, sample_index: torch.Tensor,
                  sample_weight: torch.Tensor, crop_size: int) -> torch.Tensor:
    """The normalised squared error of the decoded 68 landmarks (module docstring); 0-d.

    Args:
        pred, target: (B, R, R, 3) position maps in crop pixels, as for
            :func:`weighted_posmap_loss`.
        sample_index: (L, K) int64 flat UV pixel indices (row * R + column) of each
            landmark's samples, the topology's ``landmark_sample_index``.
        sample_weight: (L, K) float32 weights of those samples (each row sums to 1), the
            topology's ``landmark_sample_weight``.
        crop_size: S, the side of the crop the coordinates are pixels of.

    Raises:
        InvalidInputError: maps that are not (B, R, R, 3) alike, or index and weight arrays
            of different shapes.
    """
    if pred.shape != target.shape or pred.ndim != 4 or pred.shape[-1] != 3:
        raise InvalidInputError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} "
                                "must both be (B, R, R, 3)")
    if sample_index.shape != sample_weight.shape or sample_index.ndim != 2:
        raise InvalidInputError(f"sample_index {tuple(sample_index.shape)} and sample_weight "
                                f"{tuple(sample_weight.shape)} must be the same (L, K)")
    pixels = sample_index.reshape(-1)  # gather the L*K read pixels before any arithmetic
    difference = (pred.flatten(1, 2)[:, pixels].float()
                  - target.flatten(1, 2)[:, pixels].float())  # (B, L*K, 3): decode is linear
    samples = difference.unflatten(1, tuple(sample_index.shape))  # (B, L, K, 3)
    error = torch.einsum("blkc,lk->blc", samples, sample_weight)  # (B, L, 3)
    return error.square().sum(-1).mean() / (crop_size / 100.0) ** 2


def loss_weights(weight_mask, device: torch.device | str = "cpu") -> torch.Tensor:
    """(R, R) float32 tensor of a topology's ``weight_mask`` (the loss normalises it)."""
    weights = torch.tensor(weight_mask, dtype=torch.float32, device=device)
    if weights.ndim != 2 or bool((weights < 0).any()):
        raise InvalidInputError("weight_mask must be a non-negative (R, R) array")
    return weights
