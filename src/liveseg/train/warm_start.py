"""Initial weights for a run (`--init`): a checkpoint's, or those of an exported bundle's fp32 graph.

A bundle is often all that is left of a model (it is what ships; run folders are not kept), so fine-tuning
starts from it too. Its graph has each BatchNorm folded into the convolution before it; `from_bundle` puts
the folded weights back into the convolutions (`liveseg.models.exported`, shared with export) and
re-parameterises every BatchNorm so that it computes the same function in eval mode *and* in train mode: its
running statistics are measured on training batches and its affine parameters undo them. The recovered
network's eval output equals the bundle's logits.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from torch import nn

from liveseg import models
from liveseg.errors import LivesegError
from liveseg.models import checkpoint
from liveseg.models.exported import check_model, load_folded, running_stats
from liveseg.progress import QUIET, Progress

IMAGENET = "imagenet"  # --init value: the encoder's ImageNet weights


def load_initial(
    model: nn.Module, source: str, model_name: str, batches: Iterable[torch.Tensor], progress: Progress = QUIET
) -> list[str]:
    """Load `source` (checkpoint file, bundle folder/name, or `imagenet`) into `model`; the names of the
    parameters the source did not have (e.g. auxiliary heads, which are not exported) keep their random
    initialisation. `progress` shows the ImageNet weights' download."""
    if source == IMAGENET:
        return from_imagenet(model, model_name, progress)
    path = Path(source)
    if path.is_file() and path.suffix == ".pt":
        ckpt = checkpoint.load(path)
        check_model(ckpt["model"]["name"], model_name, source)
        try:
            missing, unexpected = model.load_state_dict(ckpt["state_dict"], strict=False)
        except RuntimeError as exc:  # shapes differ: another width or class count
            first = str(exc).strip().splitlines()[-1].strip().rstrip(".")
            raise LivesegError(
                f"--init {source} does not fit this model ({first}); pass its --model-arg values."
            ) from None
        if unexpected:
            raise LivesegError(f"--init {source} has weights this model lacks ({unexpected[0]}, ...).")
        return list(missing)
    return from_bundle(model, source, model_name, batches)


def from_imagenet(model: nn.Module, model_name: str, progress: Progress = QUIET) -> list[str]:
    """The encoder's ImageNet weights, for models that have them (a `load_imagenet` method, like timm's
    `pretrained=True`); returns the parameters left at their random start."""
    load = getattr(model, "load_imagenet", None)
    if not models.get_config(model_name).imagenet or load is None:
        raise LivesegError(
            f"--init {IMAGENET}: {model_name} has no ImageNet weights; choose --model {' or '.join(imagenet_models())}."
        )
    return load(progress)


def imagenet_models() -> list[str]:
    """The registered models whose encoder has ImageNet weights, for the sentences that name them."""
    return [n for n in models.list_models() if models.get_config(n).imagenet]


@torch.no_grad()
def from_bundle(model: nn.Module, source: str, model_name: str, batches: Iterable[torch.Tensor]) -> list[str]:
    """Recover trainable weights from a bundle's fp32 graph (see the module docstring); returns the names of
    the model's parameters the graph does not hold."""
    loaded, norms = load_folded(model, source, model_name)
    _calibrate(model, norms, batches)
    return [n for n, _ in model.named_parameters() if n not in loaded]


def _calibrate(model: nn.Module, norms: list[tuple[str, nn.BatchNorm2d]], batches: Iterable[torch.Tensor]) -> None:
    """Give each identity BatchNorm the statistics of its input and the affine map that undoes them."""
    sums: dict[str, list[torch.Tensor]] = {n: [] for n, _ in norms}

    def recorder(name: str):
        def hook(_module: nn.Module, inputs: tuple[torch.Tensor]) -> None:
            x = inputs[0].float().transpose(0, 1).flatten(1)
            sums[name].append(torch.stack([x.mean(1), (x * x).mean(1)]))

        return hook

    handles = [bn.register_forward_pre_hook(recorder(n)) for n, bn in norms]
    was_training = model.training
    model.eval()
    try:
        for images in batches:
            model(images)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    for name, bn in norms:
        mean, square = torch.stack(sums[name]).mean(0)
        var = (square - mean * mean).clamp_min(0.0)
        running_mean, running_var = running_stats(bn)
        running_mean.copy_(mean), running_var.copy_(var)
        bn.weight.copy_(torch.sqrt(var + bn.eps)), bn.bias.add_(mean)
