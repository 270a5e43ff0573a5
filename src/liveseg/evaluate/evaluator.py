"""Evaluation of any predictor over a dataset split: checkpoints (torch) and ONNX bundles share this code.

A predictor is a function `predict(image: HxWx3 uint8 RGB) -> HxW integer class ids` at the image's size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from liveseg.data import SegmentationDataset
from liveseg.errors import LivesegError
from liveseg.evaluate.metrics import ConfusionMatrix
from liveseg.progress import QUIET, Progress

Predictor = Callable[[np.ndarray], np.ndarray]


def evaluate(
    predict: Predictor, dataset: SegmentationDataset, progress: Progress = QUIET, max_images: int | None = None
) -> dict:
    """Accumulate one confusion matrix over the split (ignore pixels excluded) and return the report:
    miou, iou, pixel_acc, mean_acc, acc, pixels, confusion, classes, ignore_index, dataset, split, images."""
    if max_images is not None and max_images < 1:
        raise LivesegError(f"max_images is {max_images}; evaluate at least 1 image (None: the whole split).")
    info = dataset.info
    n = len(dataset) if max_images is None else min(max_images, len(dataset))
    cm = ConfusionMatrix(info.num_classes)
    task = progress.add_task(f"evaluating {info.name} {dataset.split}", total=n)
    for i in range(n):
        image, label = dataset[i]
        pred = np.asarray(predict(image))
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
        **cm.summary(),
        "confusion": cm.matrix.tolist(),
    }
