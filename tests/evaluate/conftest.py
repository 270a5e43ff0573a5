"""A real (briefly trained) checkpoint to evaluate."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from liveseg.train import TrainConfig, train


@pytest.fixture(scope="session")
def checkpoint_path(camvid_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(model="fast_scnn", data_root=str(camvid_root), out=str(out), epochs=1, batch=2, crop=(64, 64),
                      max_train_images=2, max_val_images=1, workers=0, threads=1)  # fmt: skip
    train(cfg, console=Console(file=io.StringIO()))
    return out / "best.pt"
