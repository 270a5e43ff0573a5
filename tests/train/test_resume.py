"""An interrupted and resumed run ends exactly where an uninterrupted one does."""

from __future__ import annotations

import copy
import csv
import re
import shutil
from pathlib import Path

import pytest
import torch

from liveseg.errors import LivesegError
from liveseg.models import checkpoint
from liveseg.train import loop, train


def _stop_after(epochs: int):
    def hook(run) -> None:
        if run.epoch == epochs:
            raise KeyboardInterrupt

    return hook


def _assert_same_tensors(a, b) -> None:
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_same_tensors(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same_tensors(x, y)
    else:
        assert a == b


def test_resume_matches_uninterrupted_run(tiny_camvid: Path, tmp_path: Path, small_config) -> None:
    # EMA, dropout (fast_scnn has some) and augmentation all draw on state that resuming must restore.
    options = dict(epochs=3, ema=0.9, max_val_images=1, scale=(0.75, 1.25))
    after_two: dict = {}

    def keep_epoch_two(run) -> None:
        if run.epoch == 2:
            after_two.update(optimizer=copy.deepcopy(run.optimizer.state_dict()), model=run.model.state_dict())
            after_two["model"] = {k: v.clone() for k, v in after_two["model"].items()}

    train(small_config(tiny_camvid, tmp_path / "straight", **options), on_epoch_end=keep_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        train(small_config(tiny_camvid, tmp_path / "resumed", **options), on_epoch_end=_stop_after(2))
    assert checkpoint.load(tmp_path / "resumed" / "last.pt")["epoch"] == 2
    with pytest.raises(LivesegError, match="pass --resume"):
        train(small_config(tiny_camvid, tmp_path / "resumed", **options))

    # Resuming restores the state the uninterrupted run had after the same epoch, optimizer moments included.
    cfg = small_config(tiny_camvid, tmp_path / "resumed", resume=True, **options)
    restored, _, _ = loop.setup(cfg)
    loop.resume(restored, tmp_path / "resumed" / "last.pt")
    assert restored.epoch == 2 and restored.scheduler.last_epoch == 2 * 2  # two steps per epoch
    _assert_same_tensors(restored.optimizer.state_dict(), after_two["optimizer"])
    _assert_same_tensors(restored.model.state_dict(), after_two["model"])

    run = train(cfg)
    assert run.epoch == 3

    straight = checkpoint.load(tmp_path / "straight" / "last.pt")
    resumed = checkpoint.load(tmp_path / "resumed" / "last.pt")
    for key in ("state_dict", "raw_state_dict", "optimizer", "scheduler", "ema", "rng", "metrics", "best_miou"):
        _assert_same_tensors(straight[key], resumed[key])
    ema_weights, raw_weights = straight["state_dict"], straight["raw_state_dict"]
    assert any(not torch.equal(ema_weights[k], raw_weights[k]) for k in ema_weights)  # the EMA is a real average

    def rows(run: str) -> list[dict]:
        log = csv.DictReader((tmp_path / run / "log.csv").open())
        return [{k: v for k, v in r.items() if k != "seconds"} for r in log]

    assert rows("straight") == rows("resumed") and len(rows("resumed")) == 3


def test_resume_refuses_a_changed_recipe_unless_forced(
    checkpoint_path: Path, tiny_camvid: Path, tmp_path: Path, small_config
) -> None:
    shutil.copytree(checkpoint_path.parent, tmp_path / "run")  # the session's one-epoch `small_config` run
    longer = small_config(tiny_camvid, tmp_path / "run", epochs=2, lr=1e-3, max_val_images=1, resume=True)
    with pytest.raises(LivesegError, match=r"--epochs 1 → 2; --lr 0.005 → 0.001\); .*--resume-force"):
        train(longer)
    assert checkpoint.load(tmp_path / "run" / "last.pt")["epoch"] == 1
    # Options that do not change what is computed (validation subset, threads) may differ.
    same = small_config(tiny_camvid, tmp_path / "run", epochs=1, max_val_images=None, threads=2, resume=True)
    assert train(same).epoch == 1
    forced = small_config(tiny_camvid, tmp_path / "run", epochs=2, max_val_images=1, resume=True, resume_force=True)
    assert train(forced).epoch == 2


@pytest.mark.parametrize(
    ("key", "damage"),
    [("train_config", [1]), ("optimizer", "x"), ("rng", 3), ("history", 7), ("epoch", "2"), ("history", [1]),
     ("rng", {"python": 1}), ("optimizer", {"state": {}, "param_groups": 5})],
)  # fmt: skip
def test_a_damaged_resume_state_is_one_sentence(
    checkpoint_path: Path, tmp_path: Path, tiny_camvid: Path, small_config, key: str, damage
) -> None:
    ckpt = checkpoint.load(checkpoint_path.with_name("last.pt"))
    damaged = tmp_path / "last.pt"
    torch.save({**ckpt, key: damage}, damaged)
    run, _, _ = loop.setup(small_config(tiny_camvid, tmp_path, resume=True, resume_force=True))
    with pytest.raises(LivesegError, match=rf"^{re.escape(str(damaged))} has a damaged resume state \(.*\); resume "):
        loop.resume(run, damaged)
