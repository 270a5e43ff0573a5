"""`liveseg setup-tfjs`: create the TensorFlow conversion environment that TF.js imports and the TF.js peer need."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from liveseg import tfenv


def setup_tfjs_cmd(venv: Annotated[Path | None, typer.Option(help=tfenv.OPTION["help"])] = None) -> None:
    """Create the virtualenv (TensorFlow's CPU build, tensorflowjs, tf2onnx, onnx2tf and npm's @tensorflow/tfjs)
    that `liveseg import model.json` and `liveseg bench browser`'s TF.js peer run in: a few minutes and about
    2.5 GB, apart from liveseg's own environment because TensorFlow's pins clash with it."""
    console = Console()
    start = time.monotonic()
    target = tfenv.location(venv)
    tfenv.create(target, lambda text: console.print(f"[bold blue]==>[/] {text}", highlight=False))
    console.print(f"{target} is ready ({time.monotonic() - start:.0f} s).", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("setup-tfjs")(setup_tfjs_cmd)
