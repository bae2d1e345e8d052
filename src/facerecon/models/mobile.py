"""Compact position-map network for the CPU: MobileNetV2 encoder, transposed-conv decoder.

Encoder: MobileNetV2's feature stack (Sandler et al., 2018) up to its 320-channel stage,
without the final 1280-channel 1x1 conv: a 3x3 stride-2 stem and inverted residual blocks
(1x1 expand, 3x3 depthwise, linear 1x1 project), overall stride 32. To meet the 5 ms budget
at batch 1 on two cores, the 24-, 32- and 64-channel stages expand 4x instead of 6x and the
32-, 64-, 96- and 160-channel stages repeat twice instead of 3, 4, 3 and 3 times (the full
stack took 7.7 ms of CPU on one thread at 128 px, this one 5.0 ms; docs/models.md).

Decoder: four 4x4 stride-2 transposed convs (BN + ReLU) back to stride 2, each followed by
adding the encoder feature of the same size and channel count (a U-Net skip at no parameter
cost, which keeps the fine alignment a plain bottleneck would blur), then a last 4x4 stride-2
transposed conv to the three x, y, z channels at full size; ``sigmoid * output_scale`` gives
crop pixels, as in :mod:`facerecon.models.resfcn`.
"""

from __future__ import annotations

import torch
from torch import nn

from facerecon.errors import InvalidInputError

# MobileNetV2 stages: (expansion t, channels c, repeats n, first stride s).
STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (4, 24, 2, 2), (4, 32, 2, 2), (4, 64, 2, 2), (6, 96, 2, 1),
    (6, 160, 2, 2), (6, 320, 1, 1),
)
STEM_CHANNELS = 32
# Decoder output channels at strides 16, 8, 4, 2: those of the encoder stages (the skips).
DECODER_CHANNELS: tuple[int, ...] = (96, 32, 24, 16)


def _conv_bn(in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1) -> list:
    conv = nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False)
    return [conv, nn.BatchNorm2d(out_ch)]


class InvertedResidual(nn.Module):
    """MobileNetV2 block: (B, C, H, W) -> (B, C', H/s, W/s); identity shortcut when shapes match."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, expansion: int):
        super().__init__()
        hidden = in_ch * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers += [*_conv_bn(in_ch, hidden, 1), nn.ReLU6(inplace=True)]
        layers += [*_conv_bn(hidden, hidden, 3, stride, groups=hidden), nn.ReLU6(inplace=True)]
        layers += _conv_bn(hidden, out_ch, 1)
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.residual else out


class MobilePosmapNet(nn.Module):
    """(B, 3, S, S) float -> (B, 3, S, S) position map in crop pixels; S a multiple of 32."""

    def __init__(self, output_scale: float):
        super().__init__()
        self.output_scale = float(output_scale)
        self.stem = nn.Sequential(*_conv_bn(3, STEM_CHANNELS, 3, 2), nn.ReLU6(inplace=True))
        # Encoder split at each stride so the decoder can take skips (strides 2, 4, 8, 16, 32).
        levels: list[list[nn.Module]] = [[] for _ in range(5)]
        channels, level = STEM_CHANNELS, 0
        for expansion, out_ch, repeats, stride in STAGES:
            for index in range(repeats):
                block_stride = stride if index == 0 else 1
                level += block_stride == 2
                levels[level].append(InvertedResidual(channels, out_ch, block_stride, expansion))
                channels = out_ch
        self.encoder = nn.ModuleList(nn.Sequential(*blocks) for blocks in levels)
        ups = []
        for out_ch in DECODER_CHANNELS:
            upsample = nn.ConvTranspose2d(channels, out_ch, 4, 2, padding=1, bias=False)
            ups.append(nn.Sequential(upsample, nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True)))
            channels = out_ch
        self.decoder = nn.ModuleList(ups)
        self.head = nn.ConvTranspose2d(channels, 3, 4, 2, padding=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) -> (B, 16, S/2, S/2): everything before the head (which
        :class:`~facerecon.models.texels.TexelNet` evaluates at chosen texels only)."""
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            shape = tuple(x.shape)
            raise InvalidInputError(f"MobilePosmapNet needs sides divisible by 32, got {shape}")
        features = []
        out = self.stem(x)
        for stage in self.encoder:
            out = stage(out)
            features.append(out)
        skips = features[-2::-1]  # strides 16, 8, 4, 2
        for upsample, skip in zip(self.decoder, skips, strict=True):
            out = upsample(out) + skip
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.head(self.features(x)).float()) * self.output_scale
