"""A plain ResNet-18 + FPN decoder (Lin et al., 2017, "Feature Pyramid Networks for Object Detection"; the
semantic-FPN head of Kirillov et al., 2019): heavy by browser standards, it is liveseg's distillation teacher.
"""

from __future__ import annotations

import torch
from torch import nn

from liveseg.models._registry import register_model
from liveseg.models.backbones import ResNet18
from liveseg.models.layers import ConvBNAct, SegmentationModel, init_weights, upsample_like


class FPNSegmenter(SegmentationModel):
    def __init__(self, num_classes: int, channels: int = 128, width: int = 64):
        super().__init__()
        self.encoder = ResNet18(width)
        self.lateral = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in self.encoder.channels)
        self.smooth = nn.ModuleList(ConvBNAct(channels, channels) for _ in self.encoder.channels)
        self.classifier = nn.Sequential(
            ConvBNAct(channels, channels), nn.Dropout(0.1), nn.Conv2d(channels, num_classes, 1)
        )
        init_weights(self)

    def logits_and_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        feats = self.encoder(x)
        top = self.lateral[-1](feats[-1])
        pyramid = [top]
        for f, lateral in zip(feats[-2::-1], self.lateral[-2::-1], strict=True):
            top = lateral(f) + upsample_like(top, f)
            pyramid.append(top)
        finest = pyramid[-1]
        merged = sum(upsample_like(smooth(p), finest) for p, smooth in zip(pyramid[::-1], self.smooth, strict=True))
        return self.classifier(merged), []


@register_model(
    "fpn_resnet18",
    paper="Feature Pyramid Networks (Lin et al., 2017) on ResNet-18 (He et al., 2016)",
    description="heavy ResNet-18 + FPN: the distillation teacher",
)
def fpn_resnet18(num_classes: int, **kw) -> FPNSegmenter:
    return FPNSegmenter(num_classes, **kw)
