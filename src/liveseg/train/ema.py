"""Exponential moving average of the weights (and BatchNorm statistics), the weights validated and shipped.

Built on `torch.optim.swa_utils.AveragedModel`; the decay warms up as min(decay, (1+n)/(10+n)) so that short
runs are not dominated by the random initialisation.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


def _ema_fn(decay: float):
    @torch.no_grad()
    def update(ema: list[torch.Tensor], current: list[torch.Tensor], n_averaged: torch.Tensor) -> None:
        if not torch.is_floating_point(ema[0]):  # e.g. BatchNorm's num_batches_tracked
            torch._foreach_copy_(ema, current)
            return
        d = min(decay, (1.0 + n_averaged.item()) / (10.0 + n_averaged.item()))
        torch._foreach_lerp_(ema, current, 1.0 - d)

    return update


def create_ema(model: nn.Module, decay: float) -> AveragedModel:
    """An eval-mode, gradient-free copy of `model` whose `update_parameters(model)` folds in each step."""
    ema = AveragedModel(model, multi_avg_fn=_ema_fn(decay), use_buffers=True)
    ema.eval().requires_grad_(False)
    return ema


def ema_state(ema: AveragedModel) -> dict:
    """What a checkpoint keeps beside the EMA weights (stored once, as the checkpoint's "state_dict")."""
    return {"updates": int(ema.n_averaged)}


def restore_ema(ema: AveragedModel, weights: dict, state: dict) -> None:
    ema.module.load_state_dict(weights)
    ema.n_averaged.fill_(state["updates"])
