"""Checkpoints follow docs/ARCHITECTURE.md and fail clearly when damaged; distillation trains end to end."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from liveseg import models
from liveseg.data import NORMALIZATION
from liveseg.errors import LivesegError
from liveseg.models import checkpoint
from liveseg.train import TrainConfig, train
from liveseg.train.distill import distillation_loss, load_teacher


def test_checkpoint_contents_and_model(checkpoint_path: Path) -> None:
    ckpt = checkpoint.load(checkpoint_path)
    assert ckpt["format"] == "liveseg-checkpoint/1"
    assert ckpt["model"] == {"name": "fast_scnn", "num_classes": 11, "kwargs": {}}
    assert ckpt["dataset"]["classes"][0] == "Sky" and ckpt["dataset"]["ignore_index"] == 11
    assert ckpt["dataset"]["palette"][0] == [128, 128, 128]
    assert ckpt["normalization"] == {k: list(v) for k, v in NORMALIZATION.items()}
    assert ckpt["train_config"]["crop"] == [90, 120] and ckpt["epoch"] == 1
    assert set(ckpt["metrics"]) >= {"miou", "iou", "pixel_acc"} and ckpt["best_miou"] == ckpt["metrics"]["miou"]
    assert "optimizer" not in ckpt  # best.pt is the slim form
    net = checkpoint.build_model(ckpt)
    assert not net.training
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 45, 60)).shape == (1, 11, 45, 60)


def test_bad_checkpoints_raise_one_sentence(tmp_path: Path, checkpoint_path: Path) -> None:
    with pytest.raises(LivesegError, match="does not exist"):
        checkpoint.load(tmp_path / "absent.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(checkpoint_path.read_bytes()[:1000])
    with pytest.raises(LivesegError, match="damaged or not a liveseg checkpoint"):
        checkpoint.load(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save(models.create("fast_scnn", num_classes=11).state_dict(), foreign)
    with pytest.raises(LivesegError, match="is not a liveseg checkpoint"):
        checkpoint.load(foreign)
    ckpt = checkpoint.load(checkpoint_path)
    ckpt["model"]["name"] = "ddrnet_tiny"
    with pytest.raises(LivesegError, match="do not fit model ddrnet_tiny"):
        checkpoint.build_model(ckpt)


def test_distillation_loss_by_hand() -> None:
    # One pixel, two classes. T=1: teacher softmax (0.75, 0.25), student (0.5, 0.5).
    teacher = torch.tensor([math.log(3.0), 0.0]).view(1, 2, 1, 1)
    student = torch.zeros(1, 2, 1, 1)
    target = torch.zeros(1, 1, 1, dtype=torch.long)
    kl = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    assert distillation_loss(student, teacher, target, 255, 1.0).item() == pytest.approx(kl, rel=1e-6)
    # T=2 softens the teacher to softmax(log(3)/2, 0) = (√3, 1)/(√3+1) and scales by T² = 4.
    p = math.sqrt(3) / (math.sqrt(3) + 1)
    kl2 = p * math.log(p / 0.5) + (1 - p) * math.log((1 - p) / 0.5)
    assert distillation_loss(student, teacher, target, 255, 2.0).item() == pytest.approx(4 * kl2, rel=1e-6)
    assert distillation_loss(student, student, target, 255, 2.0).item() == pytest.approx(0.0, abs=1e-7)
    ignored = torch.full_like(target, 255)
    assert distillation_loss(student, teacher, ignored, 255, 2.0).item() == 0.0


def test_training_with_a_teacher_adds_the_weighted_kl(
    tiny_camvid: Path, checkpoint_path: Path, tmp_path: Path, small_config
) -> None:
    # lr 0 freezes the student and loading a teacher leaves the seeded RNG alone (same dropout masks), so the
    # student's cross-entropy is the same in every run and the logged loss differs by distill_weight x the KL.
    def loss(name: str, **options) -> float:
        cfg = small_config(tiny_camvid, tmp_path / name, lr=0.0, max_val_images=1, **options)
        run = train(cfg)
        if options:
            assert run.teacher is not None and not any(p.requires_grad for p in run.teacher.parameters())
        return float(run.history[-1]["train_loss"])

    plain = loss("plain")
    once = loss("once", teacher=str(checkpoint_path))
    twice = loss("twice", teacher=str(checkpoint_path), distill_weight=2.0)
    assert once - plain > 1e-3
    assert twice - plain == pytest.approx(2 * (once - plain), abs=1e-4)
    assert checkpoint.load(tmp_path / "once" / "last.pt")["train_config"]["teacher"] == str(checkpoint_path)


def test_teacher_for_other_classes_is_refused(checkpoint_path: Path, tmp_path: Path) -> None:
    ckpt = checkpoint.load(checkpoint_path)
    ckpt["model"]["num_classes"] = 21
    other = tmp_path / "voc.pt"
    checkpoint.save(other, ckpt)
    with pytest.raises(LivesegError, match="predicts 21 classes but the student 11"):
        load_teacher(str(other), 11, torch.device("cpu"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ema": 1.5}, "--ema 1.5 is not a decay"),
        ({"optimizer": "adam"}, "Unknown optimizer 'adam'; choose one of adamw, sgd."),
        ({"loss": "dice"}, "Unknown loss 'dice'"),
        ({"epochs": 0}, "at least 1"),
    ],
)
def test_bad_options_fail_before_any_work(options: dict, message: str) -> None:
    with pytest.raises(LivesegError, match=message):
        TrainConfig(**options)
