"""DeepLabV3+ (Chen et al., 2018, "Encoder-Decoder with Atrous Separable Convolution for Semantic Image
Segmentation") with a MobileNetV2 encoder at output stride 16: ASPP on the 1/16 features, a decoder that joins
them with the 1/4 low-level features. ASPP and decoder use depthwise-separable convolutions, as in the paper.
"""

from __future__ import annotations

import torch
from torch import nn

from liveseg.models._registry import register_model
from liveseg.models.backbones import MobileNetV2
from liveseg.models.layers import ConvBNAct, SegmentationModel, init_weights, upsample_like


class SeparableConv(nn.Sequential):
    def __init__(self, cin: int, cout: int, dilation: int = 1):
        super().__init__(ConvBNAct(cin, cin, 3, groups=cin, dilation=dilation), ConvBNAct(cin, cout, 1))


class ASPP(nn.Module):
    def __init__(self, cin: int, cout: int, rates: tuple[int, ...] = (6, 12, 18)):
        super().__init__()
        self.branches = nn.ModuleList([ConvBNAct(cin, cout, 1), *[SeparableConv(cin, cout, r) for r in rates]])
        self.image_pool = ConvBNAct(cin, cout, 1)
        self.project = nn.Sequential(ConvBNAct(cout * (len(rates) + 2), cout, 1), nn.Dropout(0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = upsample_like(self.image_pool(x.mean((2, 3), keepdim=True)), x)
        return self.project(torch.cat([b(x) for b in self.branches] + [pooled], 1))


class DeepLabV3Plus(SegmentationModel):
    def __init__(self, num_classes: int, channels: int = 256, low_channels: int = 48, encoder_width: float = 1.0):
        super().__init__()
        self.encoder = MobileNetV2(encoder_width, output_stride=16)
        low_in, high_in = self.encoder.channels[0], self.encoder.channels[3]
        self.aspp = ASPP(high_in, channels)
        self.low = ConvBNAct(low_in, low_channels, 1)
        self.decoder = nn.Sequential(
            SeparableConv(channels + low_channels, channels),
            SeparableConv(channels, channels),
            nn.Conv2d(channels, num_classes, 1),
        )
        init_weights(self)

    def logits_and_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        f4, _, _, f16 = self.encoder(x)
        low = self.low(f4)
        return self.decoder(torch.cat([low, upsample_like(self.aspp(f16), low)], 1)), []


@register_model(
    "deeplabv3plus_mbv2",
    paper="Encoder-Decoder with Atrous Separable Convolution for Semantic Image Segmentation (Chen et al., 2018)",
    description="MobileNetV2 (OS16) + ASPP + low-level decoder",
)
def deeplabv3plus_mbv2(num_classes: int, **kw) -> DeepLabV3Plus:
    return DeepLabV3Plus(num_classes, **kw)
