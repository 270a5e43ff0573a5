"""ResNet-18 encoder (He et al., 2016, "Deep Residual Learning for Image Recognition")."""

from __future__ import annotations

import torch
from torch import nn

from liveseg.models.layers import ConvBNAct


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = ConvBNAct(cin, cout, 3, stride)
        self.conv2 = ConvBNAct(cout, cout, 3, act=None)
        self.shortcut = ConvBNAct(cin, cout, 1, stride, act=None) if stride != 1 or cin != cout else nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.conv1(x)) + self.shortcut(x))


def make_stage(cin: int, cout: int, blocks: int, stride: int) -> nn.Sequential:
    return nn.Sequential(BasicBlock(cin, cout, stride), *[BasicBlock(cout, cout) for _ in range(blocks - 1)])


class ResNet18(nn.Module):
    """Returns features at strides 4, 8, 16, 32 (64, 128, 256, 512 channels at width 64)."""

    def __init__(self, width: int = 64):
        super().__init__()
        w = width
        self.stem = nn.Sequential(ConvBNAct(3, w, 7, 2), nn.MaxPool2d(3, 2, 1))
        self.stages = nn.ModuleList(
            [
                make_stage(w, w, 2, 1),
                make_stage(w, 2 * w, 2, 2),
                make_stage(2 * w, 4 * w, 2, 2),
                make_stage(4 * w, 8 * w, 2, 2),
            ]
        )
        self.channels = [w, 2 * w, 4 * w, 8 * w]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats
