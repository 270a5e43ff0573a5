"""Learning-rate schedules and the weight EMA."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from liveseg.train import ema
from liveseg.train.schedule import build_scheduler, lr_factor


def test_warmup_then_poly_and_cosine() -> None:
    assert [lr_factor(s, 100, 4, "poly") for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_factor(4, 100, 4, "poly") == 1.0
    assert lr_factor(52, 100, 4, "cosine") == pytest.approx(0.5)
    assert lr_factor(52, 100, 4, "poly") == pytest.approx(0.5**0.9)
    assert lr_factor(100, 100, 4, "poly") == lr_factor(100, 100, 4, "cosine") == 0.0


def test_scheduler_steps_per_iteration() -> None:
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = build_scheduler(opt, "poly", total_steps=10, warmup_steps=2)
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:3] == pytest.approx([0.05, 0.1, 0.1]) and lrs == sorted(lrs[:2]) + sorted(lrs[2:], reverse=True)


def test_ema_averages_weights_and_buffers_with_warmup() -> None:
    model = nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))
    averaged = ema.create_ema(model, decay=0.99)
    start = model[0].weight.detach().clone()
    averaged.update_parameters(model)  # the first update copies
    with torch.no_grad():
        model[0].weight.add_(1.0)
        model(torch.randn(4, 1, 2, 2))  # moves BatchNorm's running statistics
    averaged.update_parameters(model)
    d = min(0.99, 2 / 11)  # warm-up decay after one average: (1 + n) / (10 + n)
    assert torch.allclose(averaged.module[0].weight, start * d + (start + 1) * (1 - d))
    assert averaged.module[1].num_batches_tracked.item() == 1
    assert not averaged.module[1].running_mean.equal(torch.zeros(1))
    assert not averaged.module[0].weight.requires_grad
