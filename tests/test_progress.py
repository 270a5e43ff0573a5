"""Library work reports to `liveseg.progress.Progress`; Rich (a display) is imported by the command line and the
benchmarks, which own the terminal, and by no other module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from liveseg.progress import BYTES, QUIET, Progress

SRC = Path(__file__).resolve().parents[1] / "src" / "liveseg"
DISPLAYS = ("cli", "bench")


def _imports_rich(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(name == "rich" or name.startswith("rich.") for name in names):
            return True
    return False


def _library_modules() -> list[Path]:
    return sorted(
        p for p in SRC.rglob("*.py") if "static" not in p.parts and p.relative_to(SRC).parts[0] not in DISPLAYS
    )


@pytest.mark.parametrize("path", _library_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_libraries_leave_the_display_to_the_command_line(path: Path) -> None:
    assert not _imports_rich(path), f"{path.name} imports Rich; take a liveseg.progress.Progress instead"


def test_quiet_and_rich_both_take_the_calls_libraries_make() -> None:
    from rich.progress import Progress as RichProgress

    bars: list[Progress] = [QUIET, RichProgress(disable=True)]
    for bar in bars:
        task = bar.add_task("images", total=2, info="")
        bar.update(task, description="images: a.png", info="loss 0.5")
        bar.advance(task)
        bar.remove_task(task)
        download = bar.add_task("model.onnx", total=10, completed=4, unit=BYTES)
        bar.advance(download, 6)
        bar.remove_task(download)
