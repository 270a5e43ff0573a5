"""Batched tensor augmentation: label integrity, ignore padding, one geometry for image and label, seeding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from liveseg.data import NORMALIZATION, get_dataset
from liveseg.data.loader import to_tensor
from liveseg.train.augment import AugmentParams, BatchAugment
from liveseg.train.data import epoch_sampler, memory_loader, sample_seed

IGNORE = 11
TOL = 1e-4  # float rounding of the sampling grid; one grey level is 0.017 after normalisation


def _params(
    n: int,
    scale: float,
    top: int,
    left: int,
    flip: bool,
    jitter=(1.0, 1.0, 1.0, 0.0),
    blur: float = 0.0,
    gains=(1.0, 1.0, 1.0),
) -> AugmentParams:
    return AugmentParams(
        scale=torch.full((n,), scale, dtype=torch.float64),
        top=torch.full((n,), top),
        left=torch.full((n,), left),
        flip=torch.full((n,), flip),
        jitter=torch.tensor([jitter] * n, dtype=torch.float32),
        blur=torch.full((n,), blur),
        gains=torch.tensor([gains] * n, dtype=torch.float32),
    )


@pytest.fixture(scope="module")
def camvid_pair(camvid_root: Path) -> tuple[torch.Tensor, torch.Tensor]:
    image, label = get_dataset("camvid", "train", root=camvid_root)[0]
    return torch.from_numpy(image)[None], torch.from_numpy(label)[None]


def test_identity_crop_is_exact(camvid_pair) -> None:
    images, labels = camvid_pair
    aug = BatchAugment(crop=(360, 480), ignore_index=IGNORE)
    x, y = aug.apply(images, labels, _params(1, 1.0, 0, 0, False))
    assert torch.equal(y, labels.long())
    assert torch.allclose(
        x[0], to_tensor(images[0].numpy()), atol=1e-4
    )  # float rounding, far below one grey level (0.017)


def test_crop_and_flip_move_image_and_label_together(camvid_pair) -> None:
    images, labels = camvid_pair
    aug = BatchAugment(crop=(200, 300), ignore_index=IGNORE)
    x, y = aug.apply(images, labels, _params(1, 1.0, 40, 100, True))
    window = labels[0, 40:240, 100:400].long()
    assert torch.equal(y[0], window.flip(-1))
    assert torch.allclose(
        x[0], to_tensor(images[0, 40:240, 100:400].numpy()).flip(-1), atol=1e-4
    )  # float rounding, far below one grey level (0.017)


def test_scaling_invents_no_label_ids_and_pads_with_ignore(camvid_pair) -> None:
    images, labels = camvid_pair
    aug = BatchAugment(crop=(256, 320), ignore_index=IGNORE)
    present = set(labels.unique().tolist())
    # Scale 0.5: the 180x240 image sits at (10, 30) inside the 256x320 crop, the rest is padding.
    x, y = aug.apply(images, labels, _params(1, 0.5, -10, -30, False))
    inside = y[0, 10:190, 30:270]
    assert set(inside.unique().tolist()) <= present
    assert (y[0, :10] == IGNORE).all() and (y[0, 190:] == IGNORE).all() and (y[0, :, 300:] == IGNORE).all()
    assert (x[0, :, :10] == 0).all() and (x[0, :, :, 300:] == 0).all()  # padding is the mean colour
    # Nearest-neighbour downscale by 2 picks source pixels: every label equals one of its 2x2 source block.
    blocks = labels[0].long().unfold(0, 2, 2).unfold(1, 2, 2).reshape(180, 240, 4)
    assert ((blocks == inside.unsqueeze(-1)).any(-1)).all()
    up_x, up_y = aug.apply(images, labels, _params(1, 1.7, 50, 60, False))
    # Inside the image there is no padding: each output label is its nearest source pixel's (float32 grid
    # rounding may pick the neighbour where a sample falls on a pixel boundary).
    rows = ((50 + torch.arange(256) + 0.5) / 1.7).floor().long()
    cols = ((60 + torch.arange(320) + 0.5) / 1.7).floor().long()
    source = labels[0].long()
    near = [source[(rows + dy).clamp(0, 359)][:, (cols + dx).clamp(0, 479)] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    assert (up_y[0] == near[4]).float().mean() > 0.995
    assert torch.stack([up_y[0] == n for n in near]).any(0).all()
    assert up_x.shape == (1, 3, 256, 320) and up_x.dtype == torch.float32


def test_ignore_index_in_the_source_stays_ignore() -> None:
    images = torch.randint(0, 256, (1, 64, 80, 3), dtype=torch.uint8)
    labels = torch.randint(0, 3, (1, 64, 80), dtype=torch.uint8)
    labels[0, :8] = 255
    _, y = BatchAugment(crop=(48, 64), ignore_index=255).apply(images, labels, _params(1, 1.0, 0, 0, False))
    assert (y[0, :8] == 255).all() and set(y[0, 8:].unique().tolist()) <= {0, 1, 2}


def test_photometric_jitter_changes_colours_only(camvid_pair) -> None:
    images, labels = camvid_pair
    aug = BatchAugment(crop=(360, 480), ignore_index=IGNORE)
    plain, y0 = aug.apply(images, labels, _params(1, 1.0, 0, 0, False))
    jittered, y1 = aug.apply(images, labels, _params(1, 1.0, 0, 0, False, (1.2, 0.8, 1.1, 0.03)))
    assert torch.equal(y0, y1)
    assert (plain - jittered).abs().mean() > 0.05
    mean, std = torch.tensor(NORMALIZATION["mean"]), torch.tensor(NORMALIZATION["std"])
    pixels = jittered[0].permute(1, 2, 0) * std + mean
    assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5


def test_draws_depend_only_on_the_seed() -> None:
    aug = BatchAugment(crop=(256, 320), scale=(0.5, 2.0))
    a = aug.draw([(360, 480), (360, 480)], [1, 2])
    b = aug.draw([(360, 480)], [2])
    assert a.scale[1] == b.scale[0] and a.top[1] == b.top[0] and torch.equal(a.jitter[1], b.jitter[0])
    many = aug.draw([(360, 480)] * 200, list(range(200)))
    assert many.scale.min() >= 0.5 and many.scale.max() <= 2.0 and 0.3 < many.flip.float().mean() < 0.7
    for s, top, left in zip(many.scale.tolist(), many.top.tolist(), many.left.tolist(), strict=True):
        h, w = round(360 * s), round(480 * s)
        assert min(0, h - 256) <= top <= max(0, h - 256) and min(0, w - 320) <= left <= max(0, w - 320)


def test_memory_loader_matches_the_file_reader_and_is_deterministic(tiny_camvid: Path) -> None:
    data = get_dataset("camvid", "train", root=tiny_camvid)
    loader = memory_loader(
        data, BatchAugment((64, 96), (0.75, 1.5), IGNORE), 4, epoch_sampler(data, seed=3, max_images=8)
    )
    for i in (0, 5):
        image, label = data[i]
        assert np.array_equal(loader.images[i].numpy(), image) and np.array_equal(loader.labels[i].numpy(), label)
    loader.sampler.set_epoch(2)
    first = list(loader)
    again = memory_loader(
        data, BatchAugment((64, 96), (0.75, 1.5), IGNORE), 4, epoch_sampler(data, seed=3, max_images=8)
    )
    again.sampler.set_epoch(2)
    assert len(first) == len(again) == 2
    for (x0, y0), (x1, y1) in zip(first, again, strict=True):
        assert torch.equal(x0, x1) and torch.equal(y0, y1)
    # A sample's augmentation does not depend on its batch-mates: one key alone gives the same crop.
    key = list(loader.sampler)[1]
    alone_x, _ = loader.make_batch([key])
    assert torch.equal(alone_x[0], first[0][0][1])
    assert sample_seed(3, *key) != sample_seed(3, key[0] + 1, key[1])
    loader.sampler.set_epoch(3)
    assert not torch.equal(next(iter(loader))[0], first[0][0])


def test_images_of_different_sizes_are_augmented_one_by_one(tiny_camvid: Path) -> None:
    data = get_dataset("camvid", "train", root=tiny_camvid)
    loader = memory_loader(
        data, BatchAugment((64, 96), (1.0, 1.0), IGNORE), 2, epoch_sampler(data, seed=0, max_images=2)
    )
    loader.images[1] = loader.images[1][:80, :100].contiguous()
    loader.labels[1] = loader.labels[1][:80, :100].contiguous()
    x, y = loader.make_batch([(0, 0), (0, 1)])
    assert x.shape == (2, 3, 64, 96) and y.shape == (2, 64, 96)
    assert torch.equal(loader.make_batch([(0, 1)])[1][0], y[1])


def test_blur_softens_the_image_and_keeps_labels_and_mean(camvid_pair) -> None:
    images, labels = camvid_pair
    aug = BatchAugment(crop=(360, 480), ignore_index=IGNORE)
    sharp, y_sharp = aug.apply(images, labels, _params(1, 1.0, 0, 0, False))
    soft, y_soft = aug.apply(images, labels, _params(1, 1.0, 0, 0, False, blur=1.5))
    assert torch.equal(y_sharp, y_soft)
    edges = lambda x: (x[..., 1:] - x[..., :-1]).abs().mean()  # noqa: E731
    assert edges(soft) < 0.6 * edges(sharp)
    assert abs(soft.mean() - sharp.mean()) < 1e-3  # a normalised kernel moves no brightness


def test_blur_is_drawn_with_its_probability() -> None:
    never = BatchAugment(crop=(8, 8)).draw([(10, 10)] * 200, list(range(200)))
    sometimes = BatchAugment(crop=(8, 8), blur=0.3).draw([(10, 10)] * 200, list(range(200)))
    assert torch.equal(never.scale, sometimes.scale) and torch.equal(never.jitter, sometimes.jitter)
    assert not never.blur.any()
    drawn = sometimes.blur[sometimes.blur > 0]
    assert 40 <= len(drawn) <= 80 and drawn.min() >= 0.3 and drawn.max() <= 1.5


def test_white_balance_scales_each_channel_and_keeps_labels(camvid_pair) -> None:
    images, labels = camvid_pair
    aug = BatchAugment(crop=(360, 480), ignore_index=IGNORE)
    plain, y_plain = aug.apply(images, labels, _params(1, 1.0, 0, 0, False))
    warm, y_warm = aug.apply(images, labels, _params(1, 1.0, 0, 0, False, gains=(1.15, 1.0, 0.8)))
    assert torch.equal(y_plain, y_warm)
    mean, std = (torch.tensor(NORMALIZATION[k]).view(3, 1, 1) for k in ("mean", "std"))
    before, after = plain[0] * std + mean, warm[0] * std + mean
    unclipped = before.max(0).values < 0.8  # pixels no gain pushes past white
    ratio = after[:, unclipped].sum(1) / before[:, unclipped].sum(1)
    assert torch.allclose(ratio, torch.tensor([1.15, 1.0, 0.8]), atol=1e-3)


def test_white_balance_gains_are_drawn_in_their_range_and_leave_older_draws_alone() -> None:
    plain = BatchAugment(crop=(8, 8), blur=0.3).draw([(10, 10)] * 200, list(range(200)))
    balanced = BatchAugment(crop=(8, 8), blur=0.3, white_balance=0.2).draw([(10, 10)] * 200, list(range(200)))
    assert torch.equal(plain.gains, torch.ones(200, 3))
    assert torch.equal(plain.jitter, balanced.jitter) and torch.equal(plain.blur, balanced.blur)
    assert balanced.gains.min() >= 0.8 and balanced.gains.max() <= 1.2
    assert balanced.gains.std(0).min() > 0.1  # each channel drawn on its own, across the whole range
