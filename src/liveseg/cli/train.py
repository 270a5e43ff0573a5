"""`liveseg train`: train a model from the zoo on a dataset, with checkpoints that resume exactly."""

from __future__ import annotations

import inspect
import json
import os
import sys
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import typer

from liveseg import atomic
from liveseg.cli.options import check_out_dir, choice, parse_size, refuse_overwriting, require
from liveseg.errors import LivesegError
from liveseg.train.config import DEVICES, LOSSES, OPTIMIZER_DEFAULTS, SCHEDULES, TrainConfig


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


# Options typed as text on the command line, and the parser that turns each into the config's value.
_TEXT = {"crop": parse_size, "scale": _parse_scale, "val_size": parse_size}
# Options that take one of a few values: --help lists them and the shell completes them.
_CHOICES = {"device": DEVICES, "optimizer": tuple(OPTIMIZER_DEFAULTS), "schedule": SCHEDULES, "loss": LOSSES}


def _format(value: Any) -> str | None:
    if value is None:
        return None
    return "x".join(map(str, value)) if all(isinstance(v, int) for v in value) else ",".join(map(str, value))


def _option_parameters() -> list[inspect.Parameter]:
    """One typer option per TrainConfig field that has help text, with the field's default (the single source)."""
    hints = get_type_hints(TrainConfig)
    params = []
    for f in fields(TrainConfig):
        if "help" not in f.metadata:
            continue
        default = f.default_factory() if f.default is MISSING else f.default
        kind = hints[f.name]
        if f.name in _TEXT:
            kind, default = (str if default is not None else str | None), _format(default)
        elif f.name in _CHOICES:
            kind = choice(_CHOICES[f.name])
        elif f.name == "model_kwargs":
            kind, default = list[str] | None, None
        name = f.metadata["flag"] or f.name
        annotation = Annotated[kind, typer.Option(help=f.metadata["help"])]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    nproc = Annotated[
        int,
        typer.Option(
            min=1,
            help="Train in N processes on this machine with DistributedDataParallel (one per GPU, or gloo on the "
            "CPU), launched with torchrun; --batch is per process. Several machines: run `torchrun ... -m liveseg "
            "train` on each.",
        ),
    ]
    return [*params, inspect.Parameter("nproc", inspect.Parameter.KEYWORD_ONLY, default=1, annotation=nproc)]


def config_from_options(options: dict[str, Any]) -> TrainConfig:
    """The command line's values → a TrainConfig; text options parsed before torch is imported (fast usage errors)."""
    values = {k: (_TEXT[k](v) if k in _TEXT and v is not None else v) for k, v in options.items()}
    values["model_kwargs"] = _parse_model_args(values.pop("model_arg") or [])
    return TrainConfig(**values)


def train_cmd(**options: Any) -> None:
    """Train a segmentation model; last.pt every epoch, best.pt on a better val mIoU, log.csv.

    Distillation (--teacher): KL divergence to a trained model's softened logits is added to the loss.
    """
    require("train", "torch", "albumentations", command="train")
    nproc = options.pop("nproc")
    cfg = config_from_options(options)
    out = cfg.out_dir
    check_out_dir(out)
    if cfg.teacher is not None:
        refuse_overwriting([out / "last.pt", out / "best.pt"], [Path(cfg.teacher)])
    atomic.clean_stale(out)  # checkpoint temporaries of a killed earlier run
    from liveseg.train import train
    from liveseg.train.distributed import world

    if nproc > 1 and not world().launched:
        _launch(nproc)
        return
    run = train(cfg)
    if run.world.main:
        typer.echo(f"best val mIoU {run.best_miou:.4f}; checkpoints in {out}")


train_cmd.__signature__ = inspect.Signature(_option_parameters(), return_annotation=None)  # type: ignore[attr-defined]
train_cmd.__annotations__ = {p.name: p.annotation for p in train_cmd.__signature__.parameters.values()}


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
