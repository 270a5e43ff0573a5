from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from liveseg.data import NORMALIZATION, get_dataset
from liveseg.data.loader import SegmentationTorchDataset, to_tensor
from liveseg.data.transforms import MEAN_RGB, build_eval_transform, build_train_transform


@pytest.fixture(scope="module")
def samples(camvid_root: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    ds = get_dataset("camvid", "train", root=camvid_root)
    return [ds[i] for i in (0, 100, 200)]


@pytest.mark.parametrize("crop", [(256, 320), (512, 640)])
def test_train_transform_keeps_label_ids_and_crop_size(samples, crop: tuple[int, int]) -> None:
    transform = build_train_transform(crop=crop, ignore_index=11)
    transform.set_random_seed(0)
    for image, label in samples:
        allowed = set(np.unique(label).tolist()) | {11}
        for _ in range(4):
            out = transform(image=image, mask=label)
            assert out["image"].shape == (*crop, 3) and out["image"].dtype == np.uint8
            assert out["mask"].shape == crop and out["mask"].dtype == np.uint8
            assert set(np.unique(out["mask"]).tolist()) <= allowed  # nearest only: no blended ids


def test_padding_is_ignore_in_labels_and_mean_in_images(samples) -> None:
    image, label = samples[0]
    label = np.where(label == 11, 3, label).astype(np.uint8)  # no void, so every ignore pixel is padding
    transform = build_train_transform(crop=(360, 480), scale=(0.5, 0.5), ignore_index=255, jitter=0.0)
    out = transform(image=image, mask=label)
    pad = out["mask"] == 255
    assert pad.sum() == 360 * 480 - 180 * 240
    assert (out["image"][pad] == MEAN_RGB).all()
    assert not (out["image"][~pad] == MEAN_RGB).all(axis=-1).all()


def test_white_balance_gives_each_channel_its_own_gain(samples) -> None:
    image, label = samples[1]
    transform = build_train_transform(crop=(360, 480), scale=(1.0, 1.0), hflip=0.0, jitter=0.0, white_balance=0.2)
    transform.set_random_seed(0)
    dim = image.max(-1) < 200  # pixels no gain pushes past white
    ratios = []
    for _ in range(8):
        out = transform(image=image, mask=label)
        assert np.array_equal(out["mask"], label)
        ratios.append(out["image"][dim].sum(0) / image[dim].sum(0))
    ratios = np.array(ratios)
    assert ratios.min() > 0.79 and ratios.max() < 1.21
    assert ratios.std(0).min() > 0.05 and np.abs(ratios[:, 0] - ratios[:, 2]).max() > 0.1


def test_eval_transform_is_identity(samples) -> None:
    image, label = samples[1]
    out = build_eval_transform()(image=image, mask=label)
    np.testing.assert_array_equal(out["image"], image)
    np.testing.assert_array_equal(out["mask"], label)


def test_to_tensor_normalises_like_the_models() -> None:
    image = np.zeros((2, 3, 3), dtype=np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 255, 0, 128
    x = to_tensor(image)
    mean, std = NORMALIZATION["mean"], NORMALIZATION["std"]
    expected = [(v / 255 - m) / s for v, m, s in zip((255, 0, 128), mean, std, strict=True)]
    assert x.shape == (3, 2, 3) and x.dtype == torch.float32
    torch.testing.assert_close(x[:, 0, 0], torch.tensor(expected))


def test_torch_dataset_yields_normalised_crops(camvid_root: Path) -> None:
    ds = get_dataset("camvid", "val", root=camvid_root)
    train = SegmentationTorchDataset(ds, build_train_transform(crop=(192, 256), ignore_index=11))
    x, y = train[5]
    assert x.shape == (3, 192, 256) and x.dtype == torch.float32
    assert y.shape == (192, 256) and y.dtype == torch.int64 and int(y.max()) <= 11
    full_x, full_y = SegmentationTorchDataset(ds, build_eval_transform())[5]
    assert full_x.shape == (3, 360, 480)
    torch.testing.assert_close(full_y, torch.from_numpy(ds[5][1]).long())
    assert len(train) == 101


def test_workers_draw_different_augmentations(tmp_path: Path, camvid_pairs) -> None:
    # Two identical pairs: forked workers that shared one random state would return identical crops.
    for sub in ("train", "trainannot"):
        (tmp_path / sub).mkdir()
    image, label = camvid_pairs[0]
    for stem in ("a", "b"):
        shutil.copy(image, tmp_path / "train" / f"{stem}.jpg")
        shutil.copy(label, tmp_path / "trainannot" / f"{stem}.png")
    ds = SegmentationTorchDataset(get_dataset("camvid", "train", root=tmp_path), build_train_transform((64, 64)))
    loader = torch.utils.data.DataLoader(ds, batch_size=1, num_workers=2, multiprocessing_context="fork")
    (xa, _), (xb, _) = list(loader)
    assert not torch.equal(xa, xb)
