"""Segmentation losses: cross-entropy, class-balanced cross-entropy and OHEM, all honouring the ignore index."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from liveseg.data import SegmentationDataset, label_histograms
from liveseg.train.config import LOSSES


def class_frequencies(dataset: SegmentationDataset, num_classes: int, indices: range | None = None) -> np.ndarray:
    """Share of labelled pixels per class, counted over the labels alone (no image decoding)."""
    counts = label_histograms(dataset, indices).sum(axis=0)[:num_classes].astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def balanced_weights(freq: np.ndarray, c: float = 1.02) -> torch.Tensor:
    """ENet's 1 / ln(c + frequency): rare classes weigh up to ~50x, absent ones get the largest weight
    harmlessly (they never occur); normalised to mean 1 so the learning rate keeps its meaning."""
    w = 1.0 / np.log(c + freq)
    return torch.tensor(w / w.mean(), dtype=torch.float32)


class OhemCrossEntropy(nn.Module):
    """Online hard example mining: the mean loss over pixels whose true-class probability is below `thresh`,
    but never fewer than `min_kept` pixels (the hardest ones) per batch."""

    weight: torch.Tensor | None  # a buffer: it follows the module to its device

    def __init__(
        self, ignore_index: int, thresh: float = 0.7, min_kept: int = 100_000, weight: torch.Tensor | None = None
    ) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.loss_thresh = -math.log(thresh)
        self.min_kept = min_kept
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pixel = F.cross_entropy(logits, target, self.weight, ignore_index=self.ignore_index, reduction="none")
        pixel = pixel[target != self.ignore_index]
        if pixel.numel() == 0:
            return logits.sum() * 0.0
        hard = pixel[pixel > self.loss_thresh]
        if hard.numel() < min(self.min_kept, pixel.numel()):
            hard = pixel.topk(min(self.min_kept, pixel.numel())).values
        return hard.mean()


class CrossEntropy(nn.Module):
    weight: torch.Tensor | None  # a buffer: it follows the module to its device

    def __init__(self, ignore_index: int, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target, self.weight, ignore_index=self.ignore_index)


def build_loss(
    kind: str,
    ignore_index: int,
    weights: torch.Tensor | None = None,
    ohem_thresh: float = 0.7,
    ohem_min_kept: int = 100_000,
) -> nn.Module:
    if kind == "ohem":
        return OhemCrossEntropy(ignore_index, ohem_thresh, ohem_min_kept)
    if kind in ("ce", "balanced"):
        return CrossEntropy(ignore_index, weights if kind == "balanced" else None)
    raise ValueError(f"unknown loss {kind!r}; choose one of {', '.join(LOSSES)}")


def segmentation_loss(
    criterion: nn.Module, output: torch.Tensor | dict, target: torch.Tensor, aux_weight: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(total loss, main logits): main loss plus `aux_weight` × each auxiliary head's loss when there are any."""
    if isinstance(output, dict):
        logits = output["out"]
        loss = criterion(logits, target)
        for aux in output.get("aux", []):
            loss = loss + aux_weight * criterion(aux, target)
        return loss, logits
    return criterion(output, target), output
