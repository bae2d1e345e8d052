"""PRN's ResFCN256 (Feng et al., ECCV 2018) in PyTorch, layer for layer.

The original is TensorFlow (``tf.contrib.layers``) with 'SAME' padding everywhere. For the
4x4 kernels that padding is not symmetric, which PyTorch's ``padding=`` cannot express:

- 4x4 conv, stride 1: TF pads 1 before and 2 after (the odd pixel goes to the end).
- 4x4 conv, stride 2 on an even size: 1 before and 1 after, i.e. ``padding=1``.
- 4x4 transposed conv: the transpose of the matching 'SAME' conv, so it crops
  (1 before, 2 after) at stride 1 and (1, 1) at stride 2 from the full output.

With that, shapes run 256 -> 8 (x32 down) -> 256, as in the paper. Layers as the original:
every conv and transposed conv is bias-free and followed by batch norm (scale and offset) and
ReLU, except inside a residual block, where the last 1x1 conv and the 1x1 shortcut conv are
bare and batch norm + ReLU follow the sum; the last transposed conv is followed by batch norm
and a sigmoid. The output is ``sigmoid * 1.1 * 256`` in crop pixels (see
:mod:`facerecon.models.config`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Decoder (channels, stride) of the seventeen 4x4 transposed convs, as in the original.
DECODER_LAYERS: tuple[tuple[int, int], ...] = (
    (512, 1), (256, 2), (256, 1), (256, 1), (128, 2), (128, 1), (128, 1),
    (64, 2), (64, 1), (64, 1), (32, 2), (32, 1), (16, 2), (16, 1), (3, 1), (3, 1), (3, 1),
)
# Encoder residual blocks (channels, stride).
ENCODER_BLOCKS: tuple[tuple[int, int], ...] = (
    (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1),
)


class SameConv4(nn.Module):
    """Bias-free 4x4 conv with TensorFlow 'SAME' padding: (B, C, H, W) -> (B, C', H/s, W/s)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError("stride must be 1 or 2")
        self.stride = stride
        self.conv = nn.Conv2d(in_channels, out_channels, 4, stride, padding=stride - 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x = F.pad(x, (1, 2, 1, 2))
        return self.conv(x)


class SameConvTranspose4(nn.Module):
    """Bias-free 4x4 transposed conv, TF 'SAME': (B, C, H, W) -> (B, C', H*s, W*s)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError("stride must be 1 or 2")
        self.stride = stride
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, 4, stride, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        if self.stride == 1:
            # padding=1 crops one pixel at each end; TF crops a second one at the end.
            out = out[:, :, :-1, :-1]
        return out


class ResBlock(nn.Module):
    """PRN's bottleneck: 1x1 (C/2) -> 4x4 stride s (C/2) -> 1x1 (C), + shortcut, BN, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        half = out_channels // 2
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)
        self.reduce = nn.Sequential(
            nn.Conv2d(in_channels, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(inplace=True)
        )
        self.spatial = nn.Sequential(
            SameConv4(half, half, stride), nn.BatchNorm2d(half), nn.ReLU(inplace=True)
        )
        self.expand = nn.Conv2d(half, out_channels, 1, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.shortcut is None else self.shortcut(x)
        out = self.expand(self.spatial(self.reduce(x)))
        return torch.relu(self.norm(out + shortcut))


def _conv_bn_relu(conv: nn.Module, channels: int) -> nn.Sequential:
    return nn.Sequential(conv, nn.BatchNorm2d(channels), nn.ReLU(inplace=True))


class ResFCN256(nn.Module):
    """PRN's encoder-decoder: (B, 3, S, S) float -> (B, 3, S, S) position map in crop pixels.

    S must be a multiple of 32 (256 in PRN). Output channels x, y, z in pixels of the input
    crop, each in ``[0, output_scale]``; the sigmoid is evaluated in float32 even under bf16
    autocast so the last bits of the map are not lost to bf16 rounding.
    """

    def __init__(self, output_scale: float = 256 * 1.1):
        super().__init__()
        self.output_scale = float(output_scale)
        self.stem = _conv_bn_relu(SameConv4(3, 16, 1), 16)
        blocks, channels = [], 16
        for out_channels, stride in ENCODER_BLOCKS:
            blocks.append(ResBlock(channels, out_channels, stride))
            channels = out_channels
        self.encoder = nn.Sequential(*blocks)
        layers = []
        for out_channels, stride in DECODER_LAYERS[:-1]:
            upsample = SameConvTranspose4(channels, out_channels, stride)
            layers.append(_conv_bn_relu(upsample, out_channels))
            channels = out_channels
        self.decoder = nn.Sequential(*layers)
        self.head = nn.Sequential(SameConvTranspose4(channels, 3, 1), nn.BatchNorm2d(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError(f"ResFCN256 needs sides divisible by 32, got {tuple(x.shape)}")
        logits = self.head(self.decoder(self.encoder(self.stem(x))))
        return torch.sigmoid(logits.float()) * self.output_scale
