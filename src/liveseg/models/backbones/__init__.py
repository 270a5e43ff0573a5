"""Encoders written here (no torchvision): each returns a list of feature maps, finest first."""

from liveseg.models.backbones.mobilenetv2 import MobileNetV2
from liveseg.models.backbones.resnet import ResNet18

__all__ = ["MobileNetV2", "ResNet18"]
