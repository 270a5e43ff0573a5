"""The `liveseg` command: one sub-command per stage, each in its own module.

Sub-command modules import heavy libraries (torch, onnx) inside their functions, so `liveseg serve`
and `liveseg segment` start fast and work without PyTorch installed.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console
from rich.markup import escape

from liveseg.errors import LivesegError

# Order here is the order of `liveseg --help`: the pipeline from data to browser.
COMMAND_MODULES = ("data", "models", "train", "evaluate", "export", "segment", "serve", "bench")

app = typer.Typer(
    name="liveseg",
    help="Real-time semantic segmentation in the browser: train, evaluate, export, serve, segment, benchmark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"liveseg.cli.{_name}").register(app)

err_console = Console(stderr=True)


def main() -> None:
    """Entry point: expected failures become one red sentence and a meaningful exit code."""
    try:
        app()
    except LivesegError as exc:
        # Messages carry paths and file contents: escaped, so "[/x]" or "[r, g, b]" print as written.
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
