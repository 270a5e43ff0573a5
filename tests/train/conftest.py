"""Tiny CamVid-layout datasets built from real CamVid pairs, small enough to train on in seconds."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console

from liveseg.data import get_dataset
from liveseg.train import TrainConfig, train

SIZE = (120, 90)  # width, height: CamVid downscaled 4x


@pytest.fixture(scope="session")
def tiny_camvid(tmp_path_factory: pytest.TempPathFactory, camvid_root: Path) -> Path:
    """Two real CamVid images at 90x120: 16 copies each for training (interleaved, so the first N hold both)
    and each once for validation; copies make an epoch several steps long without more decoding work."""
    root = tmp_path_factory.mktemp("tiny_camvid")
    for sub in ("train", "trainannot", "val", "valannot"):
        (root / sub).mkdir()
    for k, (image, label) in enumerate(get_dataset("camvid", "train", root=camvid_root).pairs[:2]):
        im = Image.open(image).convert("RGB").resize(SIZE, Image.Resampling.BILINEAR)
        lab = Image.open(label).resize(SIZE, Image.Resampling.NEAREST)
        im.save(root / "val" / f"{k}.png")
        lab.save(root / "valannot" / f"{k}.png")
        for c in range(16):
            im.save(root / "train" / f"{c:02d}_{k}.png")
            lab.save(root / "trainannot" / f"{c:02d}_{k}.png")
    return root


def _small_config(root: Path, out: Path, **overrides) -> TrainConfig:
    """fast_scnn on the tiny set, one thread (the test machine's cores are shared), no worker processes."""
    kw = dict(model="fast_scnn", data_root=str(root), out=str(out), batch=2, crop=(90, 120), scale=(1.0, 1.0),
              lr=5e-3, warmup_epochs=0.2, workers=0, threads=1, epochs=1, max_train_images=4)  # fmt: skip
    return TrainConfig(**{**kw, **overrides})


@pytest.fixture(scope="session")
def small_config():
    """`small_config(out, **overrides)`: a TrainConfig for the tiny set."""
    return _small_config


@pytest.fixture
def quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


@pytest.fixture(scope="session")
def trained_checkpoint(tiny_camvid: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """best.pt of a one-epoch run: a real checkpoint for the checkpoint and distillation tests."""
    out = tmp_path_factory.mktemp("run")
    train(_small_config(tiny_camvid, out), console=Console(file=io.StringIO()))
    return out / "best.pt"
