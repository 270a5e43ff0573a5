"""The loop really learns: a small model overfits two CamVid images."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from liveseg.train import train


def test_fast_scnn_overfits_two_images(tiny_camvid: Path, tmp_path: Path, small_config, caplog) -> None:
    cfg = small_config(tiny_camvid, tmp_path, epochs=6, max_train_images=None, val_every=6)
    with caplog.at_level(logging.INFO, logger="liveseg.train"):
        run = train(cfg)
    # Validation on the two training images themselves, whole and unaugmented.
    assert run.metrics["pixel_acc"] >= 0.90, run.metrics
    assert run.best_miou == run.metrics["miou"] > 0.4
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r["val_miou"] == "" for r in rows] == [True] * 5 + [False]  # validated only every 6 epochs
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"]) / 2
    assert (tmp_path / "best.pt").is_file() and (tmp_path / "last.pt").is_file()
    lines = [r.getMessage() for r in caplog.records if r.name == "liveseg.train"]  # what `liveseg train` prints
    assert [line.split()[:2] for line in lines] == [["epoch", f"{e}/6"] for e in range(1, 7)]
    assert "val mIoU" in lines[-1] and "val mIoU" not in lines[0]
