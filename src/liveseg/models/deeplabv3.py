"""DeepLabV3 (Chen et al., 2017, "Rethinking Atrous Convolution for Semantic Image Segmentation") on a
MobileNetV3-Large encoder at output stride 16: ASPP with rates 12, 24, 36 and image pooling, a 3x3 conv and a
classifier, plus an FCN auxiliary head on the 1/8 features for training. Module names follow torchvision's
`deeplabv3_mobilenet_v3_large(aux_loss=True)`, so its COCO-with-VOC-labels weight file loads with
`load_state_dict(strict=True)`; its ASPP uses full 3x3 convs, unlike the separable ones of `deeplabv3plus_mbv2`.
"""

from __future__ import annotations

import torch
from torch import nn

from liveseg.models._registry import register_model
from liveseg.models.backbones.mobilenetv3 import GlobalAvgPool, MobileNetV3Large
from liveseg.models.layers import ConvBNAct, SegmentationModel, init_weights, upsample_like


class ImagePooling(nn.Sequential):
    """Image-level context: global average → 1x1 conv, BN, ReLU → resized to the input's size, as torchvision
    does (an ONNX Resize, which onnxruntime-web's WebGL backend runs; it has no Expand). Index 0 is the pool so
    that the conv is `1`, as in torchvision's state dict."""

    def __init__(self, cin: int, cout: int):
        super().__init__(GlobalAvgPool(), *ConvBNAct(cin, cout, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upsample_like(super().forward(x), x)


class ASPP(nn.Module):
    """Parallel 1x1, dilated 3x3 and image-pooling branches, concatenated and projected back."""

    def __init__(self, cin: int, cout: int = 256, rates: tuple[int, ...] = (12, 24, 36)):
        super().__init__()
        self.convs = nn.ModuleList(
            [ConvBNAct(cin, cout, 1), *[ConvBNAct(cin, cout, 3, dilation=r) for r in rates], ImagePooling(cin, cout)]
        )
        self.project = nn.Sequential(*ConvBNAct(cout * len(self.convs), cout, 1), nn.Dropout(0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([branch(x) for branch in self.convs], 1))


def _fcn_head(cin: int, num_classes: int) -> nn.Sequential:
    """The auxiliary head: 3x3 conv to cin/4, BN, ReLU, dropout, classifier (one flat Sequential, for the keys)."""
    return nn.Sequential(*ConvBNAct(cin, cin // 4, 3), nn.Dropout(0.1), nn.Conv2d(cin // 4, num_classes, 1))


class DeepLabV3(SegmentationModel):
    """Logits at 1/16 of the input; the base class upsamples them bilinearly, as torchvision does.

    `aux=True` (the default) builds the auxiliary head that torchvision's pretrained weights include, so they
    load strictly; it runs in training only.
    """

    def __init__(self, num_classes: int, aux: bool = True, channels: int = 256):
        super().__init__()
        self.backbone = MobileNetV3Large(output_stride=16)
        low_channels, high_channels = self.backbone.channels
        self.classifier = nn.Sequential(
            ASPP(high_channels, channels), *ConvBNAct(channels, channels, 3), nn.Conv2d(channels, num_classes, 1)
        )
        self.aux_classifier = _fcn_head(low_channels, num_classes) if aux else None
        init_weights(self)

    def logits_and_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        low, high = self.backbone(x)
        aux = [self.aux_classifier(low)] if self.aux_classifier is not None and self.training else []
        return self.classifier(high), aux


@register_model(
    "deeplabv3_mobilenet_v3_large",
    paper="Rethinking Atrous Convolution for Semantic Image Segmentation (Chen et al., 2017)",
    description="MobileNetV3-Large (OS16) + ASPP (rates 12/24/36); loads torchvision's weights; ~11M params",
)
def deeplabv3_mobilenet_v3_large(num_classes: int, **kw) -> DeepLabV3:
    return DeepLabV3(num_classes, **kw)
