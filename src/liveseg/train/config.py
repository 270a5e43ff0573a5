"""Every option of a training run, as the CLI passes them and as the checkpoint records them.

Fields flagged `recipe` change what a run computes: `--resume` refuses to continue a run with different values
(unless `--resume-force`), so that a resumed run is the run its checkpoint describes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from liveseg.errors import LivesegError
from liveseg.evaluate.evaluator import DEVICES
from liveseg.settings import flagged, option, parse_size

SCHEDULES = ("poly", "cosine")
LOSSES = ("ce", "balanced", "ohem")

OPTIMIZER_DEFAULTS = {"adamw": {"lr": 1e-3, "weight_decay": 1e-2}, "sgd": {"lr": 1e-2, "weight_decay": 5e-4}}


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


@dataclass
class TrainConfig:
    """Every option of a run. Fields without help text are set by the program, never on the command line."""

    model: str = option("ddrnet_tiny", "Model name (see `liveseg models list`).")
    model_kwargs: dict = option(
        None,
        "Model constructor argument KEY=VALUE, repeatable (e.g. width=24); kept in checkpoints.",
        parse=_parse_model_args,
        repeat=True,
        flag="model_arg",
        recipe=True,
    )
    data: str = option("camvid", "Dataset name (see `liveseg data list`).")
    data_root: str | None = option(None, "Dataset folder (default: liveseg data dir / NAME).")
    epochs: int = option(100, "Epochs to train in total (a resumed run continues up to this).", recipe=True)
    batch: int = option(8, "Images per training batch.", recipe=True)
    crop: tuple[int, int] = option(
        "360x480", "Training crop HEIGHTxWIDTH, after random scaling.", parse=parse_size, recipe=True
    )
    scale: tuple[float, float] = option(
        "0.5,2.0", "Random scale range MIN,MAX applied before cropping.", parse=_parse_scale, recipe=True
    )
    train_split: str = option(
        "train",
        "Split(s) to train on; several joined by + (e.g. train+val, once the recipe is fixed on val).",
        recipe=True,
    )
    val_split: str = option(
        "val",
        "Split(s) to validate on, e.g. a drive the training split leaves out (CamVid: 0006R0).",
    )
    colour: float = option(
        0.25, "Colour jitter: brightness, contrast and saturation factors in [1 - C, 1 + C].", recipe=True
    )
    blur: float = option(0.0, "Probability of a Gaussian blur (sigma 0.3-1.5 px) per training image.", recipe=True)
    white_balance: float = option(
        0.0, "White balance: red, green and blue gains in [1 - W, 1 + W] per training image.", recipe=True
    )
    rare_class_sampling: float = option(
        0.0,
        "Rare-class sampling at temperature T: each sample draws a class with probability proportional to "
        "exp((1 - its pixel share) / T), then an image showing it; a smaller T favours rare classes more (e.g. "
        "0.01). 0: every image once an epoch.",
        recipe=True,
    )
    device: str = option("auto", "Where to train (auto: cuda when present, else cpu).", choices=DEVICES)
    out: str = option("runs/train", "Run folder: last.pt, best.pt, log.csv.")
    amp: bool = option(True, "bf16 autocast on CUDA and on CPUs with native bf16 (AVX-512-BF16/AMX).", recipe=True)
    optimizer: str = option("adamw", "adamw or sgd (momentum 0.9).", choices=tuple(OPTIMIZER_DEFAULTS), recipe=True)
    lr: float | None = option(None, "Peak learning rate (default: adamw 1e-3, sgd 1e-2).", recipe=True)
    weight_decay: float | None = option(
        None, "Weight decay, not on norms/biases (default: adamw 1e-2, sgd 5e-4).", recipe=True
    )
    encoder_lr_mult: float = option(
        1.0,
        "The encoder's learning rate as a fraction of --lr (models with an ImageNet encoder): below 1 keeps more of "
        "what ImageNet taught it while the decoder learns at the full rate.",
        recipe=True,
    )
    schedule: str = option("poly", "Decay after warm-up: poly (power 0.9) or cosine.", choices=SCHEDULES, recipe=True)
    warmup_epochs: float = option(1.0, "Linear learning-rate warm-up, in epochs.", recipe=True)
    loss: str = option("ce", "ce, balanced (class-weighted ce) or ohem.", choices=LOSSES, recipe=True)
    ohem_thresh: float = option(0.7, "OHEM: keep pixels with true-class prob. below this.", recipe=True)
    ohem_min_kept: int = option(100_000, "OHEM: keep at least this many pixels per batch.", recipe=True)
    aux_weight: float = option(0.4, "Weight of auxiliary-head losses (models with them).", recipe=True)
    ema: float = option(0.0, "EMA decay of validated/saved weights (e.g. 0.999); 0 = off.", recipe=True)
    val_every: int = option(1, "Validate every K epochs (and after the last).")
    resume: bool = option(False, "Continue the run in --out from its last.pt, with the options it was started with.")
    resume_force: bool = option(
        False,
        "Resume even if recipe options differ from the checkpoint's (e.g. a longer --epochs; the learning-rate "
        "schedule is then re-derived from the new horizon).",
    )
    init: str | None = option(
        None,
        "Start from these weights: a checkpoint (.pt), a bundle folder or name whose fp32 graph's weights are "
        "recovered (BatchNorms re-calibrated), or 'imagenet' (the encoder's, for models that have them); "
        "parameters it lacks keep their random start.",
        recipe=True,
    )
    teacher: str | None = option(
        None,
        "Knowledge distillation: checkpoint of a frozen teacher (same dataset); the loss becomes the usual loss + "
        "weight x T^2 x KL(teacher || student) on softened per-pixel logits.",
        recipe=True,
    )
    distill_weight: float = option(1.0, "Distillation: weight of the KL term.", recipe=True)
    distill_temperature: float = option(2.0, "Distillation: softmax temperature T.", recipe=True)
    workers: int = option(2, "DataLoader worker processes (0: load in the main process).")
    threads: int | None = option(None, "PyTorch CPU threads (default: PyTorch's choice).")
    # faster training on the CPU too (oneDNN), and on CUDA with AMP: BENCHMARKS.md, "Design measurements"
    channels_last: bool = option(True, "channels_last memory format (faster on CPU and GPU).", recipe=True)
    sync_bn: bool = option(
        False, "Multi-process on GPUs: BatchNorm statistics over the batches of all processes.", recipe=True
    )
    in_memory: bool = option(
        True,
        "Decode the training split once into memory and augment whole batches of tensors (fast); --no-in-memory "
        "reads and augments files per sample in --workers processes (for large datasets).",
        recipe=True,
    )
    val_size: tuple[int, int] | None = option(
        None, "Validate with images resized to HEIGHTxWIDTH (the size you will export at).", parse=parse_size
    )
    max_train_images: int | None = option(None, "Train on the first N images only.", recipe=True)
    max_val_images: int | None = option(None, "Validate on the first N images only.")
    seed: int = option(0, "Seed of shuffling, augmentation and initialisation.", recipe=True)
    tensorboard: bool = option(False, "Also log to OUT/tensorboard (needs tensorboard).")
    # processes training together (torchrun's WORLD_SIZE; set by `train`); `batch` is per process
    world_size: int = option(1, recipe=True)

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
        if not 0.0 <= self.colour < 1.0 or not 0.0 <= self.white_balance < 1.0 or not 0.0 <= self.blur <= 1.0:
            raise LivesegError("--colour and --white-balance must be in [0, 1) and --blur a probability in [0, 1].")
        if not 0.0 <= self.ema < 1.0:
            raise LivesegError(f"--ema {self.ema} is not a decay in [0, 1); use e.g. 0.999, or 0 to turn EMA off.")
        if self.rare_class_sampling < 0:
            raise LivesegError(
                f"--rare-class-sampling {self.rare_class_sampling} is not a temperature; use e.g. 0.01, or 0 for none."
            )
        if self.distill_temperature <= 0:
            raise LivesegError("--distill-temperature must be positive.")
        if not 0.0 < self.encoder_lr_mult <= 1.0:
            raise LivesegError(f"--encoder-lr-mult {self.encoder_lr_mult} is not a fraction in (0, 1]; use e.g. 0.1.")

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
        for key in flagged(TrainConfig, "recipe"):
            theirs = recorded.get(key, defaults[key])
            if theirs != mine[key]:
                changes.append(f"--{key.replace('_', '-')} {theirs} → {mine[key]}")
        return changes
