"""`liveseg eval`: mIoU, per-class IoU and pixel accuracy of a checkpoint or an exported bundle on a split."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from liveseg.cli.options import check_out_dir, command, refuse_overwriting, require
from liveseg.evaluate.evaluator import EvalSettings, evaluate, is_bundle, prepare


def results_table(report: dict) -> Table:
    shifted = "" if report["shift"] == "none" else f", shift {report['shift']}"
    table = Table("id", "class", "IoU", "accuracy", title=f"{report['images']} {report['split']} images{shifted}")
    for cid, (name, iou, acc) in enumerate(zip(report["classes"], report["iou"], report["acc"], strict=True)):
        cells = ("-" if iou is None else f"{iou:.4f}", "-" if acc is None else f"{acc:.4f}")
        table.add_row(str(cid), escape(name), *cells)  # class names come from the dataset's files
    table.add_section()
    table.add_row("", "mean (mIoU, mean accuracy)", f"{report['miou']:.4f}", f"{report['mean_acc']:.4f}")
    table.add_row("", "pixel accuracy", "", f"{report['pixel_acc']:.4f}")
    return table


def eval_cmd(settings: EvalSettings) -> None:
    """Evaluate a checkpoint or a bundle on whole images at native size; writes report.json and confusion.png.

    The confusion matrix is accumulated over the whole split with void pixels ignored; mIoU averages the
    classes that occur in the ground truth or the predictions.
    """
    s = settings
    # confusion.png needs matplotlib, a checkpoint PyTorch: said before the split is scored, not after.
    require("train", "matplotlib", *(() if is_bundle(s.model) else ("torch",)), command="eval")
    from rich.progress import Progress

    from liveseg.evaluate.report import write_confusion_png, write_json

    if s.out is not None:
        check_out_dir(s.out)  # before any model or data is loaded
    job = prepare(s)
    out = s.out or check_out_dir(Path("runs/eval") / job.name)
    report_json, confusion_png = out / "report.json", out / "confusion.png"
    refuse_overwriting([report_json, confusion_png], [s.model, *(f for pair in job.dataset.pairs for f in pair)])
    with Progress(console=Console(stderr=True)) as progress:
        scored = evaluate(job.predict, job.dataset, progress, max_images=s.max_images, shift=s.shift)
        report = {"source": str(s.model), **scored}
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
    app.command("eval")(command(eval_cmd))
