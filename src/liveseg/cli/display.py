"""The command line's bars (Rich, which only cli/ and bench/ import): a command chooses the columns of the tasks
that library work adds, and a task counting bytes (`liveseg.progress.BYTES`: a download) is drawn with its size
and speed whatever those columns are."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from liveseg.progress import BYTES


def description() -> TextColumn:
    """A task's description in bold, read as plain text (`liveseg.progress`: descriptions carry no markup)."""
    return TextColumn("{task.description}", style="bold", markup=False)


def counts_bytes(fields: Mapping[str, Any]) -> bool:
    """Whether a task with these fields counts bytes."""
    return fields.get("unit") == BYTES


class Bars(Progress):
    """Rich's `Progress` with the given columns for counted items, and description, bar, size, speed and time left
    for the tasks that count bytes (listed below the others)."""

    def __init__(self, *columns: str | ProgressColumn, **kwargs: Any) -> None:
        sizes = (description(), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
        # Lends its columns' table only; made first, since Rich's Progress renders once while it is made.
        self._downloads = Progress(*sizes, expand=kwargs.get("expand", False), disable=True)
        super().__init__(*columns, **kwargs)

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table([t for t in self.tasks if not counts_bytes(t.fields)])
        yield self._downloads.make_tasks_table([t for t in self.tasks if counts_bytes(t.fields)])


def download_bars() -> Bars:
    """What a download shows on stderr (`liveseg data fetch`, an effect's pull): a dataset's files counted, a
    single file's bytes; nothing once done."""
    columns = (description(), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Bars(*columns, console=Console(stderr=True), transient=True)
