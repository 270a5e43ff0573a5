"""Segmentation on Ray Data: a pool of actors, each with one onnxruntime session on the bundle (opened, verified and
loaded once), running the same code as a single process.

- `segment_dataset(ds, model=...)`: a `ray.data.Dataset` of images in, the same rows with class maps out.
- `segment_files(jobs, opts, ...)`: `liveseg segment --engine ray`. Each share of liveseg.runtime.batch (a run of
  `batch` images, or a video) is one row, which an actor does with the very functions of the single-process run,
  so the files written are the same bytes and the failures the same sentences, reported in input order.

Ray is the optional extra `liveseg[ray]`. Workers open the bundle, the inputs and the output folder at the paths
the driver names: on one machine that just works (Ray's workers start in the driver's folder); on a cluster those
paths must be the same on every node (a shared filesystem), and liveseg must be installed there too.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from liveseg import extras
from liveseg.errors import LivesegError
from liveseg.progress import QUIET
from liveseg.runtime.batch import Job, Options, Outcome, segment_images, segment_videos, shares
from liveseg.runtime.io import read_image
from liveseg.runtime.segmenter import Segmenter, load

if TYPE_CHECKING:
    import ray.data

Batch = dict[str, Any]  # a Ray Data batch in numpy format: column name → values
Work = Callable[[Segmenter, Batch], Batch]


def _ray():
    extras.require("ray", "ray", what="Segmenting on Ray")  # the one sentence every missing extra gets
    import ray
    import ray.data

    return ray


def start(address: str | None = None, cpus: int | None = None) -> None:
    """Join the Ray cluster at `address` ('auto': the one `ray start` runs on this machine), or start a Ray on this
    machine with `cpus` CPUs (default: all); quietly, for a command line: no dashboard, no progress bars, errors only.
    Nothing happens when this process is already connected."""
    ray = _ray()
    if ray.is_initialized():
        return
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    try:
        ray.init(
            address=address,
            num_cpus=None if address else cpus,
            include_dashboard=False,
            logging_level=logging.ERROR,
            log_to_driver=False,
        )
    except ConnectionError as exc:
        raise LivesegError(
            f"Cannot join the Ray cluster at {address} ({exc}); start one with `ray start --head` or pass another "
            "--ray-address."
        ) from None


class _Actor:
    """One actor of the pool: the Segmenter, then `work(segmenter, batch)` for each batch it is given."""

    def __init__(
        self, model: str, precision: str | None, size: tuple[int, int] | None, threads: int, work: Work
    ) -> None:
        self.segmenter = load(model, precision=precision, size=size, threads=threads)
        self.work = work

    def __call__(self, batch: Batch) -> Batch:
        return self.work(self.segmenter, batch)


def _map(
    ds: ray.data.Dataset,
    work: Work,
    model: str | os.PathLike,
    precision: str | None,
    size: tuple[int, int] | None,
    threads: int,
    actors: int,
    batch: int,
) -> ray.data.Dataset:
    """`work` over `ds` in batches of `batch` rows, on `actors` actors of `threads` CPUs each."""
    ray = _ray()
    return ds.map_batches(
        _Actor,
        fn_constructor_args=(str(model), precision, size, threads, work),
        batch_size=batch,
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=threads,
    )


def _fill(threads: int) -> int:
    """The default pool: as many actors of `threads` CPUs as the cluster's CPUs hold."""
    return max(1, int(_ray().cluster_resources().get("CPU", 1)) // threads)


def segment_dataset(
    ds: ray.data.Dataset,
    model: str | os.PathLike = "default",
    *,
    precision: str | None = None,
    size: tuple[int, int] | None = None,
    batch: int = 8,
    actors: int | None = None,
    threads: int = 1,
    max_pixels: int | None = None,
) -> ray.data.Dataset:
    """Class maps for a Dataset of images, computed as `liveseg.load(model, ...).segment_batch` computes them.

    Rows hold an "image" (HxWx3 or HxWx4 uint8, as `ray.data.read_images` gives) or a "path" (read by liveseg's own
    reader, so that an unreadable file fails its row, not the job). Each row comes back with its other columns and
    "labels" and "confidence" (HxW uint8 at the image's size) and "error": "" when it was segmented, otherwise the
    sentence saying why not (the maps are then 0x0). `batch` rows go through onnxruntime in one call, on `actors`
    actors of `threads` CPUs each (default: as many as the cluster's CPUs hold). The maps are those `segment_batch`
    gives for the same batch (a pixel's confidence may differ by rounding between batch sizes; `segment` is 1).
    """
    work = partial(_label_rows, max_pixels=max_pixels)
    return _map(ds, work, model, precision, size, threads, actors or _fill(threads), batch)


def _label_rows(segmenter: Segmenter, batch: Batch, max_pixels: int | None) -> Batch:
    images = batch["image"] if "image" in batch else batch["path"]
    empty: np.ndarray = np.zeros((0, 0), np.uint8)
    labels: list[np.ndarray] = [empty] * len(images)
    confidence: list[np.ndarray | None] = [empty] * len(images)
    errors = [""] * len(images)
    readable: dict[int, np.ndarray] = {}
    for i, image in enumerate(images):
        try:
            readable[i] = read_image(image if isinstance(image, np.ndarray) else str(image), max_pixels=max_pixels)
        except LivesegError as exc:
            errors[i] = str(exc)
    for i, result in zip(readable, segmenter.segment_batch(list(readable.values())), strict=True):
        labels[i], confidence[i] = result.labels, result.confidence
    rest = {name: values for name, values in batch.items() if name != "image"}
    return {**rest, "labels": labels, "confidence": confidence, "error": errors}


def segment_files(
    jobs: list[Job],
    opts: Options,
    *,
    model: str | os.PathLike,
    precision: str | None = None,
    size: tuple[int, int] | None = None,
    threads: int = 1,
    actors: int | None = None,
    advance: Callable[[int], None] = lambda done: None,
) -> Outcome:
    """Write every job's outputs from `actors` actors of the connected cluster (`start`; default: as many as its CPUs
    hold, at most one per share); `advance(n)` as shares of n jobs finish. The outcome lists failures in input
    order, as a single-process run does."""
    ray = _ray()
    cut = shares(jobs, opts.batch)
    if not cut:
        return Outcome()
    rows = [
        {"share": k, "jobs": json.dumps([[str(j.source), str(j.stem), j.video] for j in s])} for k, s in enumerate(cut)
    ]
    done: dict[int, Outcome] = {}
    work, pool = partial(_segment_share, opts=opts), min(actors or _fill(threads), len(cut))
    results = _map(ray.data.from_items(rows), work, model, precision, size, threads, pool, 1)
    for row in results.iter_rows():
        done[row["share"]] = Outcome(row["images"], row["videos"], json.loads(row["failures"]))
        advance(len(cut[row["share"]]))
    total = Outcome()
    for k in sorted(done):
        total.add(done[k])
    return total


def _segment_share(segmenter: Segmenter, batch: Batch, opts: Options) -> Batch:
    share = [Job(Path(source), Path(stem), video) for source, stem, video in json.loads(batch["jobs"][0])]
    outcome = Outcome()
    run = segment_videos if share[0].video else segment_images
    run(segmenter, share, opts, QUIET, outcome)
    return {
        "share": batch["share"],
        "images": [outcome.images],
        "videos": [outcome.videos],
        "failures": [json.dumps(outcome.failures)],
    }
