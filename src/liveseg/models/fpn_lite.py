"""An ImageNet-pretrained EfficientNet-Lite0 encoder with a light FPN decoder (Lin et al., 2017) that predicts at
1/4 of the input, where a pole is still a few cells wide.

Built to generalise from CamVid's few hundred images to other drives: the encoder starts from ImageNet
(`--init imagenet`), not from scratch. The decoder keeps the browser cost down: 1x1 laterals, depthwise-separable
smoothing, and the coarsest map gated by its global average (LR-ASPP's context for the cost of one 1x1 conv).
"""

from __future__ import annotations

import torch
from torch import nn

from liveseg.models._registry import register_model
from liveseg.models.backbones.efficientnet_lite import EfficientNetLite0, imagenet_weights, load_imagenet
from liveseg.models.backbones.mobilenetv3 import GlobalAvgPool
from liveseg.models.layers import ConvBNAct, DSConv, SegmentationModel, init_weights, upsample_like
from liveseg.progress import QUIET, Progress


class LiteFPN(SegmentationModel):
    """Logits at 1/4; in training, auxiliary logits from the coarsest map help the encoder's deep stages."""

    def __init__(self, num_classes: int, channels: int = 48, stages: int = 5, deep_stride: int = 32):
        super().__init__()
        self.encoder = EfficientNetLite0(stages, deep_stride)
        deepest = self.encoder.channels[-1]
        self.lateral = nn.ModuleList(ConvBNAct(c, channels, 1) for c in self.encoder.channels)
        self.context = nn.Sequential(GlobalAvgPool(), nn.Conv2d(deepest, channels, 1), nn.Sigmoid())
        self.smooth = nn.ModuleList(DSConv(channels, channels) for _ in self.encoder.channels[:-1])
        self.classifier = nn.Sequential(nn.Dropout(0.1), nn.Conv2d(channels, num_classes, 1))
        self.aux = nn.Conv2d(channels, num_classes, 1)
        init_weights(self)

    def logits_and_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        feats = self.encoder(x)
        top = self.lateral[-1](feats[-1]) * self.context(feats[-1])
        coarse = top
        for i in range(len(feats) - 2, -1, -1):
            top = self.smooth[i](self.lateral[i](feats[i]) + upsample_like(top, feats[i]))
        return self.classifier(top), [self.aux(coarse)] if self.training else []

    def load_imagenet(self, progress: Progress = QUIET) -> list[str]:
        """Start the encoder from ImageNet (`--init imagenet`); returns the parameters left at their random
        start (the decoder's)."""
        load_imagenet(self.encoder, imagenet_weights(progress))
        return [n for n, _ in self.named_parameters() if not n.startswith("encoder.")]


@register_model(
    "fpn_efficientnet_lite0",
    paper="EfficientNet (Tan & Le, 2019), Lite0 variant, + a light FPN (Lin et al., 2017)",
    description="EfficientNet-Lite0 to its 112-ch stage (at stride 32) + light FPN at 1/4; --init imagenet",
    imagenet=True,
)
def fpn_efficientnet_lite0(num_classes: int, **kw) -> LiteFPN:
    return LiteFPN(num_classes, **kw)
