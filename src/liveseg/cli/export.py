"""`liveseg export`: a checkpoint → a browser bundle (ONNX fp32/fp16/int8 + manifest), parity-checked."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from liveseg import atomic
from liveseg.cli.display import Bars, counts_bytes
from liveseg.cli.options import check_out_dir, command, refuse_replacing, require
from liveseg.export.settings import ExportSettings


def _table(result) -> Table:
    precision = Column("precision", no_wrap=True)  # "fp32 logits" on one line
    table = Table("input", precision, "file", "pixel agreement", "int8 mIoU drop", "val mIoU", "status")
    for v in result.variants:
        p = v.parity
        drop = f"{100 * p['miou_drop']:.2f} pts" if "miou_drop" in p else ""
        val = f"{v.val_miou:.4f}" if v.val_miou is not None else "-"
        agreement = f"{p['pixel_agreement']:.4%}" if "pixel_agreement" in p else "-"
        status = "[green]ok[/]" if v.passed else ("[red]FAILED[/]" if v.graph == "labels" else "[yellow]left out[/]")
        table.add_row(
            f"{v.height}x{v.width}",
            v.precision if v.graph == "labels" else f"{v.precision} {v.graph}",
            f"{v.bytes / 1e6:.2f} MB",
            agreement,
            drop,
            val,
            status,
        )
    return table


def export_cmd(
    source: Annotated[
        str,
        typer.Argument(
            help="A training checkpoint (best.pt or last.pt), or a bundle liveseg exported (folder or name, e.g. "
            "'default'), whose network is recovered exactly from its fp32 graph."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Bundle directory to create (an earlier bundle there is replaced).")],
    settings: ExportSettings,
) -> None:
    """Export a checkpoint (or a bundle again) to a browser bundle; every variant is checked against PyTorch."""
    from liveseg.runtime.manifest import check_name

    require("train", "torch", "onnxscript", command="export")
    # Up front, so that a bad --out or --name fails now rather than after the export and its parity checks.
    if settings.name is not None:
        check_name(settings.name, "pass --name")
    refuse_replacing(check_out_dir(out), [Path(source), settings.data_root])
    atomic.clean_stale(out.parent)  # what a killed export left beside its bundle
    from liveseg.export.build import export_bundle

    with step_progress() as progress:
        result = export_bundle(source, out, settings, progress)
    report_result(result)


@contextmanager
def step_progress() -> Iterator[Progress]:
    """The progress display of a conversion (export, import, pull): a bar per stage (and a pull's download) on a
    terminal, plain lines elsewhere (a pipe or a log shows no live display, and conversions take minutes); its
    temporaries scratch."""
    console = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    live = Bars(*columns, console=console, transient=True) if console.is_terminal else LineProgress(console)
    with atomic.scratch(), live as progress:
        yield progress


class LineProgress(Progress):
    """A progress that prints one plain line each time a stage starts or describes its next step, with the time
    since the start, and draws nothing live (nor a download: a stage of its own only on a terminal)."""

    def __init__(self, console: Console) -> None:
        super().__init__(console=console, disable=True)
        self._start = time.monotonic()

    def add_task(self, description: str, *args: Any, **kwargs: Any) -> TaskID:
        task = super().add_task(description, *args, **kwargs)
        if not counts_bytes(kwargs):
            self._say(description)
        return task

    def update(self, task_id: TaskID, *, description: str | None = None, **kwargs: Any) -> None:
        super().update(task_id, description=description, **kwargs)
        if description is not None:
            self._say(description)

    def _say(self, text: str) -> None:
        self.console.print(
            f"[{time.monotonic() - self._start:5.0f} s] {text}", markup=False, highlight=False, soft_wrap=True
        )


def report_result(result) -> None:
    """Print the variants table and what was left out, then exit as docs/ARCHITECTURE.md says for export, import
    and pull alike: 1 when a requested variant failed its check (the bundle is written without it) or none passed
    (no bundle); 0 when only variants not asked for by name were left out (a WebGL logits variant; int8 that a pull
    or import tried by default)."""
    console = Console(stderr=True)
    Console().print(_table(result))
    for v in result.warnings:
        console.print(f"[yellow]{escape(v.problem)}[/]", highlight=False)
    for v in result.failed:
        console.print(f"[red]{escape(v.problem)}[/]", highlight=False)
    if result.out is None:
        console.print("[red]No variant passed its parity check; no bundle was written.[/]")
        sys.exit(1)
    console.print(f"Bundle written to {escape(str(result.out))}", highlight=False)
    if result.failed:
        console.print(f"[red]{len(result.failed)} requested variant(s) failed and are not in the bundle.[/]")
        sys.exit(1)


def register(app: typer.Typer) -> None:
    app.command("export")(command(export_cmd))
