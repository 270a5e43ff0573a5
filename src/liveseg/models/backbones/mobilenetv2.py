"""MobileNetV2 encoder (Sandler et al., 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks")."""

from __future__ import annotations

import torch
from torch import nn

from liveseg.models.layers import ConvBNAct, InvertedResidual

# (expansion, channels, repeats, stride) per stage, from the paper's Table 2.
_STAGES = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]
# Stage indices after which a feature map is tapped: strides 4, 8, 16, 32.
_TAPS = (1, 2, 4, 6)


class MobileNetV2(nn.Module):
    """Returns features at strides 4, 8, 16, 32 (24, 32, 96, 320 channels at width 1).

    `output_stride=16` replaces the last stride-2 with dilation 2, as DeepLabV3+ does.
    """

    def __init__(self, width: float = 1.0, output_stride: int = 32):
        super().__init__()
        ch = [max(8, int(c * width + 4) // 8 * 8) for _, c, _, _ in _STAGES]
        cin = max(8, int(32 * width + 4) // 8 * 8)
        self.stem = ConvBNAct(3, cin, 3, 2, act=nn.ReLU6)
        self.stages = nn.ModuleList()
        dilation = 1
        for (t, _, n, s), cout in zip(_STAGES, ch, strict=True):
            if s == 2 and output_stride == 16 and cout == ch[5]:
                s, dilation = 1, 2
            blocks = [
                InvertedResidual(cin if i == 0 else cout, cout, s if i == 0 else 1, t, dilation) for i in range(n)
            ]
            self.stages.append(nn.Sequential(*blocks))
            cin = cout
        self.channels = [ch[i] for i in _TAPS]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in _TAPS:
                feats.append(x)
        return feats
