"""Every option of a training run, as the CLI passes them and as the checkpoint records them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from liveseg.errors import LivesegError

DEVICES = ("auto", "cpu", "cuda")  # the --device values (train, eval)
SCHEDULES = ("poly", "cosine")
LOSSES = ("ce", "balanced", "ohem")

# Options that change what a run computes: `--resume` refuses to continue a run with different values (unless
# `--resume-force`), so that a resumed run is the run its checkpoint describes.
RECIPE_OPTIONS = (
    "epochs", "batch", "crop", "scale", "amp", "optimizer", "lr", "weight_decay", "schedule", "warmup_epochs",
    "loss", "ohem_thresh", "ohem_min_kept", "aux_weight", "ema", "init", "teacher", "distill_weight",
    "distill_temperature", "channels_last", "in_memory", "max_train_images", "seed", "model_kwargs", "world_size",
    "sync_bn",
)  # fmt: skip

OPTIMIZER_DEFAULTS = {"adamw": {"lr": 1e-3, "weight_decay": 1e-2}, "sgd": {"lr": 1e-2, "weight_decay": 5e-4}}


def option(default: Any, help: str, *, factory: Callable[[], Any] | None = None, flag: str | None = None) -> Any:
    """A training option: its default and its `--help` text, declared once here and turned into `liveseg train`'s
    command-line options by liveseg.cli.train (`flag`: the option's name there when it differs)."""
    metadata = {"help": help, "flag": flag}
    return field(default_factory=factory, metadata=metadata) if factory else field(default=default, metadata=metadata)


@dataclass
class TrainConfig:
    """Every option of a run. Fields without help text are set by the program, never on the command line."""

    model: str = option("ddrnet_tiny", "Model name (see `liveseg models list`).")
    model_kwargs: dict = option(
        None,
        "Model constructor argument KEY=VALUE, repeatable (e.g. width=24); kept in checkpoints.",
        factory=dict,
        flag="model_arg",
    )
    data: str = option("camvid", "Dataset name (see `liveseg data list`).")
    data_root: str | None = option(None, "Dataset folder (default: liveseg data dir / NAME).")
    epochs: int = option(100, "Epochs to train in total (a resumed run continues up to this).")
    batch: int = option(8, "Images per training batch.")
    crop: tuple[int, int] = option((360, 480), "Training crop HEIGHTxWIDTH, after random scaling.")
    scale: tuple[float, float] = option((0.5, 2.0), "Random scale range MIN,MAX applied before cropping.")
    device: str = option("auto", "Where to train (auto: cuda when present, else cpu).")
    out: str = option("runs/train", "Run folder: last.pt, best.pt, log.csv.")
    amp: bool = option(True, "bf16 autocast on CUDA and on CPUs with native bf16 (AVX-512-BF16/AMX).")
    optimizer: str = option("adamw", "adamw or sgd (momentum 0.9).")
    lr: float | None = option(None, "Peak learning rate (default: adamw 1e-3, sgd 1e-2).")
    weight_decay: float | None = option(None, "Weight decay, not on norms/biases (default: adamw 1e-2, sgd 5e-4).")
    schedule: str = option("poly", "Decay after warm-up: poly (power 0.9) or cosine.")
    warmup_epochs: float = option(1.0, "Linear learning-rate warm-up, in epochs.")
    loss: str = option("ce", "ce, balanced (class-weighted ce) or ohem.")
    ohem_thresh: float = option(0.7, "OHEM: keep pixels with true-class prob. below this.")
    ohem_min_kept: int = option(100_000, "OHEM: keep at least this many pixels per batch.")
    aux_weight: float = option(0.4, "Weight of auxiliary-head losses (models with them).")
    ema: float = option(0.0, "EMA decay of validated/saved weights (e.g. 0.999); 0 = off.")
    val_every: int = option(1, "Validate every K epochs (and after the last).")
    resume: bool = option(False, "Continue the run in --out from its last.pt, with the options it was started with.")
    resume_force: bool = option(
        False,
        "Resume even if recipe options differ from the checkpoint's (e.g. a longer --epochs; the learning-rate "
        "schedule is then re-derived from the new horizon).",
    )
    init: str | None = option(
        None,
        "Start from these weights: a checkpoint (.pt), or a bundle folder or name whose fp32 graph's weights are "
        "recovered (BatchNorms re-calibrated); parameters it lacks keep their random start.",
    )
    teacher: str | None = option(
        None,
        "Knowledge distillation: checkpoint of a frozen teacher (same dataset); the loss becomes the usual loss + "
        "weight x T^2 x KL(teacher || student) on softened per-pixel logits.",
    )
    distill_weight: float = option(1.0, "Distillation: weight of the KL term.")
    distill_temperature: float = option(2.0, "Distillation: softmax temperature T.")
    workers: int = option(2, "DataLoader worker processes (0: load in the main process).")
    threads: int | None = option(None, "PyTorch CPU threads (default: PyTorch's choice).")
    # measured ~30% faster training on the CPU too (oneDNN), and on CUDA with AMP
    channels_last: bool = option(True, "channels_last memory format (faster on CPU and GPU).")
    sync_bn: bool = option(False, "Multi-process on GPUs: BatchNorm statistics over the batches of all processes.")
    in_memory: bool = option(
        True,
        "Decode the training split once into memory and augment whole batches of tensors (fast); --no-in-memory "
        "reads and augments files per sample in --workers processes (for large datasets).",
    )
    val_size: tuple[int, int] | None = option(
        None, "Validate with images resized to HEIGHTxWIDTH (the size you will export at)."
    )
    max_train_images: int | None = option(None, "Train on the first N images only.")
    max_val_images: int | None = option(None, "Validate on the first N images only.")
    seed: int = option(0, "Seed of shuffling, augmentation and initialisation.")
    tensorboard: bool = option(False, "Also log to OUT/tensorboard (needs tensorboard).")
    world_size: int = 1  # processes training together (torchrun's WORLD_SIZE; set by `train`); `batch` is per process

    def __post_init__(self) -> None:
        self._check()
        defaults = OPTIMIZER_DEFAULTS[self.optimizer]
        if self.lr is None:
            self.lr = defaults["lr"]
        if self.weight_decay is None:
            self.weight_decay = defaults["weight_decay"]

    def _check(self) -> None:
        """Reject bad options before any data is read or model built."""
        for name, value, choices in (
            ("optimizer", self.optimizer, tuple(OPTIMIZER_DEFAULTS)),
            ("schedule", self.schedule, SCHEDULES),
            ("loss", self.loss, LOSSES),
        ):
            if value not in choices:
                raise LivesegError(f"Unknown {name} {value!r}; choose one of {', '.join(choices)}.")
        if min(self.epochs, self.batch, self.val_every) < 1:
            raise LivesegError("--epochs, --batch and --val-every must be at least 1.")
        if not 0.0 <= self.ema < 1.0:
            raise LivesegError(f"--ema {self.ema} is not a decay in [0, 1); use e.g. 0.999, or 0 to turn EMA off.")
        if self.distill_temperature <= 0:
            raise LivesegError("--distill-temperature must be positive.")

    @property
    def out_dir(self) -> Path:
        return Path(self.out)

    def to_dict(self) -> dict:
        """Plain JSON-able values, stored in every checkpoint for model cards and resume checks."""
        d = asdict(self)
        d["crop"], d["scale"] = list(self.crop), list(self.scale)
        d["val_size"] = list(self.val_size) if self.val_size else None
        return d

    def recipe_changes(self, recorded: dict) -> list[str]:
        """`--option old → new` for each recipe option that differs from a checkpoint's recorded config
        (options a checkpoint predates are taken at their defaults)."""
        mine, defaults = self.to_dict(), asdict(TrainConfig())
        defaults["crop"], defaults["scale"] = list(defaults["crop"]), list(defaults["scale"])
        changes = []
        for key in RECIPE_OPTIONS:
            theirs = recorded.get(key, defaults[key])
            if theirs != mine[key]:
                changes.append(f"--{key.replace('_', '-')} {theirs} → {mine[key]}")
        return changes
