"""Training and validation loaders whose augmentation depends only on (seed, epoch, image index).

Each sample's augmentation is seeded from those three numbers and each epoch's order from (seed, epoch), so
a run gives the same batches whether it uses 0 or 8 workers and whether or not it was interrupted and resumed.
In a multi-process run (liveseg.train.distributed) each process takes every `world_size`-th sample of that order
from its `rank` on, so a run gives the same batches for a given number of processes.

Two training pipelines share that contract: `memory_loader` (the default) decodes the split once and augments
whole batches of tensors (liveseg.train.augment), `train_loader` decodes and augments each file per sample with
albumentations in DataLoader workers, for datasets too large to hold in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, Subset

from liveseg.data import SegmentationDataset, label_histograms
from liveseg.data.loader import SegmentationTorchDataset, to_tensor
from liveseg.data.transforms import build_train_transform
from liveseg.errors import LivesegError
from liveseg.train.augment import BatchAugment
from liveseg.train.sampling import RareClassSampling


def sample_seed(*numbers: int) -> int:
    return int(np.random.SeedSequence(list(numbers)).generate_state(1)[0])


class AugmentedDataset(Dataset):
    """Items are addressed as (epoch, index) so a worker can seed the augmentation without shared state."""

    def __init__(self, dataset: SegmentationDataset, transform, seed: int) -> None:
        self.dataset, self.transform, self.seed = dataset, transform, seed

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, index = key
        image, label = self.dataset[index]
        self.transform.set_random_seed(sample_seed(self.seed, epoch, index))
        out = self.transform(image=image, mask=label)
        return to_tensor(out["image"]), torch.from_numpy(np.ascontiguousarray(out["mask"])).long()


class EpochSampler(Sampler):
    """A shuffled subset of indices per epoch (this process's share of it); `set_epoch` picks the epoch before
    each pass. Shares are equal (the last `len % world_size` of an epoch's order are left out), so that every
    process takes the same number of steps. With `rare`, an epoch is as many draws by rare-class sampling."""

    def __init__(
        self,
        indices: Sequence[int],
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        rare: RareClassSampling | None = None,
    ) -> None:
        self.indices, self.seed, self.epoch, self.rare = list(indices), seed, 0, rare
        self.rank, self.world_size = rank, world_size
        if len(self.indices) < world_size:
            raise LivesegError(
                f"{len(self.indices)} training image(s) cannot be shared by {world_size} processes; "
                "train on more images or with fewer processes."
            )

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.indices) // self.world_size

    def __iter__(self) -> Iterator[tuple[int, int]]:
        gen = torch.Generator().manual_seed(sample_seed(self.seed, self.epoch))
        n = len(self.indices)
        order = torch.randperm(n, generator=gen) if self.rare is None else self.rare.draw(gen, n)
        for i in order[self.rank : len(self) * self.world_size : self.world_size].tolist():
            yield self.epoch, self.indices[i]


def epoch_sampler(
    dataset: SegmentationDataset,
    seed: int,
    max_images: int | None,
    rare_temperature: float = 0.0,
    rank: int = 0,
    world_size: int = 1,
) -> EpochSampler:
    """The sampler of a training split's first `max_images` images; rare-class sampling at `rare_temperature`
    when it is above 0."""
    indices = range(len(dataset) if max_images is None else min(max_images, len(dataset)))
    rare = None
    if rare_temperature > 0:
        histograms = label_histograms(dataset, indices)[:, : len(dataset.info.classes)]
        rare = RareClassSampling.from_histograms(histograms, rare_temperature)
    return EpochSampler(indices, seed, rank, world_size, rare)


def _loader_kwargs(workers: int, pin: bool, seed: int) -> dict:
    # A private generator: otherwise starting workers draws from the global torch RNG, which then differs
    # between a resumed and an uninterrupted run (dropout masks would diverge).
    generator = torch.Generator().manual_seed(seed)
    return {"num_workers": workers, "persistent_workers": workers > 0, "pin_memory": pin, "generator": generator}


def train_loader(
    dataset: SegmentationDataset,
    augment: BatchAugment,
    batch: int,
    sampler: EpochSampler,
    workers: int,
    pin: bool,
) -> DataLoader:
    """The file pipeline: each sample decoded and given `augment`'s augmentation by albumentations in workers."""
    transform = build_train_transform(
        crop=augment.crop,
        scale=augment.scale,
        ignore_index=augment.ignore_index,
        hflip=augment.hflip,
        jitter=augment.jitter,
        colour=augment.strength,
        hue=augment.hue,
        blur=augment.blur,
        sigma=augment.sigma,
        white_balance=augment.white_balance,
    )
    # Full batches only (BatchNorm misbehaves on a stray batch of 1); a tiny subset shrinks the batch instead.
    return DataLoader(
        AugmentedDataset(dataset, transform, sampler.seed),
        batch_size=min(batch, len(sampler)),
        sampler=sampler,
        drop_last=True,
        **_loader_kwargs(workers, pin, sampler.seed),
    )


class MemoryLoader:
    """Batches of a split decoded once into uint8 tensors and augmented per batch; same interface as the
    DataLoader of `train_loader` (len, iteration, `.sampler.set_epoch`)."""

    def __init__(self, dataset: SegmentationDataset, augment: BatchAugment, batch: int, sampler: EpochSampler) -> None:
        # Every process holds the whole split: its share of the samples changes with each epoch's order.
        pairs = [dataset[i] for i in sampler.indices]
        self.images = [torch.tensor(image) for image, _ in pairs]  # a copy: decoded arrays may be read-only
        self.labels = [torch.tensor(label) for _, label in pairs]
        self.augment, self.batch, self.seed, self.sampler = augment, batch, sampler.seed, sampler

    def __len__(self) -> int:
        return len(self.sampler) // self.batch

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        keys = list(self.sampler)
        for b in range(len(self)):
            yield self.make_batch(keys[b * self.batch : (b + 1) * self.batch])

    def make_batch(self, keys: list[tuple[int, int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Augmented (images, labels) of the (epoch, index) keys; samples of one source size share one call."""
        indices = [index for _, index in keys]
        sizes = [(self.labels[i].shape[0], self.labels[i].shape[1]) for i in indices]
        params = self.augment.draw(sizes, [sample_seed(self.seed, epoch, index) for epoch, index in keys])
        if len(set(sizes)) == 1:
            images = torch.stack([self.images[i] for i in indices])
            labels = torch.stack([self.labels[i] for i in indices])
            return self.augment.apply(images, labels, params)
        parts = [
            self.augment.apply(self.images[i][None], self.labels[i][None], params.row(k)) for k, i in enumerate(indices)
        ]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def memory_loader(
    dataset: SegmentationDataset, augment: BatchAugment, batch: int, sampler: EpochSampler
) -> MemoryLoader:
    """The in-memory pipeline: the split decoded once, batches given `augment`'s augmentation as tensors."""
    return MemoryLoader(dataset, augment, min(batch, len(sampler)), sampler)


def val_loader(
    dataset: SegmentationDataset,
    max_images: int | None,
    workers: int,
    pin: bool,
    seed: int,
    rank: int = 0,
    world_size: int = 1,
) -> DataLoader:
    """Whole images at native size, one per batch (sizes may differ between images); every `world_size`-th image
    from `rank` on, so processes validate disjoint shares whose confusion matrices add up to the split's."""
    n = len(dataset) if max_images is None else min(max_images, len(dataset))
    torch_ds = Subset(SegmentationTorchDataset(dataset), range(rank, n, world_size))
    return DataLoader(torch_ds, batch_size=1, shuffle=False, **_loader_kwargs(workers, pin, seed))
