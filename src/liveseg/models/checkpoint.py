"""Checkpoints as docs/ARCHITECTURE.md describes them: everything eval and export need, plus resume state.

The schema is written (`make`) and read (`load`, `build_model`) here, below training, so that evaluation, export
and benchmarks open a checkpoint without importing the training loop and its data pipeline. Files are written
atomically and read with `weights_only=True`, so opening a checkpoint from elsewhere cannot run code; that is
why resume state (RNG states) is stored as plain lists and tensors only.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from liveseg import atomic
from liveseg.data import NORMALIZATION, DatasetInfo
from liveseg.errors import LivesegError
from liveseg.models._registry import create
from liveseg.models.layers import SegmentationModel

FORMAT = "liveseg-checkpoint/1"
REQUIRED = ("model", "state_dict", "dataset", "normalization", "train_config", "epoch", "best_miou", "metrics")
RESUME_KEYS = ("raw_state_dict", "optimizer", "scheduler", "scaler", "ema", "rng", "history")


def make(
    model: str,
    kwargs: dict,
    state_dict: dict,
    info: DatasetInfo,
    train_config: dict,
    epoch: int,
    best_miou: float,
    metrics: dict,
) -> dict:
    """The checkpoint without resume state (what best.pt holds); training adds `RESUME_KEYS` for last.pt."""
    return {
        "format": FORMAT,
        "model": {"name": model, "num_classes": info.num_classes, "kwargs": dict(kwargs)},
        "state_dict": state_dict,
        "dataset": {
            "name": info.name,
            "classes": list(info.classes),
            "palette": [list(c) for c in info.palette],
            "ignore_index": info.ignore_index,
        },
        "normalization": {"mean": list(NORMALIZATION["mean"]), "std": list(NORMALIZATION["std"])},
        "train_config": train_config,
        "epoch": epoch,
        "best_miou": best_miou,
        "metrics": metrics,
    }


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


def build_model(ckpt: dict) -> SegmentationModel:
    """The network described by `ckpt`, weights loaded, in eval mode, on the CPU."""
    spec = ckpt["model"]
    net = create(spec["name"], num_classes=spec["num_classes"], **spec.get("kwargs", {}))
    try:
        net.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise LivesegError(f"The checkpoint's weights do not fit model {spec['name']} ({first}).") from None
    return net.eval()
