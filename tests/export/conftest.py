"""A real, briefly trained CamVid checkpoint and the bundle `liveseg export` makes of it (once per session)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import LIVESEG

SIZE = (96, 128)
EVAL_IMAGES = 16


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, camvid_root: Path) -> Path:
    """Fast-SCNN trained for a few seconds on whole CamVid images downscaled to about the bundle size.

    Long enough to reach ~0.15-0.2 val mIoU: a model that predicts one class everywhere would pass any
    parity check, so the checks would prove nothing.
    """
    from liveseg.train.config import TrainConfig
    from liveseg.train.loop import train

    out = tmp_path_factory.mktemp("train")
    cfg = TrainConfig(
        model="fast_scnn",
        data_root=str(camvid_root),
        out=str(out),
        epochs=6,
        batch=8,
        crop=SIZE,
        scale=(0.27, 0.3),  # 360x480 → ~100x135: the crop sees nearly the whole scene, as the bundle does
        device="cpu",
        amp=False,
        lr=1e-2,
        warmup_epochs=0.0,
        workers=0,
        max_train_images=96,
        max_val_images=2,
        threads=1,  # under CPU contention, more threads spin-wait (BENCHMARKS.md, "Design measurements")
    )
    train(cfg)
    return out / "best.pt"


@dataclass(frozen=True)
class Exported:
    root: Path
    stdout: str
    size: tuple[int, int] = SIZE
    eval_images: int = EVAL_IMAGES


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory, checkpoint: Path, camvid_root: Path) -> Exported:
    out = tmp_path_factory.mktemp("bundle") / "camvid-fast-scnn"
    proc = subprocess.run(
        [LIVESEG, "export", str(checkpoint), "--size", f"{SIZE[0]}x{SIZE[1]}", "--out", str(out),
         "--data-root", str(camvid_root), "--calib-images", "16", "--parity-images", "8",
         "--eval-images", str(EVAL_IMAGES), "--name", "test-fast-scnn"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return Exported(out, proc.stdout)
