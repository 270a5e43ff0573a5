"""`liveseg models`: the zoo with parameters and FLOPs at a chosen input size."""

from __future__ import annotations

import re
from dataclasses import dataclass

import typer
from rich import box
from rich.table import Table

from liveseg.cli.options import command, require
from liveseg.settings import option, parse_size


@dataclass
class ZooSettings:
    """`liveseg models`' options. Declared here rather than beside `liveseg.models.zoo`: importing that package
    loads PyTorch, and the CLI builds every command's options at start-up."""

    size: tuple[int, int] = option("360x480", "Input size HxW at which FLOPs are counted.", parse=parse_size)
    num_classes: int = option(11, "Number of output classes.")


def register(app: typer.Typer) -> None:
    app.command("models")(command(models_command))


def models_command(settings: ZooSettings) -> None:
    """List every architecture with its parameters and GFLOPs (FLOPs = 2 x multiply-adds)."""
    require("train", "torch", command="models")
    from rich.console import Console

    from liveseg import models

    rows = models.zoo(settings.size, settings.num_classes)
    Console().print(zoo_table(rows, settings.size, settings.num_classes))


def zoo_table(rows: list[tuple[str, int, float, str]], size: tuple[int, int], num_classes: int) -> Table:
    """One line per architecture, within 80 columns: the paper as its authors and year, not its whole title."""
    table = Table(title=f"{size[0]}x{size[1]} input, {num_classes} classes", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("model", no_wrap=True)
    table.add_column("params (M)", justify="right")
    table.add_column("GFLOPs", justify="right")
    table.add_column("paper", no_wrap=True)
    for name, params, gflops, paper in rows:
        table.add_row(name, f"{params / 1e6:.2f}", f"{gflops:.2f}", _citation(paper))
    return table


def _citation(paper: str) -> str:
    """'Fast-SCNN: ... (Poudel et al., 2019)' → 'Poudel et al., 2019': the first author-and-year in brackets."""
    found = re.search(r"\(([^()]*\d{4})\)", paper)
    return found[1] if found else paper
