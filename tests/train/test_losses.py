"""Losses honour the ignore index; class-balanced weights favour rare classes; OHEM keeps the hard pixels."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from liveseg.data import get_dataset
from liveseg.train import losses

IGNORE = 11


def test_cross_entropy_ignores_ignore_pixels() -> None:
    logits = torch.randn(1, 3, 2, 2)
    target = torch.tensor([[[0, 1], [IGNORE, 2]]])
    loss = losses.build_loss("ce", IGNORE)(logits, target)
    per_pixel = -F.log_softmax(logits, 1)[0, [0, 1, 2], [0, 0, 1], [0, 1, 1]]
    assert loss.item() == pytest.approx(per_pixel.mean().item(), rel=1e-6)


def test_balanced_weights_from_real_label_frequencies(tiny_camvid: Path) -> None:
    ds = get_dataset("camvid", "val", root=tiny_camvid)
    freq = losses.class_frequencies(ds, 11)
    assert freq.sum() == pytest.approx(1.0)
    weights = losses.balanced_weights(freq)
    assert weights.mean().item() == pytest.approx(1.0)
    common, rare = int(np.argmax(freq)), int(np.argmin(np.where(freq > 0, freq, 1)))
    assert weights[rare] > 3 * weights[common]


def test_ohem_keeps_hard_pixels_and_at_least_min_kept() -> None:
    # Four labelled pixels with true-class probabilities 0.9, 0.8, 0.3, 0.1 and one ignored pixel.
    probs = torch.tensor([0.9, 0.8, 0.3, 0.1, 0.5])
    logits = torch.stack([probs.log(), (1 - probs).log()]).view(1, 2, 1, 5)
    target = torch.tensor([[[0, 0, 0, 0, IGNORE]]])
    hard = losses.build_loss("ohem", IGNORE, ohem_thresh=0.7, ohem_min_kept=1)(logits, target)
    assert hard.item() == pytest.approx((-math.log(0.3) - math.log(0.1)) / 2, rel=1e-5)
    three = losses.build_loss("ohem", IGNORE, ohem_thresh=0.7, ohem_min_kept=3)(logits, target)
    assert three.item() == pytest.approx((-math.log(0.8) - math.log(0.3) - math.log(0.1)) / 3, rel=1e-5)
    assert losses.build_loss("ohem", IGNORE)(logits, torch.full_like(target, IGNORE)).item() == 0.0


def test_aux_heads_add_weighted_losses() -> None:
    criterion = losses.build_loss("ce", IGNORE)
    target = torch.randint(0, 3, (1, 4, 4))
    out, aux = torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4)
    total, logits = losses.segmentation_loss(criterion, {"out": out, "aux": [aux]}, target, aux_weight=0.4)
    assert logits is out
    assert total.item() == pytest.approx((criterion(out, target) + 0.4 * criterion(aux, target)).item(), rel=1e-6)
