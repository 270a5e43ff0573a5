"""The model registry: architectures register a constructor and a config; `create` builds them by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from liveseg.models.layers import SegmentationModel
from liveseg.registry import Registry


@dataclass(frozen=True)
class ModelConfig:
    """What a user needs to know before choosing a model; kept beside each architecture."""

    name: str
    paper: str
    description: str
    defaults: dict = field(default_factory=dict)
    imagenet: bool = False  # its encoder can start from ImageNet (`--init imagenet`: the model's load_imagenet)


_MODELS: Registry[tuple[Callable[..., SegmentationModel], ModelConfig]] = Registry("model", "choose one of: ")


def register_model(name: str, paper: str, description: str, imagenet: bool = False, **defaults) -> Callable:
    """Decorator: `@register_model("fast_scnn", paper=..., description=...)` on a constructor."""

    def wrap(fn: Callable[..., SegmentationModel]) -> Callable[..., SegmentationModel]:
        _MODELS.add(name, (fn, ModelConfig(name, paper, description, dict(defaults), imagenet)))
        return fn

    return wrap


def list_models() -> list[str]:
    return _MODELS.names()


def get_config(name: str) -> ModelConfig:
    return _MODELS.lookup(name)[1]


def create(name: str, num_classes: int, **kwargs) -> SegmentationModel:
    """Build a freshly initialised network; `kwargs` override the registered defaults."""
    fn, cfg = _MODELS.lookup(name)
    return fn(num_classes=num_classes, **{**cfg.defaults, **kwargs})
