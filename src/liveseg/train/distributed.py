"""Multi-process training with DistributedDataParallel, as torchrun launches it: one process per device.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK (and where to meet); a process started without them trains alone and
nothing here changes what it does. Every process holds the whole model, steps through its own share of each epoch's
samples (liveseg.train.data.EpochSampler) and validates its share of the val split; gradients, the epoch's loss and
the confusion matrix are summed across processes, and only rank 0 writes checkpoints, the log and progress.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class World:
    """This process's place among those training together."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0  # the GPU of this process on its machine
    launched: bool = False  # started by torchrun, so a process group is set up (even for a single process)

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes."""
        return self.rank == 0


def world() -> World:
    """Read from torchrun's environment; a plain process is a world of one."""
    if "WORLD_SIZE" not in os.environ:
        return World()
    env = os.environ
    return World(int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", 0)), launched=True)


@contextlib.contextmanager
def process_group(world: World, device: torch.device) -> Iterator[None]:
    """NCCL between GPUs, gloo between CPU processes, for the duration of the block."""
    if not world.launched:
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(
        "nccl" if device.type == "cuda" else "gloo", device_id=device if device.type == "cuda" else None
    )
    try:
        yield
    finally:
        dist.destroy_process_group()


def wrap(model: nn.Module, world: World, device: torch.device) -> nn.Module | None:
    """The DistributedDataParallel wrapper that averages gradients, or None when training alone."""
    if not world.launched:
        return None
    return nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def mean(value: torch.Tensor, world: World) -> torch.Tensor:
    """The mean of a scalar over all processes (every process gets it)."""
    if world.launched:
        dist.all_reduce(value)
        value = value / world.size
    return value


def total(counts: np.ndarray, world: World, device: torch.device) -> np.ndarray:
    """An integer array summed over all processes (e.g. each one's confusion matrix of its val share)."""
    if not world.launched:
        return counts
    summed = torch.from_numpy(counts).to(device)
    dist.all_reduce(summed)
    return summed.cpu().numpy()


def share_buffers(model: nn.Module, world: World) -> None:
    """Give every process rank 0's buffers (BatchNorm statistics), the ones its checkpoint holds: without
    SyncBatchNorm each process's statistics drift from its own batches."""
    if world.launched:
        for buffer in model.buffers():
            dist.broadcast(buffer, 0)
