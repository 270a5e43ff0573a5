"""Checkpoints as docs/ARCHITECTURE.md describes them: everything eval and export need, plus resume state.

Files are written atomically and read with `weights_only=True`, so opening a checkpoint from elsewhere cannot
run code; that is why resume state (RNG states) is stored as plain lists and tensors only.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from liveseg import atomic
from liveseg.errors import LivesegError

FORMAT = "liveseg-checkpoint/1"
REQUIRED = ("model", "state_dict", "dataset", "normalization", "train_config", "epoch", "best_miou", "metrics")
RESUME_KEYS = ("raw_state_dict", "optimizer", "scheduler", "scaler", "ema", "rng", "history")


def save(path: str | os.PathLike, ckpt: dict) -> Path:
    return atomic.write_with(path, lambda tmp: torch.save(ckpt, tmp))


def without_resume_state(ckpt: dict) -> dict:
    """The slim form written as best.pt: what evaluation and export need, nothing for resuming."""
    return {k: v for k, v in ckpt.items() if k not in RESUME_KEYS}


def load(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Read and validate a checkpoint; anything else (missing, truncated, foreign) is a LivesegError."""
    path = Path(path)
    if not path.is_file():
        raise LivesegError(f"Checkpoint {path} does not exist; pass the best.pt or last.pt of a training run.")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for damaged or foreign files
        raise LivesegError(
            f"Cannot read checkpoint {path} ({type(exc).__name__}); it is damaged or not a liveseg checkpoint."
        ) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise LivesegError(f"{path} is not a liveseg checkpoint (format {FORMAT}); train one with `liveseg train`.")
    missing = [k for k in REQUIRED if k not in ckpt]
    if missing:
        raise LivesegError(f"Checkpoint {path} lacks {', '.join(missing)}; it is incomplete, train it again.")
    return ckpt


def build_model(ckpt: dict) -> nn.Module:
    """The network described by `ckpt`, weights loaded, in eval mode, on the CPU."""
    from liveseg import models

    spec = ckpt["model"]
    net = models.create(spec["name"], num_classes=spec["num_classes"], **spec.get("kwargs", {}))
    try:
        net.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise LivesegError(f"The checkpoint's weights do not fit model {spec['name']} ({first}).") from None
    return net.eval()
