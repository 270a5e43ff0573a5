"""How long library work (downloading, training, segmenting files, exporting) reports its progress without knowing
the display: `Progress` names the few calls the libraries make. They are a subset of `rich.progress.Progress`'s, so the
command line (cli/, bench/: the only places that import Rich) passes its bars as they are, and a caller that wants
no display passes `QUIET`. Descriptions are plain text: a display that reads markup shows them without it.

The display (the command that owns the terminal) chooses the columns; the library only says what a task counts:
a task added with `unit=BYTES` counts bytes (a download, whose size and speed a display may show), any other
counts items."""

from __future__ import annotations

from typing import Any, Protocol

BYTES = "bytes"
"""The `unit` field of a task that counts bytes."""


class Progress(Protocol):
    """Tasks with an optional total, advanced, re-described and removed by the id `add_task` returned."""

    def add_task(self, description: str, *, total: float | None = ..., **fields: Any) -> Any: ...

    def update(self, task_id: Any, *, description: str | None = None, **fields: Any) -> None: ...

    def advance(self, task_id: Any, advance: float = 1) -> None: ...

    def remove_task(self, task_id: Any) -> None: ...


class Quiet:
    """A `Progress` that shows nothing (Ray workers; library callers without a display)."""

    def add_task(self, description: str, *, total: float | None = None, **fields: Any) -> int:
        return 0

    def update(self, task_id: Any, *, description: str | None = None, **fields: Any) -> None:
        pass

    def advance(self, task_id: Any, advance: float = 1) -> None:
        pass

    def remove_task(self, task_id: Any) -> None:
        pass


QUIET = Quiet()
