"""The model zoo, timm-style: `create(name, num_classes=..., **kw)`; one file per architecture.

Every model takes N x 3 x H x W normalised float images and returns N x C x H x W logits at the input resolution
(a dict with "out" and "aux" logits in training mode when it has auxiliary heads).
"""

from liveseg.models import (  # noqa: F401  (they register)
    ddrnet,
    deeplabv3,
    deeplabv3plus,
    fast_scnn,
    fpn,
    fpn_lite,
    lraspp,
    lwrefinenet,
)
from liveseg.models._registry import ModelConfig, create, get_config, list_models, register_model
from liveseg.models.complexity import complexity, count_gflops, count_params, zoo

__all__ = [
    "ModelConfig",
    "complexity",
    "count_gflops",
    "count_params",
    "create",
    "get_config",
    "list_models",
    "register_model",
    "zoo",
]
