"""The bridge to PyTorch: a Dataset of normalised float CHW images and long HW labels::

    from liveseg.data import get_dataset
    from liveseg.data.loader import SegmentationTorchDataset
    from liveseg.data.transforms import build_train_transform
    transform = build_train_transform(crop=(360, 480), ignore_index=11)
    train = SegmentationTorchDataset(get_dataset("camvid", "train"), transform)

Labels keep the dataset's ignore index; batches of equal-size crops stack with the default collate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info

from liveseg.data import NORMALIZATION
from liveseg.data.base import SegmentationDataset

_MEAN = torch.tensor(NORMALIZATION["mean"]).view(3, 1, 1)
_STD = torch.tensor(NORMALIZATION["std"]).view(3, 1, 1)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 RGB → 3xHxW float32, normalised exactly as every model expects."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255)
    return x.sub_(_MEAN).div_(_STD)


class SegmentationTorchDataset(Dataset):
    """Applies `transform(image=..., mask=...)` (albumentations style) to each pair of `dataset`."""

    def __init__(self, dataset: SegmentationDataset, transform: Callable[..., dict[str, Any]] | None = None):
        self.dataset = dataset
        self.transform = transform
        self._worker_seed: int | None = None

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, label = self.dataset[index]
        if self.transform is not None:
            self._reseed_in_worker()
            out = self.transform(image=image, mask=label)
            image, label = out["image"], out["mask"]
        return to_tensor(image), torch.from_numpy(np.ascontiguousarray(label)).long()

    def _reseed_in_worker(self) -> None:
        # Forked DataLoader workers inherit one copy of the transform's random state and would all draw the
        # same augmentations; torch gives each worker (each epoch) its own seed, so use that.
        worker = get_worker_info()
        if worker is None or self._worker_seed == worker.seed:
            return
        self._worker_seed = worker.seed
        if (reseed := getattr(self.transform, "set_random_seed", None)) is not None:
            reseed(worker.seed % 2**32)
