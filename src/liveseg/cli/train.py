"""`liveseg train`: train a model from the zoo on a dataset, with checkpoints that resume exactly."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from liveseg import atomic
from liveseg.cli.options import check_out_dir, parse_size, refuse_overwriting
from liveseg.errors import LivesegError


def _parse_scale(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise LivesegError(f"--scale {text!r} is not MIN,MAX, e.g. 0.5,2.0.") from None
    if not 0 < low <= high:
        raise LivesegError(f"--scale {text!r} needs 0 < MIN <= MAX.")
    return low, high


def _parse_model_args(items: list[str]) -> dict:
    """KEY=VALUE pairs; values are JSON where they parse (numbers, true/false), text otherwise."""
    kwargs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise LivesegError(f"--model-arg {item!r} is not KEY=VALUE, e.g. --model-arg width=24.")
        try:
            kwargs[key] = json.loads(value)
        except ValueError:
            kwargs[key] = value
    return kwargs


def train_cmd(
    model: Annotated[str, typer.Option(help="Model name (see `liveseg models list`).")] = "ddrnet_tiny",
    model_arg: Annotated[
        list[str] | None,
        typer.Option(help="Model constructor argument KEY=VALUE, repeatable (e.g. width=24); kept in checkpoints."),
    ] = None,
    data: Annotated[str, typer.Option(help="Dataset name (see `liveseg data list`).")] = "camvid",
    data_root: Annotated[Path | None, typer.Option(help="Dataset folder (default: liveseg data dir / NAME).")] = None,
    epochs: Annotated[int, typer.Option(help="Epochs to train in total (a resumed run continues up to this).")] = 100,
    batch: Annotated[int, typer.Option(help="Images per training batch.")] = 8,
    crop: Annotated[str, typer.Option(help="Training crop HEIGHTxWIDTH, after random scaling.")] = "360x480",
    scale: Annotated[str, typer.Option(help="Random scale range MIN,MAX applied before cropping.")] = "0.5,2.0",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    out: Annotated[Path, typer.Option(help="Run folder: last.pt, best.pt, log.csv.")] = Path("runs/train"),
    amp: Annotated[
        bool, typer.Option(help="bf16 autocast on CUDA and on CPUs with native bf16 (AVX-512-BF16/AMX).")
    ] = True,
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
    resume: Annotated[
        bool, typer.Option(help="Continue the run in --out from its last.pt, with the options it was started with.")
    ] = False,
    resume_force: Annotated[
        bool,
        typer.Option(
            help="Resume even if recipe options differ from the checkpoint's (e.g. a longer --epochs; the "
            "learning-rate schedule is then re-derived from the new horizon)."
        ),
    ] = False,
    init: Annotated[
        str | None,
        typer.Option(
            help="Start from these weights: a checkpoint (.pt), or a bundle folder or name whose fp32 graph's "
            "weights are recovered (BatchNorms re-calibrated); parameters it lacks keep their random start."
        ),
    ] = None,
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
    nproc: Annotated[
        int,
        typer.Option(
            min=1,
            help="Train in N processes on this machine with DistributedDataParallel (one per GPU, or gloo on the "
            "CPU), launched with torchrun; --batch is per process. Several machines: run `torchrun ... -m liveseg "
            "train` on each.",
        ),
    ] = 1,
    sync_bn: Annotated[
        bool, typer.Option(help="Multi-process on GPUs: BatchNorm statistics over the batches of all processes.")
    ] = False,
    in_memory: Annotated[
        bool,
        typer.Option(
            help="Decode the training split once into memory and augment whole batches of tensors (fast); "
            "--no-in-memory reads and augments files per sample in --workers processes (for large datasets)."
        ),
    ] = True,
    val_size: Annotated[
        str | None,
        typer.Option(help="Validate with images resized to HEIGHTxWIDTH (the size you will export at)."),
    ] = None,
    max_train_images: Annotated[int | None, typer.Option(help="Train on the first N images only.")] = None,
    max_val_images: Annotated[int | None, typer.Option(help="Validate on the first N images only.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of shuffling, augmentation and initialisation.")] = 0,
    tensorboard: Annotated[bool, typer.Option(help="Also log to OUT/tensorboard (needs tensorboard).")] = False,
) -> None:
    """Train a segmentation model; last.pt every epoch, best.pt on a better val mIoU, log.csv.

    Distillation (--teacher): KL divergence to a trained model's softened logits is added to the loss.
    """
    # Parsed before importing torch, so that usage errors come fast.
    size, scale_range, kwargs = parse_size(crop), _parse_scale(scale), _parse_model_args(model_arg or [])
    val_hw = parse_size(val_size) if val_size else None
    check_out_dir(out)
    if teacher is not None:
        refuse_overwriting([out / "last.pt", out / "best.pt"], [teacher])
    atomic.clean_stale(out)  # checkpoint temporaries of a killed earlier run
    from liveseg.train import TrainConfig, train
    from liveseg.train.distributed import world

    cfg = TrainConfig(
        model=model, data=data, data_root=str(data_root) if data_root else None, out=str(out), epochs=epochs,
        batch=batch, crop=size, scale=scale_range, device=device, amp=amp, optimizer=optimizer,
        lr=lr, weight_decay=weight_decay, schedule=schedule, warmup_epochs=warmup_epochs, loss=loss,
        ohem_thresh=ohem_thresh, ohem_min_kept=ohem_min_kept, aux_weight=aux_weight, ema=ema, val_every=val_every,
        resume=resume, init=init, teacher=str(teacher) if teacher else None, distill_weight=distill_weight,
        distill_temperature=distill_temperature, workers=workers, threads=threads, channels_last=channels_last,
        max_train_images=max_train_images, max_val_images=max_val_images, seed=seed, tensorboard=tensorboard,
        resume_force=resume_force, in_memory=in_memory, val_size=val_hw, model_kwargs=kwargs, sync_bn=sync_bn,
    )  # fmt: skip
    if nproc > 1 and not world().launched:
        _launch(nproc)
        return
    run = train(cfg)
    if run.world.main:
        typer.echo(f"best val mIoU {run.best_miou:.4f}; checkpoints in {out}")


def _launch(nproc: int) -> None:
    """This same command in `nproc` processes under torchrun on this machine (they see its WORLD_SIZE, so none
    launches again); a process's failure has been printed by that process, and its exit code is ours."""
    import logging

    from torch.distributed.elastic.multiprocessing import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    # The cores shared out (torchrun would give each process one thread); --threads still decides when given.
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)  # failures are the processes' to say
    try:
        run(parse_args(["--standalone", f"--nproc-per-node={nproc}", "-m", "--", "liveseg", *sys.argv[1:]]))
    except ChildFailedError as exc:
        sys.exit(next(iter(exc.failures.values())).exitcode)
    except SignalException:  # torchrun stopped the processes on Ctrl-C (or a kill): an interruption, not a crash
        raise KeyboardInterrupt from None


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
