"""Model configuration: what a network expects as input and what its output means.

The config carries the preprocessing so no caller hard-codes it:

- Input: an RGB crop of ``input_size x input_size`` pixels. ``uint8`` values are mapped to
  floats by ``(pixel / 255 - mean) / std`` per channel, i.e. ``mean`` and ``std`` are given
  in units of RGB floats in [0, 1] (PRN uses plain ``pixel / 255``: mean 0, std 1). The
  network takes ``(B, 3, input_size, input_size)`` float32, channels R, G, B.
- Output: ``(B, 3, output_size, output_size)`` float32, a UV position map. Channels are
  x, y, z in **pixels of the input crop** (the crop given to the network, whatever the
  output resolution): x to the right, y down, z in the same pixel scale with larger z nearer
  the camera. The networks end in ``sigmoid(logits) * output_scale``, so every value lies in
  ``[0, output_scale]``; position maps used as training targets must therefore have z shifted
  to be non-negative (PRN subtracts the minimum z of the face).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from facerecon.errors import InvalidInputError


@dataclass(frozen=True)
class ModelConfig:
    """Static description of one registered network.

    Attributes:
        name: registry name, e.g. ``"prn_resfcn256"``.
        input_size: side S of the square RGB crop the network takes.
        output_size: side R of the square UV position map it returns.
        mean: per-channel (R, G, B) mean subtracted from ``pixel / 255``.
        std: per-channel (R, G, B) divisor applied after the mean.
        output_scale: the network returns ``sigmoid(logits) * output_scale`` in crop pixels;
            PRN uses 1.1 x the crop size so a face slightly larger than the crop still fits.
        description: one line for ``list_models`` and the docs.
        crop_supersample: k such that the pipeline samples each face crop at k x
            ``input_size`` and averages k x k blocks down
            (:meth:`facerecon.crop.CropTransform.warp`), the chain the training crops went
            through: ``facerecon data build`` stores 256 crops and training resizes them to
            ``input_size`` with ``INTER_AREA``. 2 for 128-input networks trained on such
            builds, 1 where the input is the build's crop size.
        surface_sigma: the Gaussian (UV pixels) with which the pipeline smooths the
            network's position maps over the face (:func:`facerecon.posmap.smooth`); 0: not
            at all. Chosen per model on the validation split
            (``benchmarks/surface_smoothing.py``).
    """

    name: str
    input_size: int
    output_size: int
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    output_scale: float = 1.0
    description: str = ""
    crop_supersample: int = 1
    surface_sigma: float = 0.0

    def __post_init__(self) -> None:
        if self.input_size <= 0 or self.output_size <= 0:
            raise InvalidInputError(f"{self.name}: sizes must be positive")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise InvalidInputError(f"{self.name}: mean and std need 3 values, std > 0")
        if self.output_scale <= 0:
            raise InvalidInputError(f"{self.name}: output_scale must be positive")
        if self.crop_supersample < 1:
            raise InvalidInputError(f"{self.name}: crop_supersample must be >= 1")
        if not (np.isfinite(self.surface_sigma) and self.surface_sigma >= 0):
            raise InvalidInputError(f"{self.name}: surface_sigma must be finite and >= 0")

    def normalize(self, crops: np.ndarray | torch.Tensor,
                  channels_last: bool = False) -> torch.Tensor:
        """Map RGB ``uint8`` crops (B, S, S, 3) to the network input (B, 3, S, S) float32.

        ``(pixel / 255 - mean) / std`` per channel, computed in one pass over the crops as
        ``(pixel - 255 mean) / (255 std)`` (equal to float rounding).

        Args:
            crops: (B, S, S, 3) ``uint8`` RGB, S = ``input_size``; not modified.
            channels_last: return the tensor in channels-last memory (the layout the CPU
                networks run in, :func:`facerecon.models.prepare_for_inference`) rather
                than contiguous channels-first; the crops' own layout, so no extra copy.

        Raises:
            InvalidInputError: wrong dtype or shape (the size must equal ``input_size``).
        """
        tensor = torch.as_tensor(crops)
        if tensor.dtype != torch.uint8:
            raise InvalidInputError(f"crops must be uint8 RGB, got {tensor.dtype}")
        size = self.input_size
        if tensor.ndim != 4 or tuple(tensor.shape[1:]) != (size, size, 3):
            expected = f"(B, {size}, {size}, 3)"
            got = tuple(tensor.shape)
            raise InvalidInputError(f"{self.name} takes crops {expected}, got {got}")
        # A permuted (B, S, S, 3) tensor is (B, 3, S, S) in channels-last memory; to() keeps it.
        images = tensor.permute(0, 3, 1, 2).to(torch.float32)
        shift = torch.tensor(self.mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
        scale = torch.tensor(self.std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
        images = images.sub_(shift).div_(scale)
        layout = torch.channels_last if channels_last else torch.contiguous_format
        return images.contiguous(memory_format=layout)

    def denormalize(self, inputs: torch.Tensor) -> np.ndarray:
        """Inverse of :meth:`normalize`: (B, 3, S, S) float -> (B, S, S, 3) ``uint8`` RGB."""
        mean = torch.tensor(self.mean, dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32).view(1, 3, 1, 1)
        images = (inputs.detach().to(torch.float32).cpu() * std + mean) * 255.0
        rounded = images.round().clamp(0, 255).to(torch.uint8)
        return rounded.permute(0, 2, 3, 1).contiguous().numpy()
