"""Learning-rate schedules stepped every iteration: linear warm-up, then poly or cosine decay to zero."""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR

from liveseg.train.config import SCHEDULES


def lr_factor(step: int, total: int, warmup: int, kind: str, power: float = 0.9) -> float:
    """Multiplier of the base learning rate at iteration `step` of `total` (warm-up ramps from 1/warmup to 1)."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min((step - warmup) / max(total - warmup, 1), 1.0)
    if kind == "poly":
        return (1.0 - progress) ** power
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(f"unknown schedule {kind!r}; choose one of {', '.join(SCHEDULES)}")


def build_scheduler(optimizer: torch.optim.Optimizer, kind: str, total_steps: int, warmup_steps: int) -> LambdaLR:
    # A plain function (not an object) keeps LambdaLR's state_dict down to the step count, which is all
    # resuming needs: the schedule itself is rebuilt from the command line.
    def factor(step: int) -> float:
        return lr_factor(step, total_steps, warmup_steps, kind)

    return LambdaLR(optimizer, factor)
