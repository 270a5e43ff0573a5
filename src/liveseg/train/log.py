"""What a training run reports per epoch: the CSV log (rewritten from the checkpointed history), the line on
`logger` and TensorBoard's scalars."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from liveseg import atomic
from liveseg.errors import LivesegError
from liveseg.train.config import TrainConfig
from liveseg.train.state import Run

LOG_FIELDS = ("epoch", "lr", "train_loss", "val_miou", "pixel_acc", "seconds")

logger = logging.getLogger("liveseg.train")
"""A run's lines: each epoch's figures and resuming (info, from the main process), what the user should know
(warning). `liveseg train` prints them above its bars; a library caller sees the warnings (Python's default), and
the rest once it configures logging."""


def write_log(path: Path, history: list[dict]) -> None:
    """The CSV is rewritten from the checkpointed history, so after a resume it never holds a lost epoch."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=LOG_FIELDS)
    writer.writeheader()
    writer.writerows(history)
    atomic.write_text(path, buf.getvalue())


def tensorboard(cfg: TrainConfig):
    if not cfg.tensorboard:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise LivesegError("--tensorboard needs the tensorboard package; `pip install tensorboard`.") from None
    return SummaryWriter(str(cfg.out_dir / "tensorboard"))


def log_epoch(run: Run, lr: float, loss: float, val: dict | None, seconds: float, tb) -> None:
    row = {
        "epoch": run.epoch,
        "lr": f"{lr:.6g}",
        "train_loss": f"{loss:.5f}",
        "val_miou": f"{val['miou']:.5f}" if val else "",
        "pixel_acc": f"{val['pixel_acc']:.5f}" if val else "",
        "seconds": f"{seconds:.1f}",
    }
    run.history.append(row)
    text = f"epoch {run.epoch}/{run.cfg.epochs}  loss {loss:.4f}  lr {row['lr']}  {seconds:.0f}s"
    if val:
        text += f"  val mIoU {val['miou']:.4f}  pixel acc {val['pixel_acc']:.4f}  (best {run.best_miou:.4f})"
    if run.world.main:
        logger.info(text)
    if tb is not None:
        tb.add_scalar("train/loss", loss, run.epoch)
        tb.add_scalar("train/lr", lr, run.epoch)
        if val:
            tb.add_scalar("val/miou", val["miou"], run.epoch)
            tb.add_scalar("val/pixel_acc", val["pixel_acc"], run.epoch)
