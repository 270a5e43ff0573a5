"""Evaluation of any predictor over a dataset split: checkpoints (torch) and ONNX bundles share this code.

A predictor is a function `predict(image: HxWx3 uint8 RGB) -> HxW integer class ids` at the image's size.
`EvalSettings` declares `liveseg eval`'s options once, for the command and for `prepare`, which loads the
model and the split they name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liveseg.data import SegmentationDataset, get_dataset
from liveseg.errors import LivesegError
from liveseg.evaluate.metrics import ConfusionMatrix
from liveseg.evaluate.shifts import SHIFTS
from liveseg.progress import QUIET, Progress
from liveseg.runtime.manifest import PRECISIONS
from liveseg.settings import option, parse_size

Predictor = Callable[[np.ndarray], np.ndarray]

DEVICES = ("auto", "cpu", "cuda")  # where a checkpoint runs (train, eval); auto: cuda when present


def parse_scales(text: str) -> tuple[float, ...]:
    """'0.75,1.0,1.25' → (0.75, 1.0, 1.25): test-time scales, each positive."""
    try:
        scales = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        scales = ()
    if not scales or min(scales) <= 0:
        raise LivesegError(f"--scales {text!r} is not a list of positive numbers, e.g. 0.75,1.0,1.25.")
    return scales


@dataclass
class EvalSettings:
    model: Path = option(help="A checkpoint (.pt), a bundle folder (with manifest.json) or 'default'.", argument=True)
    data: str | None = option(None, "Dataset name (default: the one it was trained on).")
    split: str = option("val", "Split to evaluate.")
    data_root: Path | None = option(None, "Dataset folder (default: liveseg data dir / NAME).")
    out: Path | None = option(None, "Where report.json and confusion.png go (default: runs/eval/…).")
    max_images: int | None = option(None, "Evaluate the first N images only.", min=1)
    device: str = option("auto", "Checkpoints: where to run.", choices=DEVICES)
    scales: tuple[float, ...] = option("1.0", "Checkpoints: test-time scales, e.g. 0.75,1.0,1.25.", parse=parse_scales)
    flip: bool = option(False, "Checkpoints: also average the horizontally flipped image.")
    window: tuple[int, int] | None = option(
        None,
        "Checkpoints: sliding-window inference in HxW tiles overlapping by a third (default: whole image).",
        parse=parse_size,
    )
    precision: str | None = option(
        None, "Bundles: which precision variant to run (default: the bundle's default).", choices=PRECISIONS
    )
    threads: int | None = option(None, "CPU threads (default: the library's choice).", min=1)
    shift: str = option(
        "none",
        "Shift every image's look before predicting (labels unchanged), to probe robustness to other light, "
        "cameras and compression: " + "; ".join(f"{k}: {v[0]}" for k, v in SHIFTS.items() if k != "none") + ".",
        choices=tuple(SHIFTS),
    )


@dataclass(frozen=True)
class Evaluation:
    """A model ready to evaluate on a split of the dataset it predicts the classes of; `name` names its default
    report folder (the bundle and precision, or the run folder and checkpoint; the dataset; the split)."""

    predict: Predictor
    dataset: SegmentationDataset
    name: str


def is_bundle(model: Path) -> bool:
    """Whether `model` is a bundle ('default' or a folder with manifest.json), else a checkpoint."""
    return str(model) == "default" or (model / "manifest.json").is_file()


def prepare(settings: EvalSettings) -> Evaluation:
    """The model `settings.model` loaded (a bundle in onnxruntime, no torch involved; a checkpoint in PyTorch) and
    the split to evaluate it on, refused when its classes are not the model's."""
    s = settings
    if is_bundle(s.model):
        predict, trained_on, num_classes, label = _bundle(s)
    elif s.model.is_dir():
        raise LivesegError(f"{s.model} is a folder without manifest.json; pass a checkpoint file or a bundle folder.")
    else:
        predict, trained_on, num_classes, label = _checkpoint(s)
    dataset = get_dataset(s.data or trained_on or "camvid", s.split, s.data_root)
    if num_classes != dataset.info.num_classes:
        raise LivesegError(
            f"{s.model} predicts {num_classes} classes ({trained_on}) but {dataset.name} has "
            f"{dataset.info.num_classes}; evaluate it on the dataset it was trained for."
        )
    shifted = "" if s.shift == "none" else f"-{s.shift}"
    return Evaluation(predict, dataset, f"{label}-{dataset.name}-{s.split}{shifted}")


def _bundle(s: EvalSettings) -> tuple[Predictor, str | None, int, str]:
    from liveseg.runtime import load

    segmenter = load(str(s.model), precision=s.precision, threads=s.threads)
    bundle, label = segmenter.bundle, f"{segmenter.bundle.name}-{segmenter.variant.precision}"
    return segmenter.predict, bundle.manifest.dataset, len(bundle.classes), label


def _checkpoint(s: EvalSettings) -> tuple[Predictor, str | None, int, str]:
    import torch

    from liveseg.evaluate.predictor import TorchPredictor
    from liveseg.models import checkpoint

    if s.threads:
        torch.set_num_threads(s.threads)
    ckpt = checkpoint.load(s.model)
    predictor = TorchPredictor.from_checkpoint(ckpt, s.device, s.scales, s.flip, s.window)
    label = f"{s.model.resolve().parent.name}-{s.model.stem}"
    return predictor, ckpt["dataset"]["name"], ckpt["model"]["num_classes"], label


def evaluate(
    predict: Predictor,
    dataset: SegmentationDataset,
    progress: Progress = QUIET,
    max_images: int | None = None,
    shift: str = "none",
) -> dict:
    """Accumulate one confusion matrix over the split (ignore pixels excluded) and return the report:
    miou, iou, pixel_acc, mean_acc, acc, pixels, confusion, classes, ignore_index, dataset, split, images, shift.
    `shift` names the change of look (`liveseg.evaluate.shifts`) each image gets before it is predicted."""
    if max_images is not None and max_images < 1:
        raise LivesegError(f"max_images is {max_images}; evaluate at least 1 image (None: the whole split).")
    change = SHIFTS.lookup(shift)[1]
    info = dataset.info
    n = len(dataset) if max_images is None else min(max_images, len(dataset))
    cm = ConfusionMatrix(info.num_classes)
    task = progress.add_task(f"evaluating {info.name} {dataset.split}", total=n)
    for i in range(n):
        image, label = dataset[i]
        pred = np.asarray(predict(change(image)))
        if pred.shape != label.shape:
            raise LivesegError(
                f"The predictor returned a {pred.shape} map for {dataset.image_path(i)} of size {label.shape}; "
                "predictions must match the image size."
            )
        if pred.size and int(pred.max()) >= info.num_classes:
            raise LivesegError(
                f"The predictor returned class {int(pred.max())} but {info.name} has {info.num_classes} classes; "
                "evaluate a model trained on this dataset."
            )
        cm.update(label, pred)
        progress.advance(task)
    return {
        "dataset": info.name,
        "split": dataset.split,
        "images": n,
        "classes": list(info.classes),
        "ignore_index": info.ignore_index,
        "shift": shift,
        **cm.summary(),
        "confusion": cm.matrix.tolist(),
    }
