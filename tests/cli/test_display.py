"""The command line's bars: whatever columns a command chose, a task counting bytes shows its size and speed."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import MofNCompleteColumn, TextColumn

from liveseg.cli.display import Bars
from liveseg.progress import BYTES


def test_a_download_is_drawn_with_its_size_beside_counted_items() -> None:
    out, now = io.StringIO(), [0.0]
    console = Console(file=out, width=100)
    bars = Bars(TextColumn("{task.description}"), MofNCompleteColumn(), console=console, get_time=lambda: now[0])
    download = bars.add_task("[v2] model.onnx", total=2_000_000, completed=500_000, unit=BYTES)
    bars.add_task("stages", total=3, completed=1)
    bars.advance(download, 250_000)
    now[0] = 1.0
    bars.advance(download, 250_000)
    console.print(bars.get_renderable())
    stages, line = out.getvalue().splitlines()
    assert stages.split() == ["stages", "1/3"]
    assert line.startswith("[v2] model.onnx")  # descriptions are plain text
    assert "1.0/2.0 MB" in line and "250.0 kB/s" in line
