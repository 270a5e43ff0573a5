"""Segmentation metrics from a confusion matrix accumulated over a whole split (numpy only, no torch).

Rows are ground truth, columns predictions. Pixels whose ground truth is the ignore index (or any id outside
0..C-1) are excluded before counting. A class that appears neither in the ground truth nor in the predictions
of the whole split has no defined IoU: it is reported as None and left out of the mean (mIoU), so a split
without, say, bicyclists is not rewarded or punished for them. A class present in the ground truth but never
predicted counts with IoU 0; one predicted but absent from the ground truth also counts with IoU 0.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def confusion_matrix(gt: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """C×C int64 counts of (ground truth, prediction) pairs; ground-truth ids outside 0..C-1 are ignored."""
    if gt.shape != pred.shape:
        raise ValueError(f"ground truth {gt.shape} and prediction {pred.shape} differ in shape")
    gt = gt.ravel().astype(np.int64, copy=False)
    pred = pred.ravel().astype(np.int64, copy=False)
    valid = (gt >= 0) & (gt < num_classes)
    if not valid.all():
        gt, pred = gt[valid], pred[valid]
    if pred.size and (pred.min() < 0 or pred.max() >= num_classes):
        raise ValueError(f"predictions must be class ids in 0..{num_classes - 1}")
    counts = np.bincount(gt * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


class ConfusionMatrix:
    """Running confusion matrix over many images; `summary()` gives the split's metrics."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.matrix = np.zeros((num_classes, num_classes), dtype=np.int64)

    def update(self, gt: np.ndarray, pred: np.ndarray) -> None:
        self.matrix += confusion_matrix(gt, pred, self.num_classes)

    def summary(self) -> dict:
        return summarize(self.matrix)


def score(pairs: Iterable[tuple[np.ndarray, np.ndarray]], num_classes: int) -> dict:
    """`summarize` of (ground truth, prediction) pairs accumulated into one matrix: the one way liveseg scores a
    set of predictions (evaluation, training's validation and export's judging all end here)."""
    cm = ConfusionMatrix(num_classes)
    for gt, pred in pairs:
        cm.update(gt, pred)
    return cm.summary()


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _nan_mean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else 0.0


def summarize(matrix: np.ndarray) -> dict:
    """miou, iou (per class, None where undefined), pixel_acc, mean_acc, acc (per class) and the pixel count."""
    tp = np.diag(matrix).astype(np.float64)
    gt_count = matrix.sum(axis=1)
    pred_count = matrix.sum(axis=0)
    iou = _ratio(tp, gt_count + pred_count - tp)
    acc = _ratio(tp, gt_count)
    total = int(matrix.sum())
    return {
        "miou": _nan_mean(iou),
        "iou": [None if np.isnan(v) else float(v) for v in iou],
        "pixel_acc": float(tp.sum() / total) if total else 0.0,
        "mean_acc": _nan_mean(acc),
        "acc": [None if np.isnan(v) else float(v) for v in acc],
        "pixels": total,
    }
