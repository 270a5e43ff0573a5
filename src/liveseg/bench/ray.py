"""`liveseg bench ray`: how `liveseg segment --engine ray` scales on this machine, against the plain path.

The same images go through the same code (liveseg.runtime.batch), writing label PNGs: in this process with N
onnxruntime threads, and on a local Ray of N CPUs (N actors of one thread each). A Ray run is timed from the start
of its dataset to its last file, so it pays what a real run pays (actors starting, each loading the bundle, rows
shipped to them); starting Ray itself, paid once per session, is reported apart.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from liveseg.limits import DEFAULT_MAX_PIXELS
from liveseg.runtime.batch import Job, Options, Outcome, segment_images
from liveseg.runtime.segmenter import load


@dataclass(frozen=True)
class RayBenchOptions:
    model: str
    images: list[Path]  # cycled through until `count` jobs
    count: int
    cpus: list[int]
    batch: int


@dataclass(frozen=True)
class RayRow:
    """One engine at one CPU count; a Ray row adds Ray's start-up (not in `seconds`) and its ratio to the plain
    row."""

    engine: str
    cpus: int
    seconds: float
    img_per_s: float
    ray_start_s: float | None = None
    vs_plain: float | None = None


@dataclass(frozen=True)
class RayResult:
    """`liveseg bench ray`'s ray.json; `command` is the suite's."""

    model: str
    images: int
    batch: int
    results: list[RayRow]
    command: str | None = None


def run_ray_bench(opts: RayBenchOptions, progress: Callable[[int], Callable[[], None]]) -> RayResult:
    """Images/s of the plain path and of Ray per CPU count; each Ray row also holds its ratio to the plain row."""
    import ray
    from rich.progress import Progress

    from liveseg.runtime import ray as engine

    tick = progress(2 * len(opts.cpus))
    jobs = [Job(opts.images[i % len(opts.images)], Path(f"{i:06d}"), False) for i in range(opts.count)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:

        def options(name: str) -> Options:
            return Options(Path(tmp) / name, ("labels",), opts.batch, False, 0.5, DEFAULT_MAX_PIXELS)

        for cpus in opts.cpus:
            segmenter = load(opts.model, threads=cpus)
            start = time.perf_counter()
            segment_images(segmenter, jobs, options(f"plain-{cpus}"), Progress(disable=True), Outcome())
            seconds = time.perf_counter() - start
            rows.append(RayRow("plain", cpus, seconds, opts.count / seconds))
            tick()
        plain = {row.cpus: row.img_per_s for row in rows}
        for cpus in opts.cpus:
            start = time.perf_counter()
            engine.start(cpus=cpus)
            started = time.perf_counter()
            engine.segment_files(jobs, options(f"ray-{cpus}"), model=opts.model, threads=1, actors=cpus)
            seconds = time.perf_counter() - started
            ray.shutdown()
            rate = opts.count / seconds
            rows.append(RayRow("ray", cpus, seconds, rate, ray_start_s=started - start, vs_plain=rate / plain[cpus]))
            tick()
    return RayResult(opts.model, opts.count, opts.batch, rows)
