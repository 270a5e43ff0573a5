"""Evaluation reports on disk: report.json and a row-normalised confusion-matrix picture (confusion.png)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from liveseg import atomic


def write_json(report: dict, path: str | os.PathLike) -> Path:
    return atomic.write_text(path, json.dumps(report, indent=2) + "\n")


def confusion_figure(report: dict):
    """Rows (ground truth) sum to 1, so rare classes are as readable as common ones; empty rows stay 0."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    matrix = np.asarray(report["confusion"], dtype=np.float64)
    rows = matrix.sum(axis=1, keepdims=True)
    norm = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    names = report["classes"]
    side = 2.5 + 0.55 * len(names)
    fig = Figure(figsize=(side + 1.5, side), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set(
        xticks=range(len(names)),
        yticks=range(len(names)),
        xlabel="predicted",
        ylabel="ground truth",
        title=f"{report['dataset']} {report['split']}: mIoU {report['miou']:.3f}",
    )
    ax.set_xticklabels(names, rotation=60, ha="right")
    ax.set_yticklabels(names)
    if len(names) <= 30:  # numbers stay legible up to about this many classes
        for (r, c), v in np.ndenumerate(norm):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the row's pixels")
    return fig


def write_confusion_png(report: dict, path: str | os.PathLike) -> Path:
    fig = confusion_figure(report)
    return atomic.write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
