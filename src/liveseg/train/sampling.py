"""Rare-class sampling: which images an epoch shows when rare classes should be seen more often.

Uniform sampling shows each image once an epoch, so a class on a handful of images (CamVid's cyclists) is met a
handful of times while the road is met on every image, and on a drive the model never saw the rare classes are
the first to go (the model card's run 9). Rare-class sampling (Hoyer et al., DAFormer, CVPR 2022) draws each sample
in two steps: a class c with probability proportional to exp((1 - f_c) / T), f_c being c's share of the split's
labelled pixels, then uniformly an image that shows c. An epoch keeps its length (one draw per image), so the
learning-rate schedule and the epoch count mean what they do without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from liveseg.errors import LivesegError

# An image shows a class when at least this share of its pixels is that class (a 20x17-pixel cyclist in 480x360),
# so that a random crop of it usually keeps some of the class.
MIN_SHARE = 0.002


@dataclass(frozen=True)
class RareClassSampling:
    """Class draw probabilities and, per class, the positions of the images that show it."""

    probabilities: np.ndarray  # one per class; 0 for a class no image shows
    images: tuple[np.ndarray, ...]  # per class, positions into the split's images

    @classmethod
    def from_histograms(cls, histograms: np.ndarray, temperature: float) -> RareClassSampling:
        """From per-image pixel counts of each class (rows: images, columns: class ids, ignored pixels left out)."""
        if temperature <= 0:
            raise ValueError("the temperature must be positive")
        pixels = histograms.astype(np.float64)
        shown = pixels >= MIN_SHARE * np.maximum(pixels.sum(axis=1, keepdims=True), 1.0)
        held = shown.any(axis=0)
        if not held.any():
            raise LivesegError(
                "Rare-class sampling found no image showing any class; train without --rare-class-sampling."
            )
        share = pixels.sum(axis=0) / max(pixels.sum(), 1.0)
        logits = np.where(held, (1.0 - share) / temperature, -np.inf)
        weights = np.exp(logits - logits[held].max())
        images = tuple(np.flatnonzero(shown[:, c]) for c in range(pixels.shape[1]))
        return cls(weights / weights.sum(), images)

    def draw(self, generator: torch.Generator, n: int) -> torch.Tensor:
        """Positions of `n` images (with repeats): a class by its probability, then one of its images."""
        classes = torch.multinomial(torch.from_numpy(self.probabilities), n, replacement=True, generator=generator)
        picks = torch.rand(n, generator=generator, dtype=torch.float64)
        pairs = zip(classes.tolist(), picks.tolist(), strict=True)
        return torch.tensor([int(self.images[c][int(u * len(self.images[c]))]) for c, u in pairs])

    def describe(self, classes: Sequence[str], top: int = 5) -> str:
        """The most drawn classes with their shares, for the run's log."""
        order = np.argsort(-self.probabilities)[:top]
        return ", ".join(f"{classes[c]} {100 * self.probabilities[c]:.0f}%" for c in order if self.probabilities[c])
