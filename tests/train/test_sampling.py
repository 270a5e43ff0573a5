"""Rare-class sampling draws rare classes more often, keeps an epoch's length and its determinism, and is wired
from `--rare-class-sampling` into the training loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from liveseg.data import get_dataset, label_histograms
from liveseg.errors import LivesegError
from liveseg.train import TrainConfig, loop
from liveseg.train.data import EpochSampler, epoch_sampler
from liveseg.train.sampling import MIN_SHARE, RareClassSampling

# Four images of about 1000 pixels: class 0 everywhere, class 1 on two images, class 2 on the last one only,
# class 3 never, class 4 below the share that counts as shown.
HISTOGRAMS = np.array([[1000, 0, 0, 0, 0], [600, 400, 0, 0, 0], [700, 300, 0, 0, 0], [899, 0, 100, 0, 1]])


def _rare(temperature: float = 0.1) -> RareClassSampling:
    return RareClassSampling.from_histograms(HISTOGRAMS, temperature)


def test_rarer_classes_are_drawn_more_and_absent_ones_never() -> None:
    p = _rare().probabilities
    assert p[2] > p[1] > p[0] > 0 and p[3] == p[4] == 0 and p.sum() == pytest.approx(1.0)
    assert 1 / HISTOGRAMS[3].sum() < MIN_SHARE  # class 4's single pixel is under the share
    flat = _rare(temperature=1e6).probabilities
    assert np.allclose(flat[:3], 1 / 3)  # a high temperature draws the shown classes alike
    assert [list(images) for images in _rare().images[:3]] == [[0, 1, 2, 3], [1, 2], [3]]


def test_draws_follow_the_class_probabilities() -> None:
    rare = _rare()
    draws = rare.draw(torch.Generator().manual_seed(0), 20_000)
    assert draws.shape == (20_000,) and set(draws.tolist()) <= {0, 1, 2, 3}
    # Image 3 is the only one showing class 2, and one of four showing class 0.
    p = rare.probabilities
    expected = p[2] + p[0] / 4
    assert (draws == 3).float().mean().item() == pytest.approx(expected, abs=0.015)
    again = rare.draw(torch.Generator().manual_seed(0), 20_000)
    assert torch.equal(draws, again)


def test_an_epoch_keeps_its_length_order_per_epoch_and_shares() -> None:
    alone = EpochSampler(range(4), seed=5, rare=_rare())
    shares = [EpochSampler(range(4), seed=5, rank=rank, world_size=2, rare=_rare()) for rank in (0, 1)]
    for sampler in (alone, *shares):
        sampler.set_epoch(7)
    order = list(alone)
    assert len(order) == len(alone) == 4 and all(epoch == 7 for epoch, _ in order)
    assert list(shares[0]) == order[0::2] and list(shares[1]) == order[1::2]
    epochs = []
    for epoch in range(6):
        alone.set_epoch(epoch)
        epochs.append([index for _, index in alone])
    assert len({tuple(e) for e in epochs}) > 1
    assert sum(e.count(3) for e in epochs) > sum(e.count(0) for e in epochs)


def test_no_image_showing_a_class_is_one_sentence() -> None:
    with pytest.raises(LivesegError, match="no image showing any class"):
        RareClassSampling.from_histograms(np.zeros((3, 4), dtype=np.int64), 0.01)
    with pytest.raises(LivesegError, match=r"--rare-class-sampling -1\.0 is not a temperature"):
        TrainConfig(rare_class_sampling=-1.0)


def test_camvid_cyclists_are_seen_more_often(camvid_root: Path) -> None:
    data = get_dataset("camvid", "train:0001TP+train:0016E5", root=camvid_root)
    sampler = epoch_sampler(data, seed=0, max_images=None, rare_temperature=0.01)
    assert sampler.rare is not None
    histograms = label_histograms(data)[:, : len(data.info.classes)]
    rarest = [data.info.classes[c] for c in np.argsort(histograms.sum(axis=0))[:5]]
    drawn = [part.split()[0] for part in sampler.rare.describe(data.info.classes).split(", ")]
    assert drawn == rarest  # Bicyclist, Pedestrian, Pole, SignSymbol, Fence
    shown = histograms[:, data.info.classes.index("Bicyclist")] >= MIN_SHARE * 480 * 360
    draws = []
    for epoch in range(10):
        sampler.set_epoch(epoch)
        draws += [index for _, index in sampler]
    assert len(draws) == 10 * len(data)
    assert shown[draws].mean() > 1.4 * shown.mean() > 0  # a third of the images; half of the draws


def test_the_option_reaches_the_loader(tiny_camvid: Path, tmp_path: Path, small_config) -> None:
    _, loader, _ = loop.setup(small_config(tiny_camvid, tmp_path, rare_class_sampling=0.01))
    assert isinstance(loader.sampler.rare, RareClassSampling)
    _, plain, _ = loop.setup(small_config(tiny_camvid, tmp_path))
    assert plain.sampler.rare is None
