"""`liveseg data`: which datasets liveseg knows, fetching the downloadable ones, and what a copy holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from liveseg.cli.options import command
from liveseg.data.settings import FetchSettings, InfoSettings
from liveseg.errors import LivesegError

if TYPE_CHECKING:
    from liveseg.data import DatasetInfo, SegmentationDataset

data_app = typer.Typer(help="Datasets: list them, fetch CamVid, inspect a copy.", no_args_is_help=True)


@data_app.command("list")
def list_cmd() -> None:
    """Every dataset liveseg reads, its classes, and whether it is at its default location."""
    from liveseg import sources
    from liveseg.data import dataset_class, list_datasets

    table = Table("dataset", "classes", "ignore", "get it with", "default location")
    for name in list_datasets():
        cls = dataset_class(name)
        root = cls.default_root()
        try:
            info = cls.load_info(root)
            classes, ignore = str(info.num_classes), str(info.ignore_index)
        except LivesegError:
            classes, ignore = "classes.json", "classes.json"
        how = f"liveseg data fetch {name}" if name in sources.SOURCES else "--data-root (see `fetch`)"
        where = f"[green]{escape(str(root))}[/]" if root.is_dir() else f"[dim]{escape(str(root))} (not found)[/]"
        table.add_row(name, classes, ignore, how, where)
    Console().print(table)


@data_app.command("fetch")
@command
def fetch_cmd(settings: FetchSettings) -> None:
    """Download a dataset, verify every file's sha256, and place it where `--data-root` defaults to."""
    from liveseg.cli.display import download_bars
    from liveseg.data import fetch_dataset

    with download_bars() as progress:
        path = fetch_dataset(settings, progress)
    Console().print(f"[green]{settings.name}[/] verified at {escape(str(path))}", highlight=False, soft_wrap=True)


@data_app.command("info")
@command
def info_cmd(settings: InfoSettings) -> None:
    """Classes, licence, split sizes and, with --shares SPLIT, the share of pixels of each class."""
    from liveseg.data import dataset_class

    name = settings.name
    cls = dataset_class(name)
    root = cls.check_root(settings.data_root)
    info = cls.load_info(root)
    console = Console()
    console.print(f"[bold]{name}[/] at {escape(str(root))}", highlight=False, soft_wrap=True)
    console.print(  # a folder dataset's licence and URL come from its classes.json
        f"{info.num_classes} classes, ignore index {info.ignore_index}\n"
        f"licence: {escape(info.license or '-')}\nhomepage: {escape(info.url or '-')}",
        highlight=False,
        soft_wrap=True,
    )
    table = Table("split", "pairs")
    for split in cls.available_splits(root):
        try:
            table.add_row(split, str(len(cls(root, split))))
        except LivesegError:
            table.add_row(split, "[dim]not present[/]")
    console.print(table)
    if settings.shares is not None:
        console.print(_shares_table(cls(root, settings.shares), info))


def _shares_table(ds: SegmentationDataset, info: DatasetInfo) -> Table:
    from rich.progress import Progress

    from liveseg.data import pixel_counts

    with Progress(console=Console(stderr=True)) as progress:
        counts = pixel_counts(ds, progress)
    total = max(int(counts.sum()), 1)
    table = Table("id", "class", f"share of {ds.split} pixels", title=f"{len(ds)} labels")
    for cid, cname in enumerate(info.classes):
        table.add_row(str(cid), escape(cname), f"{100 * counts[cid] / total:.1f}%")
    table.add_row(str(info.ignore_index), "(ignored)", f"{100 * counts[info.ignore_index] / total:.1f}%")
    return table


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
