"""The `liveseg` command: one sub-command per stage, each in its own module.

Sub-command modules import heavy libraries (torch, onnx) inside their functions, so `liveseg serve`
and `liveseg segment` start fast and work without PyTorch installed.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from liveseg import __version__
from liveseg.errors import LivesegError

# Order here is the order of `liveseg --help`: the pipeline from data to browser.
COMMAND_MODULES = ("data", "models", "train", "evaluate", "export", "pull", "segment", "serve", "bench", "setup_tfjs")

app = typer.Typer(
    name="liveseg",
    help="Real-time semantic segmentation in the browser: train, evaluate, export, serve, segment, benchmark.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"liveseg {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Options of `liveseg` itself (the app's help above is what `liveseg --help` shows)."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"liveseg.cli.{_name}").register(app)

err_console = Console(stderr=True)


def main() -> None:
    """Entry point: expected failures become one red sentence and a meaningful exit code."""
    try:
        app()
    except LivesegError as exc:
        # Under torchrun the processes of a machine fail alike (same options, same files): its first one says it.
        if os.environ.get("LOCAL_RANK", "0") == "0":
            # Messages carry paths and file contents: escaped, so "[/x]" or "[r, g, b]" print as written.
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
