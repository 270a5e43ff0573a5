"""`liveseg train --nproc 2`: two CPU processes (gloo) under torchrun write the one checkpoint format, their shared
validation is the checkpoint's own evaluation, and a run killed after an epoch resumes to the same end; each process
takes its own share of every epoch."""

from __future__ import annotations

import csv
import os
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import torch

from liveseg.data import get_dataset
from liveseg.errors import LivesegError
from liveseg.evaluate.evaluator import evaluate
from liveseg.evaluate.predictor import TorchPredictor
from liveseg.models import checkpoint
from liveseg.train import loop, train
from liveseg.train.data import EpochSampler
from tests.helpers import LIVESEG

EPOCHS = 4
# fast_scnn on 8 images of the tiny set: each process takes 4 per epoch, two steps of 2 (BatchNorm needs 2).
OPTIONS = ("--nproc", "2", "--model", "fast_scnn", "--epochs", str(EPOCHS), "--batch", "2", "--crop", "90x120",
           "--scale", "0.75,1.25", "--max-train-images", "8", "--threads", "1", "--workers", "0")  # fmt: skip


def _command(root: Path, out: Path, *extra: str) -> list[str]:
    return [LIVESEG, "train", *OPTIONS, "--data-root", str(root), "--out", str(out), *extra]


def _train(root: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(_command(root, out, *extra), capture_output=True, text=True, timeout=600, env=env)


def test_processes_share_each_epoch() -> None:
    alone = EpochSampler(range(11), seed=3)
    shares = [EpochSampler(range(11), seed=3, rank=rank, world_size=2) for rank in (0, 1)]
    for sampler in (alone, *shares):
        sampler.set_epoch(4)
    order = list(alone)
    assert [len(s) for s in shares] == [5, 5]  # equal shares: the epoch's last sample is left out
    assert list(shares[0]) == order[0:10:2] and list(shares[1]) == order[1:10:2]
    with pytest.raises(LivesegError, match="cannot be shared by 4 processes"):
        EpochSampler(range(3), seed=0, world_size=4)


def test_sync_bn_needs_gpus(tiny_camvid: Path, tmp_path: Path, small_config) -> None:
    with pytest.raises(LivesegError, match="--sync-bn"):
        loop.setup(small_config(tiny_camvid, tmp_path, device="cpu", sync_bn=True))


@pytest.fixture(scope="module")
def straight(tiny_camvid: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted two-process run."""
    out = tmp_path_factory.mktemp("straight")
    proc = _train(tiny_camvid, out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.slow
def test_checkpoint_is_the_single_process_format(straight: Path, tiny_camvid: Path, small_config) -> None:
    best = checkpoint.load(straight / "best.pt")
    assert best["train_config"]["world_size"] == 2
    assert not any(key.startswith("module.") for key in best["state_dict"])  # DDP's wrapper is not saved
    assert [int(r["epoch"]) for r in csv.DictReader((straight / "log.csv").open())] == list(range(1, EPOCHS + 1))
    # Each process validated one of the two val images; together they are the checkpoint's own evaluation.
    report = evaluate(TorchPredictor.from_checkpoint(straight / "best.pt", device="cpu"),
                      get_dataset("camvid", "val", tiny_camvid))  # fmt: skip
    assert report["images"] == 2
    assert report["miou"] == pytest.approx(best["metrics"]["miou"], abs=1e-3)
    # Its batches were those of two processes: one process may not resume it without --resume-force.
    same = dict(epochs=EPOCHS, scale=(0.75, 1.25), max_train_images=8, lr=1e-3, warmup_epochs=1.0, resume=True)
    with pytest.raises(LivesegError, match=r"other options \(--world-size 2 → 1\)"):
        train(small_config(tiny_camvid, straight, **same))


@pytest.mark.slow
def test_resume_after_kill(straight: Path, tiny_camvid: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    launcher = subprocess.Popen(_command(tiny_camvid, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not (out / "last.pt").exists() and launcher.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert launcher.poll() is None, "the run ended before it could be killed"
    processes = [psutil.Process(launcher.pid), *psutil.Process(launcher.pid).children(recursive=True)]
    for process in processes:
        process.kill()  # torchrun's agent and both training processes, as a crash or preemption would
    launcher.wait()
    assert checkpoint.load(out / "last.pt")["epoch"] < EPOCHS

    proc = _train(tiny_camvid, out, "--resume")
    assert proc.returncode == 0, proc.stderr
    assert "resuming" in proc.stderr
    resumed, uninterrupted = checkpoint.load(out / "last.pt"), checkpoint.load(straight / "last.pt")
    assert resumed["epoch"] == EPOCHS
    for key in ("state_dict", "raw_state_dict"):
        assert all(torch.equal(resumed[key][k], uninterrupted[key][k]) for k in uninterrupted[key])
    assert resumed["metrics"] == uninterrupted["metrics"]
