"""`liveseg bench train` runs every pipeline through the real training step and writes well-formed JSON."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import LIVESEG


@pytest.mark.slow  # four training pipelines in a subprocess: tens of seconds on the shared 2 cores
def test_train_bench_reports_each_pipeline(camvid_root: Path, tmp_path: Path) -> None:
    args = ["bench", "train", "--data-root", str(camvid_root), "--crop", "64x96", "--batch", "2", "--steps", "1",
            "--warmup", "0", "--threads", "1", "--out", str(tmp_path)]  # fmt: skip
    res = subprocess.run([LIVESEG, *args], capture_output=True, text=True, timeout=300, env={**os.environ})
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "train.json").read_text())
    names = [r["pipeline"] for r in report["results"]]
    assert names == ["files, fp32", "files, bf16", "memory, fp32", "memory, bf16"]  # compile only on request
    for row in report["results"]:
        assert row["img_per_s"] > 0 and row["step_ms_per_batch"] > 0 and row["data_ms_per_batch"] >= 0
        assert row["pipeline"] in res.stdout
    assert report["crop"] == [64, 96] and report["batch"] == 2 and report["command"].startswith("liveseg bench train")
