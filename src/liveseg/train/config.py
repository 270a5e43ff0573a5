"""Every option of a training run, as the CLI passes them and as the checkpoint records them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from liveseg.errors import LivesegError

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


@dataclass
class TrainConfig:
    model: str = "ddrnet_tiny"
    data: str = "camvid"
    data_root: str | None = None
    out: str = "runs/train"
    epochs: int = 100
    batch: int = 8
    crop: tuple[int, int] = (360, 480)
    scale: tuple[float, float] = (0.5, 2.0)
    device: str = "auto"
    amp: bool = True
    optimizer: str = "adamw"
    lr: float | None = None  # None: the optimizer's default in OPTIMIZER_DEFAULTS
    weight_decay: float | None = None
    schedule: str = "poly"
    warmup_epochs: float = 1.0
    loss: str = "ce"
    ohem_thresh: float = 0.7
    ohem_min_kept: int = 100_000
    aux_weight: float = 0.4
    ema: float = 0.0  # decay; 0 turns EMA off
    val_every: int = 1
    resume: bool = False
    resume_force: bool = False
    init: str | None = None  # initial weights: a checkpoint, or a bundle folder/name (liveseg.train.init)
    teacher: str | None = None
    distill_weight: float = 1.0
    distill_temperature: float = 2.0
    workers: int = 2
    threads: int | None = None
    channels_last: bool = True  # measured ~30% faster training on the CPU too (oneDNN), and on CUDA with AMP
    sync_bn: bool = False  # BatchNorm statistics over the batches of all processes (GPUs only)
    world_size: int = 1  # processes training together (torchrun's WORLD_SIZE; set by `train`); `batch` is per process
    in_memory: bool = True  # decode the split once and augment batches of tensors (liveseg.train.augment)
    val_size: tuple[int, int] | None = None  # validate with images resized to this (the bundle size to ship)
    max_train_images: int | None = None
    max_val_images: int | None = None
    seed: int = 0
    tensorboard: bool = False
    model_kwargs: dict = field(default_factory=dict)

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
