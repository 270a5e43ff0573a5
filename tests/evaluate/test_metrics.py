"""Metrics and the evaluator against numbers worked out by hand, including ignore and absent classes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg.data import get_dataset
from liveseg.errors import LivesegError
from liveseg.evaluate.evaluator import evaluate
from liveseg.evaluate.metrics import ConfusionMatrix, confusion_matrix, score

V = 11  # CamVid's void / ignore index
GT = [np.array([[0, 0, 1], [1, V, 3]]), np.array([[3, 3, V], [0, V, V]])]
PRED = [np.array([[0, 1, 1], [1, 0, 3]]), np.array([[3, 8, 5], [0, 2, 2]])]
# Counted by hand over the labelled pixels of both maps (void pixels, whatever predicted there, drop out):
#   (gt, pred): (0,0) x2, (0,1) x1, (1,1) x2, (3,3) x2, (3,8) x1  -> 8 pixels, 6 correct
#   class 0: TP 2, in gt 3, predicted 2 -> IoU 2 / (3 + 2 - 2) = 2/3
#   class 1: TP 2, in gt 2, predicted 3 -> IoU 2/3
#   class 3: TP 2, in gt 3, predicted 2 -> IoU 2/3
#   class 8: never in gt, predicted once on a labelled pixel -> IoU 0, counted
#   classes 2, 4, 5, 6, 7, 9, 10: absent from gt and (labelled-pixel) predictions -> undefined, excluded
EXPECTED_IOU = [2 / 3, 2 / 3, None, 2 / 3, None, None, None, None, 0.0, None, None]
EXPECTED_MIOU = (2 / 3 + 2 / 3 + 2 / 3 + 0.0) / 4
EXPECTED_ACC = [2 / 3, 1.0, None, 2 / 3, None, None, None, None, None, None, None]


def _check(summary: dict) -> None:
    assert summary["miou"] == pytest.approx(EXPECTED_MIOU)
    assert summary["iou"] == pytest.approx(EXPECTED_IOU)
    assert summary["pixel_acc"] == pytest.approx(6 / 8)
    assert summary["acc"] == pytest.approx(EXPECTED_ACC)
    assert summary["mean_acc"] == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    assert summary["pixels"] == 8


def test_confusion_matrix_by_hand() -> None:
    cm = ConfusionMatrix(11)
    for gt, pred in zip(GT, PRED, strict=True):
        cm.update(gt.astype(np.uint8), pred.astype(np.uint8))
    assert cm.matrix[0, 0] == 2 and cm.matrix[3, 8] == 1 and cm.matrix.sum() == 8
    _check(cm.summary())


def test_bad_prediction_maps() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        confusion_matrix(GT[0], PRED[0][:1], 11)
    with pytest.raises(ValueError, match=r"class ids in 0\.\.10"):
        confusion_matrix(GT[0], PRED[0] + 10, 11)


@pytest.fixture
def hand_made_camvid(tmp_path: Path) -> Path:
    """A CamVid-layout val split holding the two hand-made label maps (images are plain grey)."""
    for sub in ("val", "valannot"):
        (tmp_path / sub).mkdir()
    for i, gt in enumerate(GT):
        Image.fromarray(np.full((*gt.shape, 3), 128, np.uint8)).save(tmp_path / "val" / f"{i}.png")
        Image.fromarray(gt.astype(np.uint8)).save(tmp_path / "valannot" / f"{i}.png")
    return tmp_path


def test_evaluator_over_a_split(hand_made_camvid: Path) -> None:
    predictions = iter(PRED)
    report = evaluate(lambda image: next(predictions), get_dataset("camvid", "val", hand_made_camvid))
    _check(report)
    assert report["images"] == 2 and report["split"] == "val" and report["classes"][8] == "Car"
    assert np.array(report["confusion"]).sum() == 8
    first_only = evaluate(lambda image: PRED[0], get_dataset("camvid", "val", hand_made_camvid), max_images=1)
    assert first_only["images"] == 1 and first_only["pixel_acc"] == pytest.approx(4 / 5)


def test_evaluator_rejects_wrong_size_predictions(hand_made_camvid: Path) -> None:
    ds = get_dataset("camvid", "val", hand_made_camvid)
    with pytest.raises(LivesegError, match="must match the image size"):
        evaluate(lambda image: np.zeros((4, 4), np.uint8), ds)
    with pytest.raises(LivesegError, match="has 11 classes"):
        evaluate(lambda image: np.full(image.shape[:2], 20, np.uint8), ds)


def test_metrics_evaluator_and_report_need_no_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import liveseg.evaluate.metrics, liveseg.evaluate.evaluator, liveseg.evaluate.report\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def test_score_is_one_matrix_over_every_pair() -> None:
    """Not the mean of per-image mIoUs: a class missing from one image still counts from the others."""
    gt_a, pred_a = np.array([[0, 0], [1, 1]]), np.array([[0, 0], [1, 0]])
    gt_b, pred_b = np.array([[2, 2], [0, 255]]), np.array([[2, 1], [0, 0]])
    whole = ConfusionMatrix(3)
    whole.update(gt_a, pred_a), whole.update(gt_b, pred_b)
    assert score([(gt_a, pred_a), (gt_b, pred_b)], 3) == whole.summary()
