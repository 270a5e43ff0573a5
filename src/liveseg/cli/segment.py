"""`liveseg segment`: class maps (and renders) for images, folders and videos, with an exported bundle.

What is written where is liveseg.runtime.batch's contract. Two inputs that would write the same name, and an output
that would replace an input (--out equal to an input folder), are refused before anything runs. What a killed
earlier run left in the output folders is removed first. Needs no torch: inference is onnxruntime on the bundle, in
this process or (--engine ray) on the actors of a Ray cluster (liveseg.runtime.ray), which write the same files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from liveseg import extras
from liveseg.cli.options import check_out_dir, command, refuse_overwriting, require
from liveseg.errors import LivesegError
from liveseg.runtime.batch import SegmentSettings

if TYPE_CHECKING:
    from liveseg.runtime import Segmenter
    from liveseg.runtime.batch import Job, Options, Outcome


def _check_outputs(jobs: list[Job], opts: Options) -> None:
    """Never overwrite an input: refuse before anything runs, in one sentence."""
    from liveseg.runtime.batch import frame_kinds, outputs

    refuse_overwriting((out for job in jobs for out in outputs(job, opts)), (job.source for job in jobs))
    if frame_kinds(opts):
        sources = {Path(os.path.realpath(job.source)): job.source for job in jobs}
        for job in (j for j in jobs if j.video):
            frames = Path(os.path.realpath(opts.out / job.stem))
            if inside := next((src for real, src in sources.items() if frames in real.parents), None):
                raise LivesegError(
                    f"The frames of {job.source} would be written into {opts.out / job.stem}, which holds the "
                    f"input {inside}; pass an --out folder apart from the inputs."
                )


def _clean_output_folders(jobs: list[Job], opts: Options) -> None:
    """Remove what a killed earlier run left (liveseg's own temporaries only) where this run writes."""
    from liveseg import atomic
    from liveseg.runtime.batch import frame_kinds

    folders = {(opts.out / job.stem).parent for job in jobs}
    if frame_kinds(opts):
        folders |= {opts.out / job.stem for job in jobs if job.video}
    for folder in folders:
        atomic.clean_stale(folder)


def segment_cmd(settings: SegmentSettings) -> None:
    """Segment images, folders and videos; label PNGs hold class ids at each input's own resolution."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from liveseg.runtime import load
    from liveseg.runtime.batch import Outcome, collect, segment_images, segment_videos

    s, opts = settings, settings.options
    if s.engine == "ray":
        require("ray", command="segment --engine ray")
    check_out_dir(s.out)
    segmenter = load(s.model, precision=s.precision, size=s.size, threads=s.threads)  # checks the bundle first
    outcome = Outcome()
    jobs = collect(s.inputs, outcome)
    if any(job.video for job in jobs):
        extras.require("video", "av", what="`liveseg segment` on a video")
    _check_outputs(jobs, opts)
    _clean_output_folders(jobs, opts)
    if s.engine == "ray":
        from liveseg.runtime import ray

        ray.start(s.ray_address)
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress, _writing(s.out):
        if s.engine == "ray":
            advance = partial(progress.advance, progress.add_task("inputs on Ray", total=len(jobs)))
            outcome.add(
                ray.segment_files(
                    jobs, opts, model=s.model, precision=s.precision, size=s.size, threads=s.threads or 1,
                    actors=s.actors, advance=advance,
                )
            )  # fmt: skip
        else:
            if images := [j for j in jobs if not j.video]:
                segment_images(segmenter, images, opts, progress, outcome)
            segment_videos(segmenter, [j for j in jobs if j.video], opts, progress, outcome)
    _summary(console, outcome, segmenter, s.out)


@contextmanager
def _writing(out: Path) -> Iterator[None]:
    """An OSError escaping the work is a failed write (inputs that cannot be read are failures of their own): a
    full disk stops the run in one sentence. Every output is written atomically, so none is left half-written."""
    try:
        yield
    except OSError as exc:
        raise LivesegError(
            f"Writing into {out} failed ({exc.strerror or exc}); the outputs written so far are complete and "
            "nothing is half-written; free some space or pass another --out, then run again."
        ) from None


def _summary(console: Console, outcome: Outcome, segmenter: Segmenter, out: Path) -> None:
    v = segmenter.variant
    console.print(
        f"Segmented {outcome.images} image(s) and {outcome.videos} video(s) with {escape(segmenter.bundle.name)} "
        f"({v.precision}, {v.height}x{v.width}) into {escape(str(out))}.",
        highlight=False,
    )
    if outcome.failures:
        console.print(f"[red]{len(outcome.failures)} input(s) failed and were skipped:[/]")
        for why in outcome.failures:
            console.print(f"  [red]✗[/] {escape(why)}", highlight=False)
        sys.exit(1)


def register(app: typer.Typer) -> None:
    app.command("segment")(command(segment_cmd))
