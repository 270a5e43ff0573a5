"""`liveseg train`: train a model from the zoo on a dataset, with checkpoints that resume exactly."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from liveseg import atomic
from liveseg.cli.display import Bars, description
from liveseg.cli.options import check_out_dir, command, refuse_overwriting, require
from liveseg.train.config import TrainConfig


def train_cmd(
    config: TrainConfig,
    nproc: Annotated[
        int,
        typer.Option(
            min=1,
            help="Train in N processes on this machine with DistributedDataParallel (one per GPU, or gloo on the "
            "CPU), launched with torchrun; --batch is per process. Several machines: run `torchrun ... -m liveseg "
            "train` on each.",
        ),
    ] = 1,
) -> None:
    """Train a segmentation model; last.pt every epoch, best.pt on a better val mIoU, log.csv.

    Distillation (--teacher): KL divergence to a trained model's softened logits is added to the loss.
    """
    require("train", "torch", "albumentations", command="train")
    out = config.out_dir
    check_out_dir(out)
    if config.teacher is not None:
        refuse_overwriting([out / "last.pt", out / "best.pt"], [Path(config.teacher)])
    atomic.clean_stale(out)  # checkpoint temporaries of a killed earlier run
    from liveseg.train import train
    from liveseg.train.distributed import world

    if nproc > 1 and not world().launched:
        _launch(nproc)
        return
    with _display(world().main) as progress:
        run = train(config, progress)
    if run.world.main:
        typer.echo(f"best val mIoU {run.best_miou:.4f}; checkpoints in {out}")


@contextmanager
def _display(main: bool) -> Iterator[Bars]:
    """The epochs' bars on stderr and, above them, the run's lines (`liveseg.train.log.logger`); the other processes
    of a torchrun run show nothing. `Bars` draws a download (`--init imagenet`) by its bytes, without `info`."""
    from liveseg.train.log import logger

    console = Console(stderr=True, quiet=not main)
    columns = (description(), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}", markup=False))
    handler, level, propagate = _Lines(console), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # printed here only, however the root logger is set up
    try:
        with Bars(*columns, TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True) as bars:
            yield bars
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


class _Lines(logging.Handler):
    """Each line as it is said, on the console of the bars (so above them), warnings in yellow."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        style = "yellow" if record.levelno >= logging.WARNING else None
        self.console.print(record.getMessage(), style=style, markup=False, highlight=False)


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
    app.command("train")(command(train_cmd))
