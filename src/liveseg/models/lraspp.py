"""LR-ASPP (Howard et al., 2019, "Searching for MobileNetV3"): a MobileNetV3-Large encoder at output stride 16
and the "lite reduced" ASPP head, a 1x1 conv on the 1/16 features gated by their global average, joined with a
linear classifier on the 1/8 features. Module names follow torchvision's `lraspp_mobilenet_v3_large`, so its
COCO-with-VOC-labels weight file loads with `load_state_dict(strict=True)`.
"""

from __future__ import annotations

import torch
from torch import nn

from liveseg.models._registry import register_model
from liveseg.models.backbones.mobilenetv3 import GlobalAvgPool, MobileNetV3Large
from liveseg.models.layers import ConvBNAct, SegmentationModel, init_weights, upsample_like


class LRASPPHead(nn.Module):
    """Both branches end in a classifier and are summed, so the 1/8 branch costs one 1x1 conv."""

    def __init__(self, low_channels: int, high_channels: int, num_classes: int, inter_channels: int = 128):
        super().__init__()
        self.cbr = ConvBNAct(high_channels, inter_channels, 1)
        # Index 0 is the pool so that the conv is `scale.1`, as in torchvision's state dict.
        self.scale = nn.Sequential(
            GlobalAvgPool(), nn.Conv2d(high_channels, inter_channels, 1, bias=False), nn.Sigmoid()
        )
        self.low_classifier = nn.Conv2d(low_channels, num_classes, 1)
        self.high_classifier = nn.Conv2d(inter_channels, num_classes, 1)

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        context = upsample_like(self.cbr(high) * self.scale(high), low)
        return self.low_classifier(low) + self.high_classifier(context)


class LRASPP(SegmentationModel):
    """Logits at 1/8 of the input; the base class upsamples them bilinearly, as torchvision does."""

    def __init__(self, num_classes: int, inter_channels: int = 128):
        super().__init__()
        self.backbone = MobileNetV3Large(output_stride=16)
        low, high = self.backbone.channels
        self.classifier = LRASPPHead(low, high, num_classes, inter_channels)
        init_weights(self)

    def logits_and_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        low, high = self.backbone(x)
        return self.classifier(low, high), []


@register_model(
    "lraspp_mobilenet_v3_large",
    paper="Searching for MobileNetV3 (Howard et al., 2019)",
    description="MobileNetV3-Large (OS16) + LR-ASPP head; loads torchvision's weights; ~3.2M params",
)
def lraspp_mobilenet_v3_large(num_classes: int, **kw) -> LRASPP:
    return LRASPP(num_classes, **kw)
