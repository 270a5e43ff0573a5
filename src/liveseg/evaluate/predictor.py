"""A `predict(image) -> labels` function from a checkpoint: whole images at native size by default, optionally
in overlapping windows, multi-scale and flipped (softmax averaged), for reporting accuracy beyond what the
exported model does."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from liveseg.data.loader import to_tensor
from liveseg.models import checkpoint


def window_starts(length: int, window: int) -> list[int]:
    """Offsets of windows along one side: stride 2/3 of the window (a third overlaps), the last flush with the
    end, so every pixel is covered and none by a window hanging over the edge."""
    if window >= length:
        return [0]
    starts = list(range(0, length - window + 1, max(1, window * 2 // 3)))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


class TorchPredictor:
    def __init__(
        self,
        model: nn.Module,
        device: str | torch.device = "cpu",
        scales: Sequence[float] = (1.0,),
        flip: bool = False,
        window: tuple[int, int] | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.scales, self.flip, self.window = tuple(scales), flip, window

    @classmethod
    def from_checkpoint(
        cls,
        ckpt: str | os.PathLike | dict,
        device: str = "auto",
        scales: Sequence[float] = (1.0,),
        flip: bool = False,
        window: tuple[int, int] | None = None,
    ) -> TorchPredictor:
        """The network of a checkpoint (its path, or the dict `checkpoint.load` returned) on `device`."""
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        ckpt = ckpt if isinstance(ckpt, dict) else checkpoint.load(ckpt)
        return cls(checkpoint.build_model(ckpt), device, scales, flip, window)

    def _windowed_probs(self, x: torch.Tensor, window: tuple[int, int]) -> torch.Tensor:
        """Softmax averaged over overlapping windows; a window larger than the image shrinks to fit it."""
        h, w = x.shape[-2:]
        wh, ww = min(window[0], h), min(window[1], w)
        total: torch.Tensor | None = None
        count = x.new_zeros((1, 1, h, w))
        for top in window_starts(h, wh):
            for left in window_starts(w, ww):
                probs = self.model(x[..., top : top + wh, left : left + ww]).softmax(1)
                if total is None:
                    total = x.new_zeros((1, probs.shape[1], h, w))
                total[..., top : top + wh, left : left + ww] += probs
                count[..., top : top + wh, left : left + ww] += 1
        assert total is not None  # window_starts gives at least one start
        return total / count

    def _probs(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        probs = self._windowed_probs(x, self.window) if self.window else self.model(x).softmax(1)
        return probs if probs.shape[-2:] == size else F.interpolate(probs, size, mode="bilinear")

    @torch.inference_mode()
    def __call__(self, image: np.ndarray) -> np.ndarray:
        x = to_tensor(image).unsqueeze(0).to(self.device)
        size = (x.shape[-2], x.shape[-1])
        if self.scales == (1.0,) and not self.flip and not self.window:
            return self.model(x).argmax(1)[0].to(torch.uint8).cpu().numpy()
        probs = torch.zeros((), device=self.device)
        for s in self.scales:
            xs = x if s == 1.0 else F.interpolate(x, (round(size[0] * s), round(size[1] * s)), mode="bilinear")
            probs = probs + self._probs(xs, size)
            if self.flip:
                probs = probs + self._probs(xs.flip(-1), size).flip(-1)
        return probs.argmax(1)[0].to(torch.uint8).cpu().numpy()
