"""MobileNetV3-Large encoder (Howard et al., 2019, "Searching for MobileNetV3"), laid out as torchvision lays out
`mobilenet_v3_large(dilated=True).features` for its segmentation models, so that torchvision's pretrained
LR-ASPP and DeepLabV3 weight files load by name: the encoder is one Sequential whose indices are the state dict's
first key component (`0.0.weight` is the stem conv, `1.block.0.0.weight` the first block's depthwise conv, ...).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from liveseg.models.layers import ConvBNAct, tensorflow_batchnorm

# (kernel, expanded channels, out channels, squeeze-excite, hard-swish, stride) per block: the paper's Table 1.
_BLOCKS = [
    (3, 16, 16, False, False, 1),
    (3, 64, 24, False, False, 2),
    (3, 72, 24, False, False, 1),
    (5, 72, 40, True, False, 2),
    (5, 120, 40, True, False, 1),
    (5, 120, 40, True, False, 1),
    (3, 240, 80, False, True, 2),
    (3, 200, 80, False, True, 1),
    (3, 184, 80, False, True, 1),
    (3, 184, 80, False, True, 1),
    (3, 480, 112, True, True, 1),
    (3, 672, 112, True, True, 1),
    (5, 672, 160, True, True, 2),
    (5, 960, 160, True, True, 1),
    (5, 960, 160, True, True, 1),
]
_STEM, _LAST = 16, 960


def _divisible(v: float, divisor: int = 8) -> int:
    """Nearest multiple of `divisor` (at least `divisor`, and never below 90% of `v`): the squeeze widths the
    reference weights were trained with (72 channels squeeze to 24, not 16)."""
    rounded = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * v else rounded


def _conv_bn(
    cin: int,
    cout: int,
    k: int = 1,
    stride: int = 1,
    groups: int = 1,
    dilation: int = 1,
    act: type[nn.Module] | None = None,
) -> ConvBNAct:
    """ConvBNAct with the BatchNorm settings of the TensorFlow original, whose weights the encoder loads."""
    return tensorflow_batchnorm(ConvBNAct(cin, cout, k, stride, groups, dilation, act))


class GlobalAvgPool(nn.Module):
    """Mean over H and W, kept as 1x1. nn.AdaptiveAvgPool2d(1) computes the same, but the ONNX exporter writes it
    as a ReduceMean and a Gather (of an as_strided), and onnxruntime-web's WebGL backend has no Gather."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean((2, 3), keepdim=True)


class SqueezeExcite(nn.Module):
    """Channel gates from globally pooled features: ReLU bottleneck, hard-sigmoid gate (cheap on mobile)."""

    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.fc2(F.relu(self.fc1(x.mean((2, 3), keepdim=True))))
        return x * F.hardsigmoid(gate)


class Bottleneck(nn.Module):
    """MobileNetV3 block: 1x1 expand (skipped when it would not widen) → depthwise k×k → optional squeeze-excite
    → linear 1x1 project, residual when shapes allow."""

    def __init__(
        self, cin: int, k: int, hidden: int, cout: int, se: bool, hs: bool, stride: int, dilation: int
    ) -> None:
        super().__init__()
        act = nn.Hardswish if hs else nn.ReLU
        layers: list[nn.Module] = []
        if hidden != cin:
            layers.append(_conv_bn(cin, hidden, act=act))
        layers.append(_conv_bn(hidden, hidden, k, stride, groups=hidden, dilation=dilation, act=act))
        if se:
            layers.append(SqueezeExcite(hidden, _divisible(hidden // 4)))
        layers.append(_conv_bn(hidden, cout))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV3Large(nn.Sequential):
    """Stem, 15 bottlenecks and the 1x1 conv to 960 channels (17 entries); returns the outputs of the entries in
    `taps`, finest first.

    The default taps are the ones torchvision's segmentation heads read: entry 4, the first block at stride 8
    (40 channels; torchvision taps the stride-2 block that opens a stage, so the two blocks after it feed only
    the deeper layers), and entry 16, the last conv (960 channels). `output_stride=16` replaces the last
    stride-2 with dilation 2 in all three blocks of the last stage, as torchvision's `dilated=True` does.
    """

    def __init__(self, output_stride: int = 16, taps: tuple[int, ...] = (4, 16)):
        layers: list[nn.Module] = [_conv_bn(3, _STEM, 3, 2, act=nn.Hardswish)]
        cin, stride_so_far, dilation = _STEM, 2, 1
        for k, hidden, cout, se, hs, stride in _BLOCKS:
            if stride == 2 and stride_so_far == output_stride:
                stride, dilation = 1, dilation * 2
            stride_so_far *= stride
            layers.append(Bottleneck(cin, k, hidden, cout, se, hs, stride, dilation))
            cin = cout
        layers.append(_conv_bn(cin, _LAST, act=nn.Hardswish))
        super().__init__(*layers)
        widths = [_STEM] + [cout for _, _, cout, *_ in _BLOCKS] + [_LAST]
        self.taps = taps
        self.channels = [widths[i] for i in taps]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for i, layer in enumerate(self):
            x = layer(x)
            if i in self.taps:
                feats.append(x)
        return feats
