"""The model registry: architectures register a constructor and a config; `create` builds them by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from liveseg.errors import LivesegError


@dataclass(frozen=True)
class ModelConfig:
    """What a user needs to know before choosing a model; kept beside each architecture."""

    name: str
    paper: str
    description: str
    defaults: dict = field(default_factory=dict)


_MODELS: dict[str, tuple[Callable[..., nn.Module], ModelConfig]] = {}


def register_model(name: str, paper: str, description: str, **defaults) -> Callable:
    """Decorator: `@register_model("fast_scnn", paper=..., description=...)` on a constructor."""

    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _MODELS:
            raise ValueError(f"model {name!r} registered twice")
        _MODELS[name] = (fn, ModelConfig(name, paper, description, dict(defaults)))
        return fn

    return wrap


def list_models() -> list[str]:
    return sorted(_MODELS)


def _lookup(name: str) -> tuple[Callable[..., nn.Module], ModelConfig]:
    if name not in _MODELS:
        raise LivesegError(f"Unknown model {name!r}; choose one of: {', '.join(list_models())}.")
    return _MODELS[name]


def get_config(name: str) -> ModelConfig:
    return _lookup(name)[1]


def create(name: str, num_classes: int, **kwargs) -> nn.Module:
    """Build a freshly initialised network; `kwargs` override the registered defaults."""
    fn, cfg = _lookup(name)
    return fn(num_classes=num_classes, **{**cfg.defaults, **kwargs})
