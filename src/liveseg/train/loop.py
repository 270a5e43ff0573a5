"""The training loop: one function per stage (setup, epoch, validation, checkpoint), `train(cfg)` ties them; the
run's state and its resume live in `train.state`, its per-epoch log in `train.log`.

Per-epoch overhead is kept low for CPU runs: persistent loader workers, validation only every `val_every`
epochs (and after the last), metrics from one confusion matrix, and checkpoints written once per epoch.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from liveseg import models
from liveseg.data import DatasetInfo, get_dataset
from liveseg.errors import LivesegError
from liveseg.evaluate.metrics import ConfusionMatrix
from liveseg.models import checkpoint
from liveseg.progress import QUIET, Progress
from liveseg.train import distill, distributed, ema, losses, schedule, warm_start
from liveseg.train.augment import BatchAugment
from liveseg.train.config import TrainConfig
from liveseg.train.data import MemoryLoader, epoch_sampler, memory_loader, train_loader, val_loader
from liveseg.train.log import log_epoch, logger, tensorboard, write_log
from liveseg.train.state import Run, make_checkpoint, resume

INIT_CALIBRATION_BATCHES = 16


# --- setup -------------------------------------------------------------------------------------------------


def _device(name: str, world: distributed.World) -> torch.device:
    """The device of this process: with CUDA, the GPU torchrun gave it (LOCAL_RANK)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise LivesegError("--device cuda was asked for but PyTorch sees no CUDA GPU; use --device cpu or auto.")
    if name not in ("cpu", "cuda"):
        raise LivesegError(f"Unknown device {name!r}; choose auto, cpu or cuda.")
    return torch.device("cuda", world.local_rank) if name == "cuda" else torch.device("cpu")


def cpu_has_bf16() -> bool:
    """AVX-512-BF16 or AMX, where bf16 autocast trains faster (BENCHMARKS.md); elsewhere it only emulates."""
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def _amp_dtype(cfg: TrainConfig, device: torch.device) -> torch.dtype | None:
    """bf16 autocast on CUDA (fp16 with loss scaling on GPUs without bf16) and on CPUs with native bf16."""
    if not cfg.amp:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_has_bf16() else None


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _param_groups(model: nn.Module, lr: float, weight_decay: float, encoder_lr_mult: float) -> list[dict]:
    """No weight decay on BatchNorm weights and biases: decaying them only fights the normalisation. With
    `encoder_lr_mult` below 1 the encoder's parameters form groups of their own at that fraction of `lr`."""
    parts = [(list(model.parameters()), lr)]
    if encoder_lr_mult != 1.0:
        encoder = model.get_submodule("encoder")  # every model with ImageNet weights has one (_check_encoder_lr)
        inside = {id(p) for p in encoder.parameters()}
        rest = [p for p in model.parameters() if id(p) not in inside]
        parts = [(rest, lr), (list(encoder.parameters()), lr * encoder_lr_mult)]
    return [
        {"params": [p for p in params if (p.ndim > 1) == decayed], "lr": part_lr, "weight_decay": wd}
        for params, part_lr in parts
        for decayed, wd in ((True, weight_decay), (False, 0.0))
    ]


def _check_encoder_lr(cfg: TrainConfig) -> None:
    """--encoder-lr-mult is for models with an ImageNet encoder (`model.encoder`); said before any data is read."""
    if cfg.encoder_lr_mult != 1.0 and not models.get_config(cfg.model).imagenet:
        raise LivesegError(
            f"--encoder-lr-mult needs a model with an ImageNet encoder, which {cfg.model} lacks; choose --model "
            f"{' or '.join(warm_start.imagenet_models())}, or drop the option."
        )


def _optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    lr, weight_decay = cfg.lr, cfg.weight_decay
    assert lr is not None and weight_decay is not None  # TrainConfig fills in the optimizer's defaults
    groups = _param_groups(model, lr, weight_decay, cfg.encoder_lr_mult)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    return torch.optim.SGD(groups, lr=lr, momentum=0.9)


def _criterion(cfg: TrainConfig, info: DatasetInfo, train_data, n_images: int) -> nn.Module:
    weights = None
    if cfg.loss == "balanced":
        freq = losses.class_frequencies(train_data, info.num_classes, range(n_images))
        weights = losses.balanced_weights(freq)
    return losses.build_loss(cfg.loss, info.ignore_index, weights, cfg.ohem_thresh, cfg.ohem_min_kept)


def setup(
    cfg: TrainConfig,
    resuming: bool = False,
    world: distributed.World | None = None,
    progress: Progress = QUIET,
) -> tuple[Run, MemoryLoader | DataLoader, DataLoader]:
    """Data, model, optimizer and friends for a fresh run (a resume then overwrites their state, so `--init`
    weights are only loaded when not `resuming`); in a torchrun run, inside its process group. `progress` shows
    a download that `--init` needs."""
    world = world or distributed.World()
    device = _device(cfg.device, world)
    if cfg.sync_bn and device.type != "cuda":
        raise LivesegError(
            "--sync-bn synchronises BatchNorm between GPUs, which PyTorch cannot do on the CPU; drop it."
        )
    _check_encoder_lr(cfg)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    train_data = get_dataset(cfg.data, cfg.train_split, cfg.data_root)
    val_data = get_dataset(cfg.data, cfg.val_split, cfg.data_root)
    info = train_data.info
    # Built before seeding: creating it draws random initial weights, which would otherwise change the
    # student's initialisation and dropout masks compared with the same run without a teacher.
    teacher = distill.load_teacher(cfg.teacher, info.num_classes, device) if cfg.teacher else None
    _seed_everything(cfg.seed)
    pin = device.type == "cuda"
    shard = (world.rank, world.size)
    loader: MemoryLoader | DataLoader
    augment = BatchAugment(
        crop=cfg.crop, scale=cfg.scale, ignore_index=info.ignore_index, strength=cfg.colour, blur=cfg.blur,
        white_balance=cfg.white_balance,
    )  # fmt: skip
    sampler = epoch_sampler(train_data, cfg.seed, cfg.max_train_images, cfg.rare_class_sampling, *shard)
    if sampler.rare is not None:
        logger.info("rare-class sampling draws %s", sampler.rare.describe(info.classes))
    if cfg.in_memory:
        loader = memory_loader(train_data, augment, cfg.batch, sampler)
    else:
        loader = train_loader(train_data, augment, cfg.batch, sampler, cfg.workers, pin)
    val = val_loader(val_data, cfg.max_val_images, 0 if cfg.in_memory else cfg.workers, pin, cfg.seed, *shard)
    model = models.create(cfg.model, num_classes=info.num_classes, **cfg.model_kwargs).to(device)
    if cfg.init and not resuming:
        _initialise(model, cfg.init, cfg.model, loader, device, progress)
    if cfg.sync_bn:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # same state_dict keys: checkpoints are unchanged
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # stubs omit the keyword
    optimizer = _optimizer(cfg, model)
    steps = len(loader)
    amp_dtype = _amp_dtype(cfg, device)
    n_images = len(loader.sampler.indices)  # type: ignore[union-attr]  # an EpochSampler; DataLoader types it loosely
    run = Run(
        cfg=cfg,
        info=info,
        device=device,
        model=model,
        ema=ema.create_ema(model, cfg.ema) if cfg.ema > 0 else None,
        optimizer=optimizer,
        scheduler=schedule.build_scheduler(
            optimizer, cfg.schedule, cfg.epochs * steps, round(cfg.warmup_epochs * steps)
        ),
        scaler=torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16),
        amp_dtype=amp_dtype,
        criterion=_criterion(cfg, info, train_data, n_images).to(device),
        teacher=teacher,
        world=world,
        ddp=distributed.wrap(model, world, device),
    )
    return run, loader, val


def _initialise(
    model: nn.Module,
    source: str,
    model_name: str,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    device: torch.device,
    progress: Progress,
) -> None:
    """`--init` weights; a bundle's BatchNorms are calibrated on a few training batches (epoch 0's first)."""
    batches = (images.to(device) for images, _ in itertools.islice(loader, INIT_CALIBRATION_BATCHES))
    missing = warm_start.load_initial(model, source, model_name, batches, progress)
    if missing:
        logger.warning(
            "--init %s: %d parameters not in it keep their random start (%s, ...)", source, len(missing), missing[0]
        )


# --- one epoch -----------------------------------------------------------------------------------------------


def _autocast(run: Run):
    if run.amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(run.device.type, dtype=run.amp_dtype)


def _step(run: Run, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    cfg = run.cfg
    with _autocast(run):
        output = run.train_model(images)
        loss, logits = losses.segmentation_loss(run.criterion, output, labels, cfg.aux_weight)
        if run.teacher is not None:
            with torch.no_grad():
                teacher_logits = run.teacher(images)
            loss = loss + cfg.distill_weight * distill.distillation_loss(
                logits, teacher_logits, labels, run.info.ignore_index, cfg.distill_temperature
            )
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    run.scaler.step(run.optimizer)
    run.scaler.update()
    run.scheduler.step()
    if run.ema is not None:
        run.ema.update_parameters(run.model)
    return loss.detach()


def _to_device(run: Run, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    fmt = torch.channels_last if run.cfg.channels_last else torch.contiguous_format
    images = images.to(run.device, non_blocking=True, memory_format=fmt)
    return images, labels.to(run.device, non_blocking=True)


@contextlib.contextmanager
def plain_worker_errors():
    """A LivesegError raised in a DataLoader worker comes back wrapped in the worker's traceback; unwrap it
    so the CLI still prints one sentence (e.g. which image file is corrupt)."""
    try:
        yield
    except LivesegError as exc:
        lines = str(exc).strip().splitlines()
        if len(lines) > 1 and "DataLoader worker" in lines[0]:
            raise LivesegError(lines[-1].split(": ", 1)[-1]) from None
        raise


def train_epoch(run: Run, loader: MemoryLoader | DataLoader, progress: Progress) -> float:
    """Mean training loss of one pass (over all processes); the bar's `info` field is this process's running mean
    (read every few steps, to avoid stalling a GPU on every step)."""
    run.train_model.train()
    loader.sampler.set_epoch(run.epoch)  # type: ignore[union-attr]  # an EpochSampler; DataLoader types it loosely
    task = progress.add_task(f"epoch {run.epoch + 1}/{run.cfg.epochs} train", total=len(loader), info="")
    total = torch.zeros((), device=run.device)
    with plain_worker_errors():
        for i, (images, labels) in enumerate(loader, 1):
            total += _step(run, *_to_device(run, images, labels))
            if i % 10 == 0 or i == len(loader):
                mean = total.item() / i
                if not np.isfinite(mean):
                    raise LivesegError(f"The training loss became {mean} in epoch {run.epoch + 1}; lower --lr.")
                progress.update(task, info=f"loss {mean:.4f}")
            progress.advance(task)
    progress.remove_task(task)
    return distributed.mean(total, run.world).item() / max(len(loader), 1)


def predict_at(model: nn.Module, images: torch.Tensor, size: tuple[int, int] | None) -> torch.Tensor:
    """Class ids at the images' own size; with `size`, the network sees the images resized to it (as an
    exported bundle of that size does) and its logits are upsampled back."""
    if size is None or tuple(images.shape[-2:]) == tuple(size):
        return model(images).argmax(1)
    logits = model(F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True))
    return F.interpolate(logits, size=images.shape[-2:], mode="bilinear", align_corners=False).argmax(1)


@torch.inference_mode()
def validate(run: Run, loader: DataLoader, progress: Progress) -> dict:
    """Metrics of the evaluation weights (EMA when on) on whole validation images, in full precision (what
    the exported fp32 bundle computes), at native size or at `--val-size`; processes validate shares of the split
    with the checkpoint's weights and statistics, and add up their confusion matrices."""
    model = run.eval_model.eval()
    distributed.share_buffers(model, run.world)
    cm = ConfusionMatrix(run.info.num_classes)
    task = progress.add_task(f"epoch {run.epoch + 1}/{run.cfg.epochs} val", total=len(loader), info="")
    with plain_worker_errors():
        for images, labels in loader:
            images, labels = _to_device(run, images, labels)
            pred = predict_at(model, images, run.cfg.val_size)
            cm.update(labels.cpu().numpy(), pred.to(torch.uint8).cpu().numpy())
            progress.advance(task)
    progress.remove_task(task)
    cm.matrix = distributed.total(cm.matrix, run.world, run.device)
    return cm.summary()


# --- the run -------------------------------------------------------------------------------------------------


def _prepare_out(cfg: TrainConfig, world: distributed.World) -> Path | None:
    """The checkpoint to resume from, if any; refuses to train over an earlier run unless resuming."""
    last = cfg.out_dir / "last.pt"
    if not last.exists():
        if cfg.resume and world.main:
            logger.warning("no %s yet: starting a new run", last)
        return None
    if not cfg.resume:
        raise LivesegError(
            f"{cfg.out_dir} already holds a training run; pass --resume to continue it or choose another --out."
        )
    return last


def _end_epoch(run: Run, lr: float, loss: float, val: dict | None, seconds: float, tb) -> None:
    out = run.cfg.out_dir
    improved = val is not None and (not run.metrics or val["miou"] > run.best_miou)
    if val is not None:
        run.metrics = {k: val[k] for k in ("miou", "iou", "pixel_acc", "mean_acc")} | {"epoch": run.epoch}
    if improved and val is not None:
        run.best_miou = val["miou"]
    log_epoch(run, lr, loss, val, seconds, tb)
    if not run.world.main:
        return
    ckpt = make_checkpoint(run)
    if improved:
        checkpoint.save(out / "best.pt", checkpoint.without_resume_state(ckpt))
    checkpoint.save(out / "last.pt", ckpt)
    write_log(out / "log.csv", run.history)


def train(cfg: TrainConfig, progress: Progress = QUIET, on_epoch_end: Callable[[Run], None] | None = None) -> Run:
    """Train (or resume) as `cfg` says; writes last.pt every epoch, best.pt on improvement and log.csv.

    Under torchrun, one of several processes (liveseg.train.distributed): only rank 0 writes, shows its epochs'
    bars on `progress` and says its lines on `liveseg.train.log.logger`. `on_epoch_end(run)` is called after each
    epoch's checkpoint is on disk (to watch a run or to stop it)."""
    world = distributed.world()
    with distributed.process_group(world, _device(cfg.device, world)):
        return _train(replace(cfg, world_size=world.size), world, progress if world.main else QUIET, on_epoch_end)


def _train(
    cfg: TrainConfig, world: distributed.World, progress: Progress, on_epoch_end: Callable[[Run], None] | None
) -> Run:
    resume_from = _prepare_out(cfg, world)
    run, loader, val = setup(cfg, resuming=resume_from is not None, world=world, progress=progress)
    if resume_from is not None:
        resume(run, resume_from)
        if world.main:
            logger.info("resuming %s after epoch %d", resume_from, run.epoch)
    if world.main:
        cfg.out_dir.mkdir(parents=True, exist_ok=True)
    tb = tensorboard(cfg) if world.main else None
    while run.epoch < cfg.epochs:
        start, lr = time.perf_counter(), float(run.scheduler.get_last_lr()[0])
        loss = train_epoch(run, loader, progress)
        done = run.epoch + 1
        metrics = validate(run, val, progress) if done % cfg.val_every == 0 or done == cfg.epochs else None
        run.epoch = done
        _end_epoch(run, lr, loss, metrics, time.perf_counter() - start, tb)
        if on_epoch_end is not None:
            on_epoch_end(run)
    if tb is not None:
        tb.close()
    return run
