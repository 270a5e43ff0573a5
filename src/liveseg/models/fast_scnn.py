"""Fast-SCNN (Poudel et al., 2019, "Fast-SCNN: Fast Semantic Segmentation Network").

Learning-to-downsample to 1/8, a MobileNetV2-style global feature extractor to 1/32 with a pyramid pooling module,
feature fusion of the two resolutions, and a light classifier. One deviation from the paper: its pyramid pooling
uses adaptive pools to 2x2, 3x3 and 6x6 bins, which ONNX can only express when the feature size divides evenly;
here the pyramid uses global pooling plus fixed-stride pools (kernel/stride 2 and 4), so any input size exports.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from liveseg.models._registry import register_model
from liveseg.models.layers import (
    ConvBNAct,
    DSConv,
    InvertedResidual,
    SegmentationModel,
    init_weights,
    upsample_like,
)


class PyramidPooling(nn.Module):
    """Context at several scales, each reduced to cin/4 channels, concatenated with the input."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        mid = cin // 4
        self.strides = (0, 4, 2)  # 0 = global
        self.reduce = nn.ModuleList(ConvBNAct(cin, mid, 1) for _ in self.strides)
        self.project = ConvBNAct(cin + mid * len(self.strides), cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [x]
        for stride, reduce in zip(self.strides, self.reduce, strict=True):
            pooled = x.mean((2, 3), keepdim=True) if stride == 0 else F.avg_pool2d(x, stride, stride, ceil_mode=True)
            branches.append(upsample_like(reduce(pooled), x))
        return self.project(torch.cat(branches, 1))


def _bottlenecks(cin: int, cout: int, n: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        *[InvertedResidual(cin if i == 0 else cout, cout, stride if i == 0 else 1, 6) for i in range(n)]
    )


class FastSCNN(SegmentationModel):
    def __init__(self, num_classes: int, width: float = 1.0, aux: bool = True):
        super().__init__()
        c = [int(v * width) for v in (32, 48, 64, 96, 128)]
        self.downsample = nn.Sequential(ConvBNAct(3, c[0], 3, 2), DSConv(c[0], c[1], 2), DSConv(c[1], c[2], 2))
        self.global_features = nn.Sequential(
            _bottlenecks(c[2], c[2], 3, 2), _bottlenecks(c[2], c[3], 3, 2), _bottlenecks(c[3], c[4], 3, 1)
        )
        self.ppm = PyramidPooling(c[4], c[4])
        self.fuse_low = nn.Sequential(ConvBNAct(c[4], c[4], 3, groups=c[4]), ConvBNAct(c[4], c[4], 1, act=None))
        self.fuse_high = ConvBNAct(c[2], c[4], 1, act=None)
        self.classifier = nn.Sequential(
            DSConv(c[4], c[4]), DSConv(c[4], c[4]), nn.Dropout(0.1), nn.Conv2d(c[4], num_classes, 1)
        )
        self.aux_head = nn.Sequential(ConvBNAct(c[2], 32), nn.Conv2d(32, num_classes, 1)) if aux else None
        init_weights(self)

    def logits_and_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        high = self.downsample(x)
        low = self.ppm(self.global_features(high))
        fused = F.relu(self.fuse_high(high) + self.fuse_low(upsample_like(low, high)))
        aux = [self.aux_head(high)] if self.aux_head is not None and self.training else []
        return self.classifier(fused), aux


@register_model(
    "fast_scnn",
    paper="Fast-SCNN: Fast Semantic Segmentation Network (Poudel et al., 2019)",
    description="two-branch 1/8 + 1/32 network with learning-to-downsample; ~1.1M params",
)
def fast_scnn(num_classes: int, **kw) -> FastSCNN:
    return FastSCNN(num_classes, **kw)
