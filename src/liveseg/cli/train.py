"""`liveseg train`: train a model from the zoo on a dataset, with checkpoints that resume exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from liveseg.cli.options import parse_size
from liveseg.errors import LivesegError


def _parse_scale(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise LivesegError(f"--scale {text!r} is not MIN,MAX, e.g. 0.5,2.0.") from None
    if not 0 < low <= high:
        raise LivesegError(f"--scale {text!r} needs 0 < MIN <= MAX.")
    return low, high


def train_cmd(
    model: Annotated[str, typer.Option(help="Model name (see `liveseg models list`).")] = "ddrnet_tiny",
    data: Annotated[str, typer.Option(help="Dataset name (see `liveseg data list`).")] = "camvid",
    data_root: Annotated[Path | None, typer.Option(help="Dataset folder (default: liveseg data dir / NAME).")] = None,
    epochs: Annotated[int, typer.Option(help="Epochs to train in total (a resumed run continues up to this).")] = 100,
    batch: Annotated[int, typer.Option(help="Images per training batch.")] = 8,
    crop: Annotated[str, typer.Option(help="Training crop HEIGHTxWIDTH, after random scaling.")] = "360x480",
    scale: Annotated[str, typer.Option(help="Random scale range MIN,MAX applied before cropping.")] = "0.5,2.0",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    out: Annotated[Path, typer.Option(help="Run folder: last.pt, best.pt, log.csv.")] = Path("runs/train"),
    amp: Annotated[bool, typer.Option(help="bf16 autocast on CUDA (no effect on the CPU).")] = True,
    optimizer: Annotated[str, typer.Option(help="adamw or sgd (momentum 0.9).")] = "adamw",
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (default: adamw 1e-3, sgd 1e-2).")] = None,
    weight_decay: Annotated[
        float | None,
        typer.Option(help="Weight decay, not on norms/biases (default: adamw 1e-2, sgd 5e-4)."),
    ] = None,
    schedule: Annotated[str, typer.Option(help="Decay after warm-up: poly (power 0.9) or cosine.")] = "poly",
    warmup_epochs: Annotated[float, typer.Option(help="Linear learning-rate warm-up, in epochs.")] = 1.0,
    loss: Annotated[str, typer.Option(help="ce, balanced (class-weighted ce) or ohem.")] = "ce",
    ohem_thresh: Annotated[float, typer.Option(help="OHEM: keep pixels with true-class prob. below this.")] = 0.7,
    ohem_min_kept: Annotated[int, typer.Option(help="OHEM: keep at least this many pixels per batch.")] = 100_000,
    aux_weight: Annotated[float, typer.Option(help="Weight of auxiliary-head losses (models with them).")] = 0.4,
    ema: Annotated[float, typer.Option(help="EMA decay of validated/saved weights (e.g. 0.999); 0 = off.")] = 0.0,
    val_every: Annotated[int, typer.Option(help="Validate every K epochs (and after the last).")] = 1,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out from its last.pt.")] = False,
    teacher: Annotated[
        Path | None,
        typer.Option(
            help="Knowledge distillation: checkpoint of a frozen teacher (same dataset); the loss becomes "
            "the usual loss + weight x T^2 x KL(teacher || student) on softened per-pixel logits."
        ),
    ] = None,
    distill_weight: Annotated[float, typer.Option(help="Distillation: weight of the KL term.")] = 1.0,
    distill_temperature: Annotated[float, typer.Option(help="Distillation: softmax temperature T.")] = 2.0,
    workers: Annotated[int, typer.Option(help="DataLoader worker processes (0: load in the main process).")] = 2,
    threads: Annotated[int | None, typer.Option(help="PyTorch CPU threads (default: PyTorch's choice).")] = None,
    channels_last: Annotated[bool, typer.Option(help="channels_last memory format (faster on CPU and GPU).")] = True,
    max_train_images: Annotated[int | None, typer.Option(help="Train on the first N images only.")] = None,
    max_val_images: Annotated[int | None, typer.Option(help="Validate on the first N images only.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of shuffling, augmentation and initialisation.")] = 0,
    tensorboard: Annotated[bool, typer.Option(help="Also log to OUT/tensorboard (needs tensorboard).")] = False,
) -> None:
    """Train a segmentation model; last.pt every epoch, best.pt on a better val mIoU, log.csv.

    Distillation (--teacher): KL divergence to a trained model's softened logits is added to the loss.
    """
    size, scale_range = parse_size(crop), _parse_scale(scale)  # before importing torch: usage errors come fast
    from liveseg.train import TrainConfig, train

    cfg = TrainConfig(
        model=model, data=data, data_root=str(data_root) if data_root else None, out=str(out), epochs=epochs,
        batch=batch, crop=size, scale=scale_range, device=device, amp=amp, optimizer=optimizer,
        lr=lr, weight_decay=weight_decay, schedule=schedule, warmup_epochs=warmup_epochs, loss=loss,
        ohem_thresh=ohem_thresh, ohem_min_kept=ohem_min_kept, aux_weight=aux_weight, ema=ema, val_every=val_every,
        resume=resume, teacher=str(teacher) if teacher else None, distill_weight=distill_weight,
        distill_temperature=distill_temperature, workers=workers, threads=threads, channels_last=channels_last,
        max_train_images=max_train_images, max_val_images=max_val_images, seed=seed, tensorboard=tensorboard,
    )  # fmt: skip
    run = train(cfg)
    typer.echo(f"best val mIoU {run.best_miou:.4f}; checkpoints in {out}")


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
