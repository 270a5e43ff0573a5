"""Training throughput: images per second end to end (data + forward + backward + optimizer) per pipeline.

Measured through the real training code (liveseg.train.loop's setup and step), so a figure here is what
`liveseg train` gets with the same options: the file pipeline (albumentations in DataLoader workers) against the
in-memory one (batched tensor augmentation), each in full precision and with bf16 autocast.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import torch

from liveseg.train import loop
from liveseg.train.config import TrainConfig


@dataclass(frozen=True)
class Pipeline:
    """One way of running the same training step."""

    name: str
    in_memory: bool
    amp: bool
    channels_last: bool = True
    compile: bool = False


PIPELINES = (
    Pipeline("files, fp32", in_memory=False, amp=False),
    Pipeline("files, bf16", in_memory=False, amp=True),
    Pipeline("memory, fp32", in_memory=True, amp=False),
    Pipeline("memory, bf16", in_memory=True, amp=True),
    Pipeline("memory, bf16, torch.compile", in_memory=True, amp=True, compile=True),
)


@dataclass(frozen=True)
class TrainRow:
    """One pipeline's throughput, with data and compute time apart."""

    pipeline: str
    in_memory: bool
    amp: bool
    compile: bool
    img_per_s: float
    data_ms_per_batch: float
    step_ms_per_batch: float


@dataclass(frozen=True)
class TrainResult:
    """`liveseg bench train`'s train.json; `command` is the suite's."""

    model: str
    crop: list[int]
    batch: int
    threads: int
    steps: int
    cpu_bf16: bool
    results: list[TrainRow]
    command: str | None = None


def _batches(loader, epochs: Iterator[int]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches across as many epochs as needed (a short run on a small split outlasts one epoch)."""
    for epoch in epochs:
        loader.sampler.set_epoch(epoch)
        yield from loader


def measure(base: TrainConfig, pipeline: Pipeline, steps: int, warmup: int, tick: Callable[[], None]) -> TrainRow:
    """img/s over `steps` steps after `warmup` steps, with data and compute time apart."""
    cfg = replace(base, in_memory=pipeline.in_memory, amp=pipeline.amp, channels_last=pipeline.channels_last)
    run, loader, _ = loop.setup(cfg)
    if pipeline.compile:
        run.model.compile()
    run.model.train()
    batches = _batches(loader, iter(range(10**6)))
    data_s = step_s = 0.0
    images = 0
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        x, y = loop._to_device(run, *next(batches))
        t1 = time.perf_counter()
        loop._step(run, x, y).item()
        t2 = time.perf_counter()
        if i >= warmup:
            data_s, step_s, images = data_s + t1 - t0, step_s + t2 - t1, images + len(x)
        tick()
    return TrainRow(
        pipeline=pipeline.name,
        in_memory=pipeline.in_memory,
        amp=loop._amp_dtype(cfg, run.device) is not None,
        compile=pipeline.compile,
        img_per_s=images / (data_s + step_s),
        data_ms_per_batch=1000 * data_s / steps,
        step_ms_per_batch=1000 * step_s / steps,
    )


def run_train_bench(
    base: TrainConfig, pipelines: tuple[Pipeline, ...], steps: int, warmup: int, progress: Callable
) -> TrainResult:
    tick = progress((steps + warmup) * len(pipelines))
    rows = [measure(base, p, steps, warmup, tick) for p in pipelines]
    return TrainResult(
        model=base.model,
        crop=list(base.crop),
        batch=base.batch,
        threads=base.threads or torch.get_num_threads(),
        steps=steps,
        cpu_bf16=loop.cpu_has_bf16(),
        results=rows,
    )
