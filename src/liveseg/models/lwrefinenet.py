"""Light-Weight RefineNet (Nekrasov et al., 2018, "Light-Weight RefineNet for Real-Time Semantic Segmentation").

MobileNetV2 encoder; the decoder walks from 1/32 to 1/4, adding each encoder level (1x1 adapted) to the upsampled
coarser result and refining it with a chained residual pooling (CRP) block: repeated 5x5 max-pool + 1x1 conv whose
outputs are summed back, which grows the receptive field cheaply.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from liveseg.models._registry import register_model
from liveseg.models.backbones import MobileNetV2
from liveseg.models.layers import SegmentationModel, init_weights, upsample_like


class ChainedResidualPool(nn.Module):
    def __init__(self, channels: int, stages: int = 4):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(channels, channels, 1, bias=False) for _ in range(stages))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top = x
        for conv in self.convs:
            top = conv(F.max_pool2d(top, 5, 1, 2))
            x = x + top
        return x


class LightWeightRefineNet(SegmentationModel):
    def __init__(self, num_classes: int, channels: int = 256, encoder_width: float = 1.0):
        super().__init__()
        self.encoder = MobileNetV2(encoder_width)
        enc = self.encoder.channels[::-1]  # coarsest first
        self.adapt = nn.ModuleList(nn.Conv2d(c, channels, 1, bias=False) for c in enc)
        self.crp = nn.ModuleList(ChainedResidualPool(channels) for _ in enc)
        self.post = nn.ModuleList(nn.Conv2d(channels, channels, 1, bias=False) for _ in enc[:-1])
        self.classifier = nn.Sequential(nn.Dropout(0.1), nn.Conv2d(channels, num_classes, 3, padding=1))
        init_weights(self)

    def logits_and_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        feats = self.encoder(x)[::-1]
        y = None
        for i, (f, adapt, crp) in enumerate(zip(feats, self.adapt, self.crp, strict=True)):
            z = adapt(f) if y is None else adapt(f) + upsample_like(y, f)
            y = crp(F.relu(z))
            if i < len(self.post):
                y = self.post[i](y)
        return self.classifier(y), []


@register_model(
    "lwrefinenet_mbv2",
    paper="Light-Weight RefineNet for Real-Time Semantic Segmentation (Nekrasov et al., 2018)",
    description="MobileNetV2 encoder + chained-residual-pooling decoder to 1/4",
)
def lwrefinenet_mbv2(num_classes: int, **kw) -> LightWeightRefineNet:
    return LightWeightRefineNet(num_classes, **kw)
