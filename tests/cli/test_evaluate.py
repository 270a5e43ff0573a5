"""`liveseg eval` on a real checkpoint and real CamVid images, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from liveseg.cli import app
from liveseg.errors import LivesegError
from tests.helpers import LIVESEG


def _eval(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([LIVESEG, "eval", *args], env=env, capture_output=True, text=True, timeout=120)


def test_eval_writes_report_and_confusion_png(checkpoint_path: Path, camvid_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    res = _eval(str(checkpoint_path), "--data-root", str(camvid_root), "--max-images", "2", "--out", str(out),
                "--threads", "1")  # fmt: skip
    assert res.returncode == 0, res.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["images"] == 2 and report["dataset"] == "camvid" and report["split"] == "val"
    assert 0.0 <= report["miou"] <= 1.0 and len(report["iou"]) == 11
    assert np.array(report["confusion"]).sum() == report["pixels"] > 0.9 * 2 * 360 * 480
    assert "Bicyclist" in res.stdout and f"mIoU {report['miou']:.4f}" in res.stdout
    with Image.open(out / "confusion.png") as png:
        assert png.format == "PNG" and min(png.size) > 400


def test_eval_bad_inputs(tmp_path: Path) -> None:
    bogus = tmp_path / "model.pt"
    bogus.write_bytes(b"not a checkpoint")
    res = _eval(str(bogus))
    text = " ".join(res.stderr.split())
    assert res.returncode == 2 and text.startswith("error: ") and "damaged or not a liveseg checkpoint" in text
    folder = CliRunner().invoke(app, ["eval", str(tmp_path)])
    assert isinstance(folder.exception, LivesegError) and "without manifest.json" in str(folder.exception)
    window = CliRunner().invoke(app, ["eval", str(bogus), "--window", "64"])
    assert isinstance(window.exception, LivesegError) and "HEIGHTxWIDTH" in str(window.exception)


def test_eval_of_the_embedded_bundle(camvid_root: Path, tmp_path: Path) -> None:
    """The same evaluator runs an exported bundle through onnxruntime; the embedded default model is trained."""
    out = tmp_path / "bundle"
    res = _eval("default", "--data-root", str(camvid_root), "--max-images", "2", "--out", str(out), "--threads", "1")
    assert res.returncode == 0, res.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["source"] == "default" and report["images"] == 2
    assert report["pixel_acc"] > 0.6 and report["miou"] > 0.2, report["miou"]


def test_eval_refuses_a_dataset_with_other_classes(checkpoint_path: Path, tmp_path: Path) -> None:
    for sub in ("images/val", "masks/val"):
        (tmp_path / sub).mkdir(parents=True)
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "images/val/a.png")
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "masks/val/a.png")
    classes = [{"name": "background", "color": [0, 0, 0]}, {"name": "thing", "color": [255, 0, 0]}]
    (tmp_path / "classes.json").write_text(json.dumps({"classes": classes, "ignore_index": 255}))
    result = CliRunner().invoke(app, ["eval", str(checkpoint_path), "--data", "folder", "--data-root", str(tmp_path)])
    assert isinstance(result.exception, LivesegError)
    assert "predicts 11 classes (camvid) but folder has 2" in str(result.exception)
