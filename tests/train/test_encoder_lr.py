"""`--encoder-lr-mult`: a pretrained encoder learns at a fraction of the decoder's rate, through the schedule and
a resume; models without an ImageNet encoder are refused before any data is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveseg.errors import LivesegError
from liveseg.train import TrainConfig, loop, train

LITE = "fpn_efficientnet_lite0"


def test_the_encoder_steps_at_its_fraction_of_the_rate(tiny_camvid: Path, tmp_path: Path, small_config) -> None:
    run, _, _ = loop.setup(small_config(tiny_camvid, tmp_path, model=LITE, encoder_lr_mult=0.1, lr=1e-3))
    encoder = {id(p) for p in run.model.encoder.parameters()}
    groups = run.optimizer.param_groups
    members = [[id(p) in encoder for p in g["params"]] for g in groups]
    assert [all(m) for m in members] == [False, False, True, True] and not any(any(m) for m in members[:2])
    assert sum(len(m) for m in members) == len(list(run.model.parameters()))
    assert [g["weight_decay"] for g in groups] == [0.01, 0.0, 0.01, 0.0]
    run.optimizer.step()  # no gradients yet: only the schedule moves
    run.scheduler.step()
    rates = [g["lr"] for g in groups]
    assert rates[0] == rates[1] and rates[2] == rates[3] and rates[2] == pytest.approx(0.1 * rates[0])


def test_without_the_option_the_groups_are_as_before(tiny_camvid: Path, tmp_path: Path, small_config) -> None:
    run, _, _ = loop.setup(small_config(tiny_camvid, tmp_path, model=LITE))
    decayed, plain = run.optimizer.param_groups
    assert all(p.ndim > 1 for p in decayed["params"]) and all(p.ndim <= 1 for p in plain["params"])


def test_a_resume_keeps_the_split(tiny_camvid: Path, tmp_path: Path, small_config) -> None:
    options = dict(model=LITE, max_train_images=2, resume=True, resume_force=True)
    train(small_config(tiny_camvid, tmp_path, model=LITE, encoder_lr_mult=0.5, max_train_images=2))
    with pytest.raises(LivesegError, match=r"--encoder-lr-mult 0\.5, which splits the parameters differently"):
        train(small_config(tiny_camvid, tmp_path, epochs=2, **options))
    run = train(small_config(tiny_camvid, tmp_path, encoder_lr_mult=0.5, epochs=2, **options))
    assert run.epoch == 2


def test_models_without_an_imagenet_encoder_are_refused_first(tmp_path: Path, small_config) -> None:
    config = small_config(tmp_path / "no-data", tmp_path, model="ddrnet_tiny", encoder_lr_mult=0.1)
    with pytest.raises(LivesegError, match="needs a model with an ImageNet encoder, which ddrnet_tiny lacks"):
        loop.setup(config)
    for bad in (0.0, 1.5):
        with pytest.raises(LivesegError, match=f"--encoder-lr-mult {bad} is not a fraction in"):
            TrainConfig(encoder_lr_mult=bad)
