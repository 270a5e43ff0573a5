"""Parameter and FLOP counts, measured by PyTorch's own FLOP counter rather than by hand."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from liveseg.models._registry import create, get_config, list_models


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_gflops(model: nn.Module, size: tuple[int, int]) -> float:
    """GFLOPs of one eval-mode forward at `size` (FLOPs = 2 x multiply-adds, as FlopCounterMode counts)."""
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.zeros(1, 3, *size))
    model.train(was_training)
    return counter.get_total_flops() / 1e9


def complexity(model: nn.Module, size: tuple[int, int]) -> tuple[int, float]:
    """(parameters, GFLOPs at `size`)."""
    return count_params(model), count_gflops(model, size)


def zoo(size: tuple[int, int], num_classes: int) -> list[tuple[str, int, float, str]]:
    """(name, parameters, GFLOPs at `size`, paper) of every architecture, built with `num_classes` outputs."""
    rows = []
    for name in list_models():
        params, gflops = complexity(create(name, num_classes=num_classes), size)
        rows.append((name, params, gflops, get_config(name).paper))
    return rows
