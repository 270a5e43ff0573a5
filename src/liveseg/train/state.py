"""What a training run is at any moment (`Run`) and how it is saved and restored: the checkpoint with its resume
state (optimizer, scheduler, scaler, EMA, the random generators' states, the history) and `resume`, which refuses a
damaged or mismatched one in one sentence before the run is touched."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from liveseg.data import DatasetInfo
from liveseg.errors import LivesegError
from liveseg.models import checkpoint
from liveseg.train import distributed, ema
from liveseg.train.config import TrainConfig


@dataclass
class Run:
    """Everything that changes while training, i.e. everything a resume must restore."""

    cfg: TrainConfig
    info: DatasetInfo
    device: torch.device
    model: nn.Module
    ema: AveragedModel | None
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    amp_dtype: torch.dtype | None
    criterion: nn.Module
    teacher: nn.Module | None = None
    world: distributed.World = field(default_factory=distributed.World)
    ddp: nn.Module | None = None  # DistributedDataParallel around `model` in a torchrun run (model stays the weights)
    epoch: int = 0
    best_miou: float = 0.0
    metrics: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)

    @property
    def eval_model(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.model

    @property
    def train_model(self) -> nn.Module:
        """What a training step calls: the DDP wrapper (gradients averaged across processes) or the model."""
        return self.ddp if self.ddp is not None else self.model


def rng_state() -> dict:
    numpy_state = np.random.get_state()
    assert isinstance(numpy_state, tuple)  # legacy=True, the default
    name, keys, pos, has_gauss, cached = numpy_state
    state = {
        "python": random.getstate(),
        "numpy": [name, keys.tolist(), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def make_checkpoint(run: Run) -> dict:
    return {
        **checkpoint.make(
            run.cfg.model,
            run.cfg.model_kwargs,
            run.eval_model.state_dict(),
            run.info,
            run.cfg.to_dict(),
            run.epoch,
            run.best_miou,
            run.metrics,
        ),
        "raw_state_dict": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict(),
        "scaler": run.scaler.state_dict(),
        "ema": ema.ema_state(run.ema) if run.ema is not None else None,
        "rng": rng_state(),
        "history": run.history,
    }


# The resume state's plain values and the type each has in an intact last.pt; tensors' states are checked by the
# objects that load them.
RESUME_TYPES: dict[str, type | tuple[type, ...]] = {
    "train_config": dict, "optimizer": dict, "scheduler": dict, "scaler": dict, "rng": dict, "history": list,
    "epoch": int, "best_miou": (int, float), "metrics": dict,
}  # fmt: skip


def resume(run: Run, path: Path) -> None:
    """Restore everything `make_checkpoint` saved; the next epoch is the one after the checkpoint's.

    A damaged resume state (a field of the wrong type or shape, however it came about) is one sentence, found
    before the run is touched where the types tell, else by the loader that refuses it."""
    ckpt = checkpoint.load(path, map_location=run.device)
    if "raw_state_dict" not in ckpt:
        raise LivesegError(f"{path} holds no resume state; resume from a last.pt, not a best.pt.")
    for key, kind in RESUME_TYPES.items():
        value = ckpt.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _damaged(path, f"its {key} is a {type(value).__name__}")
    if ckpt["epoch"] < 0 or not all(isinstance(entry, dict) for entry in ckpt["history"]):
        raise _damaged(path, "its epoch is negative or its history holds more than epoch records")
    try:
        _restore(run, path, ckpt)
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _damaged(path, f"{type(exc).__name__}: {first[:120]}") from None


def _damaged(path: Path, what: str) -> LivesegError:
    return LivesegError(
        f"{path} has a damaged resume state ({what}); resume from an intact last.pt, or train anew in another --out."
    )


def _restore(run: Run, path: Path, ckpt: dict) -> None:
    """Load every part of the resume state into `run`; options that changed are refused first."""
    for key, mine in (("model", run.cfg.model), ("data", run.cfg.data)):
        theirs = ckpt["train_config"][key]
        if theirs != mine:
            raise LivesegError(f"{path} was trained with --{key} {theirs}, not {mine}; resume with the same options.")
    changes = run.cfg.recipe_changes(ckpt["train_config"])
    if changes and not run.cfg.resume_force:
        raise LivesegError(
            f"{path} was trained with other options ({'; '.join(changes)}); resume with the same options, or pass "
            "--resume-force to continue with the new ones (a new --epochs re-derives the learning-rate schedule)."
        )
    run.model.load_state_dict(ckpt["raw_state_dict"])
    if len(ckpt["optimizer"]["param_groups"]) != len(run.optimizer.param_groups):
        raise LivesegError(
            f"{path} was trained with --encoder-lr-mult {ckpt['train_config'].get('encoder_lr_mult', 1.0)}, which "
            "splits the parameters differently; resume with that value, or train anew in another --out."
        )
    run.optimizer.load_state_dict(ckpt["optimizer"])
    run.scheduler.load_state_dict(ckpt["scheduler"])
    run.scaler.load_state_dict(ckpt["scaler"])
    if run.ema is not None:
        if ckpt["ema"] is None:
            raise LivesegError(f"{path} was trained without --ema; resume without it too.")
        ema.restore_ema(run.ema, ckpt["state_dict"], ckpt["ema"])
    set_rng_state(ckpt["rng"])
    run.epoch, run.best_miou, run.metrics = ckpt["epoch"], ckpt["best_miou"], ckpt["metrics"]
    run.history = list(ckpt["history"])
