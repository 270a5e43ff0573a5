"""`liveseg models`: the zoo with parameters and FLOPs at a chosen input size."""

from __future__ import annotations

import typer

from liveseg.cli.options import parse_size, require


def register(app: typer.Typer) -> None:
    app.command("models")(models_command)


def models_command(
    size: str = typer.Option("360x480", help="Input size HxW at which FLOPs are counted."),
    num_classes: int = typer.Option(11, help="Number of output classes."),
) -> None:
    """List every architecture with its parameters and GFLOPs (FLOPs = 2 x multiply-adds)."""
    require("train", "torch", command="models")
    from rich.console import Console
    from rich.table import Table

    from liveseg import models

    h, w = parse_size(size)
    table = Table(title=f"liveseg model zoo at {h}x{w}, {num_classes} classes")
    for col in ("model", "params (M)", f"GFLOPs @ {h}x{w}", "paper"):
        table.add_column(col, justify="right" if col[0] in "pG" else "left")
    for name in models.list_models():
        params, gflops = models.complexity(models.create(name, num_classes=num_classes), (h, w))
        table.add_row(name, f"{params / 1e6:.2f}", f"{gflops:.2f}", models.get_config(name).paper)
    Console().print(table)
