"""A position-map network evaluated at a few texels of its map, not the whole map.

Refine mode's first network only has to deliver the 68 landmarks, which
:func:`facerecon.posmap.decode_landmarks` reads as fixed weighted sums of 12 map texels each
(``topology.landmark_sample_index`` and ``landmark_sample_weight``). :class:`MobilePosmapNet
<facerecon.models.mobile.MobilePosmapNet>` ends in one 4 x 4, stride-2, padding-1 transposed
convolution from its features at half the map's side to the 3 map channels, then
``sigmoid * output_scale``. Such a convolution gives output texel ``(y, x)`` from the 2 x 2
feature pixels ``((y + 1 - ky) / 2, (x + 1 - kx) / 2)``, ``ky = (y + 1) % 2 + {0, 2}`` (and
alike for x): one (4 C, 3) matrix per parity class of ``(y, x)``. So K texels cost one
(K, 4 C) x (4 C, 12) product instead of the whole last layer (``mobile_posmap128``, 2
threads: the frozen network 3.32 ms with its last layer over the full 128 x 128 map, 3.06 ms
up to its features; docs/training.md, "Refine mode as the default").
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from facerecon.errors import InvalidInputError


def supports_texels(network: nn.Module) -> bool:
    """Whether :class:`TexelNet` can evaluate ``network``: it has ``features(x)``, an
    ``output_scale`` and a ``head`` that is a 4 x 4, stride-2, padding-1 transposed conv."""
    head = getattr(network, "head", None)
    return (callable(getattr(network, "features", None)) and hasattr(network, "output_scale")
            and isinstance(head, nn.ConvTranspose2d) and head.kernel_size == (4, 4)
            and head.stride == (2, 2) and head.padding == (1, 1) and head.groups == 1
            and head.dilation == (1, 1) and head.output_padding == (0, 0))


class TexelNet(nn.Module):
    """(B, 3, S, S) network input -> (B, N, 3) weighted sums of position-map texels.

    Output n is ``sum_l weights[n, l] * map[texels[n, l]]``, with ``map`` the network's
    (R, R, 3) output flattened to (R * R, 3): equal, to float rounding, to computing the
    whole map (tested). ``network`` is used as it is (fold and freeze it for the CPU like the
    network itself: :mod:`facerecon.models.inference`).

    Args:
        network: a network for which :func:`supports_texels` holds.
        texels: (N, L) flat indices ``row * R + col`` into the (R, R) map, none on its
            outermost rows or columns (whose convolution would read past the features).
        weights: (N, L) real.
        resolution: the side R of the network's map (twice its features' side).

    Raises:
        InvalidInputError: the network has no such head, the shapes differ, or a texel lies
            outside the map's interior.
    """

    def __init__(self, network: nn.Module, texels: np.ndarray, weights: np.ndarray,
                 resolution: int):
        super().__init__()
        if not supports_texels(network):
            raise InvalidInputError(
                f"{type(network).__name__} does not end in one 4x4 stride-2 transposed conv "
                "after a features() stage")
        texels = np.asarray(texels, dtype=np.int64)
        weights = np.asarray(weights, dtype=np.float32)
        if texels.ndim != 2 or texels.shape != weights.shape:
            raise InvalidInputError(
                f"texels and weights must be (N, L) alike, got {texels.shape} and {weights.shape}")
        rows, cols = texels // resolution, texels % resolution
        if texels.min() < 0 or texels.max() >= resolution**2 or min(rows.min(), cols.min()) < 1 \
                or max(rows.max(), cols.max()) > resolution - 2:
            raise InvalidInputError(
                f"texels must lie inside a {resolution}^2 map, off its outermost rows and columns")
        self.network = network
        side = resolution // 2
        rows, cols = rows.reshape(-1), cols.reshape(-1)
        # each texel's first taps ky0, kx0 (its parity class) and the 2 x 2 feature pixels
        # it reads: (i, j) through taps ky = ky0 + 2 i, kx = kx0 + 2 j
        ky0, kx0 = (rows + 1) % 2, (cols + 1) % 2
        read_rows = (rows + 1 - ky0)[:, None] // 2 - np.arange(2)
        read_cols = (cols + 1 - kx0)[:, None] // 2 - np.arange(2)
        reads = read_rows[:, :, None] * side + read_cols[:, None, :]  # (K, 2, 2)
        self.register_buffer("reads", torch.as_tensor(reads.reshape(-1)), persistent=False)
        parity = ky0 * 2 + kx0  # (K,) class of (ky0, kx0)
        self.register_buffer("pick", torch.as_tensor(np.arange(len(rows)) * 4 + parity),
                             persistent=False)
        weight = network.head.weight.detach().float()  # (C, 3, 4, 4)
        blocks = []
        for ky0 in (0, 1):
            for kx0 in (0, 1):
                taps = weight[:, :, ky0::2, kx0::2]  # (C, 3, i, j)
                blocks.append(taps.permute(2, 3, 0, 1).reshape(-1, 3))  # rows (i, j, c)
        self.register_buffer("head_weight", torch.cat(blocks, dim=1), persistent=False)
        bias = network.head.bias
        bias = torch.zeros(3) if bias is None else bias.detach().float()
        self.register_buffer("head_bias", bias.repeat(4), persistent=False)  # per class
        # the weighted sums as one (N, K) matrix over the K = N * L texel values
        sums = np.zeros((len(texels), rows.size), dtype=np.float32)
        sums[np.repeat(np.arange(len(texels)), texels.shape[1]), np.arange(rows.size)] = \
            weights.reshape(-1)
        self.register_buffer("sum_matrix", torch.as_tensor(sums), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.network.features(x)  # (B, C, R/2, R/2)
        batch, channels = features.shape[:2]
        pixels = features.permute(0, 2, 3, 1).reshape(batch, -1, channels)  # rows y * R/2 + x
        patches = pixels.index_select(1, self.reads).reshape(batch, self.pick.numel(), -1)
        logits = torch.addmm(self.head_bias, patches.reshape(-1, patches.shape[-1]),
                             self.head_weight)  # (B K, 4 classes x 3)
        logits = logits.reshape(batch, -1, 3).index_select(1, self.pick)  # (B, K, 3)
        return self.sum_matrix @ (torch.sigmoid(logits) * self.network.output_scale)
