"""MobileNet-V1 (width 0.5) with the parameter names of 3DDFA_V2's ``mb05_120x120.pth``.

The layer names, shapes and strides were read off the checkpoint's state_dict (166 tensors):
``conv1``/``bn1`` (3x3, stride 2, 16 channels), thirteen depthwise-separable blocks
``dw2_1`` ... ``dw6`` (3x3 depthwise + BN + ReLU, 1x1 pointwise + BN + ReLU) and two linear
heads on the globally averaged 512 features: ``fc_param`` (62 normalised 3DMM parameters,
the one we use) and ``fc_lm`` (136 values, kept only so the keys match strictly).

Input: (B, 3, 120, 120) float32, BGR channel order, ``(pixel - 127.5) / 128``.
Output of :meth:`MobileNetV1.forward`: (B, 62) float32, still normalised.
"""

from __future__ import annotations

import torch
from torch import nn

# (name, input channels, output channels, stride): MobileNet-V1's layout at width 0.5.
# Spatial size for a 120 input: 60 after conv1, then 30, 15, 8 and 4 after the stride-2 blocks.
BLOCKS: tuple[tuple[str, int, int, int], ...] = (
    ("dw2_1", 16, 32, 1),
    ("dw2_2", 32, 64, 2),
    ("dw3_1", 64, 64, 1),
    ("dw3_2", 64, 128, 2),
    ("dw4_1", 128, 128, 1),
    ("dw4_2", 128, 256, 2),
    ("dw5_1", 256, 256, 1),
    ("dw5_2", 256, 256, 1),
    ("dw5_3", 256, 256, 1),
    ("dw5_4", 256, 256, 1),
    ("dw5_5", 256, 256, 1),
    ("dw5_6", 256, 512, 2),
    ("dw6", 512, 512, 1),
)
NUM_PARAMS = 62
NUM_LANDMARK_VALUES = 136
INPUT_SIZE = 120


class DepthwiseSeparable(nn.Module):
    """3x3 depthwise conv + BN + ReLU, then 1x1 pointwise conv + BN + ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.conv_dw = nn.Conv2d(
            in_channels, in_channels, 3, stride=stride, padding=1, groups=in_channels, bias=False
        )
        self.bn_dw = nn.BatchNorm2d(in_channels)
        self.conv_sep = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn_sep = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn_dw(self.conv_dw(x)))
        return self.relu(self.bn_sep(self.conv_sep(x)))


class MobileNetV1(nn.Module):
    """The 3DDFA_V2 teacher network; ``forward`` returns the 62 normalised parameters."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        for name, in_channels, out_channels, stride in BLOCKS:
            self.add_module(name, DepthwiseSeparable(in_channels, out_channels, stride))
        self.fc_param = nn.Linear(512, NUM_PARAMS)
        self.fc_lm = nn.Linear(512, NUM_LANDMARK_VALUES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        for name, *_ in BLOCKS:
            x = getattr(self, name)(x)
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc_param(x)
