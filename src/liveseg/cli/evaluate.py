"""`liveseg eval`: mIoU, per-class IoU and pixel accuracy of a checkpoint or an exported bundle on a split."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from liveseg.cli.options import check_out_dir, choice, refuse_overwriting, require
from liveseg.errors import LivesegError
from liveseg.runtime.manifest import PRECISIONS
from liveseg.settings import parse_size
from liveseg.train.config import DEVICES


def _parse_scales(text: str) -> tuple[float, ...]:
    try:
        scales = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        scales = ()
    if not scales or min(scales) <= 0:
        raise LivesegError(f"--scales {text!r} is not a list of positive numbers, e.g. 0.75,1.0,1.25.")
    return scales


def _is_bundle(model: Path) -> bool:
    return str(model) == "default" or (model / "manifest.json").is_file()


def _bundle_predictor(path: Path, precision: str | None, threads: int | None):
    """(predict, dataset name, label) of an exported bundle, run by onnxruntime (no torch involved)."""
    from liveseg.runtime import load

    segmenter = load(str(path), precision=precision, threads=threads)
    bundle, label = segmenter.bundle, f"{segmenter.bundle.name}-{segmenter.variant.precision}"
    return segmenter.predict, bundle.manifest.dataset, len(bundle.classes), label


def _checkpoint_predictor(
    path: Path, device: str, scales: tuple[float, ...], flip: bool, window: tuple[int, int] | None, threads: int | None
):
    import torch

    from liveseg.evaluate.predictor import TorchPredictor
    from liveseg.models import checkpoint

    if threads:
        torch.set_num_threads(threads)
    ckpt = checkpoint.load(path)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    predictor = TorchPredictor(checkpoint.build_model(ckpt), device, scales, flip, window)
    label = f"{path.resolve().parent.name}-{path.stem}"
    return predictor, ckpt["dataset"]["name"], ckpt["model"]["num_classes"], label


def results_table(report: dict) -> Table:
    table = Table("id", "class", "IoU", "accuracy", title=f"{report['images']} {report['split']} images")
    for cid, (name, iou, acc) in enumerate(zip(report["classes"], report["iou"], report["acc"], strict=True)):
        cells = ("-" if iou is None else f"{iou:.4f}", "-" if acc is None else f"{acc:.4f}")
        table.add_row(str(cid), escape(name), *cells)  # class names come from the dataset's files
    table.add_section()
    table.add_row("", "mean (mIoU, mean accuracy)", f"{report['miou']:.4f}", f"{report['mean_acc']:.4f}")
    table.add_row("", "pixel accuracy", "", f"{report['pixel_acc']:.4f}")
    return table


def eval_cmd(
    model: Annotated[
        Path, typer.Argument(help="A checkpoint (.pt), a bundle folder (with manifest.json) or 'default'.")
    ],
    data: Annotated[str | None, typer.Option(help="Dataset name (default: the one it was trained on).")] = None,
    split: Annotated[str, typer.Option(help="Split to evaluate.")] = "val",
    data_root: Annotated[Path | None, typer.Option(help="Dataset folder (default: liveseg data dir / NAME).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where report.json and confusion.png go (default: runs/eval/…).")
    ] = None,
    max_images: Annotated[int | None, typer.Option(min=1, help="Evaluate the first N images only.")] = None,
    device: Annotated[choice(DEVICES), typer.Option(help="Checkpoints: where to run.")] = "auto",
    scales: Annotated[str, typer.Option(help="Checkpoints: test-time scales, e.g. 0.75,1.0,1.25.")] = "1.0",
    flip: Annotated[bool, typer.Option(help="Checkpoints: also average the horizontally flipped image.")] = False,
    window: Annotated[
        str | None,
        typer.Option(
            help="Checkpoints: sliding-window inference in HxW tiles overlapping by a third (default: whole image)."
        ),
    ] = None,
    precision: Annotated[
        choice(PRECISIONS) | None,
        typer.Option(help="Bundles: which precision variant to run (default: the bundle's default)."),
    ] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="CPU threads (default: the library's choice).")] = None,
) -> None:
    """Evaluate a checkpoint or a bundle on whole images at native size; writes report.json and confusion.png.

    The confusion matrix is accumulated over the whole split with void pixels ignored; mIoU averages the
    classes that occur in the ground truth or the predictions.
    """
    # confusion.png needs matplotlib, a checkpoint PyTorch: said before the split is scored, not after.
    require("train", "matplotlib", *(() if _is_bundle(model) else ("torch",)), command="eval")
    from rich.progress import Progress

    from liveseg.data import get_dataset
    from liveseg.evaluate.evaluator import evaluate
    from liveseg.evaluate.report import write_confusion_png, write_json

    if out is not None:
        check_out_dir(out)  # before any model or data is loaded
    if _is_bundle(model):
        predict, trained_on, num_classes, label = _bundle_predictor(model, precision, threads)
    elif model.is_dir():
        raise LivesegError(f"{model} is a folder without manifest.json; pass a checkpoint file or a bundle folder.")
    else:
        size = parse_size(window) if window else None
        predictor = _checkpoint_predictor(model, device, _parse_scales(scales), flip, size, threads)
        predict, trained_on, num_classes, label = predictor
    dataset = get_dataset(data or trained_on or "camvid", split, data_root)
    if num_classes != dataset.info.num_classes:
        raise LivesegError(
            f"{model} predicts {num_classes} classes ({trained_on}) but {dataset.name} has "
            f"{dataset.info.num_classes}; evaluate it on the dataset it was trained for."
        )
    out = out or check_out_dir(Path("runs/eval") / f"{label}-{dataset.name}-{split}")
    report_json, confusion_png = out / "report.json", out / "confusion.png"
    refuse_overwriting([report_json, confusion_png], [model, *(f for pair in dataset.pairs for f in pair)])
    with Progress(console=Console(stderr=True)) as progress:
        report = {"source": str(model), **evaluate(predict, dataset, progress, max_images=max_images)}
    write_json(report, report_json)
    write_confusion_png(report, confusion_png)
    console = Console()
    console.print(results_table(report))
    console.print(
        f"mIoU {report['miou']:.4f}, pixel accuracy {report['pixel_acc']:.4f}; report in {escape(str(out))}",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
