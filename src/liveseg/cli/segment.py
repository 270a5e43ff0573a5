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
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from liveseg import extras
from liveseg.cli.options import check_out_dir, choice, comma_list, refuse_overwriting, require
from liveseg.errors import LivesegError
from liveseg.limits import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV
from liveseg.runtime.batch import SAVE_KINDS
from liveseg.runtime.manifest import PRECISIONS
from liveseg.runtime.stabilise import DEFAULT_STRENGTH

if TYPE_CHECKING:
    from liveseg.runtime import Segmenter
    from liveseg.runtime.batch import Job, Options, Outcome

ENGINES = ("local", "ray")


def _parse_save(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip().lower() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in SAVE_KINDS]
    if unknown or not kinds:
        raise LivesegError(f"--save {text!r} is not a comma list of {', '.join(SAVE_KINDS)}.")
    return kinds


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


def segment_cmd(
    inputs: Annotated[list[Path], typer.Argument(help="Images, folders (searched recursively) or videos.")],
    out: Annotated[Path, typer.Option(help="Output folder.")],
    model: Annotated[
        str,
        typer.Option(
            metavar="<FOLDER|NAME>",
            help="A bundle folder (or its manifest.json), or a NAME: 'default', a bundled model (person-selfie) or "
            "one from `liveseg pull --list`.",
        ),
    ] = "default",
    save: Annotated[str, typer.Option(help="What to write per input.", **comma_list(SAVE_KINDS))] = "labels",
    precision: Annotated[
        choice(PRECISIONS) | None, typer.Option(help="Variant precision (default: the bundle's default).")
    ] = None,
    size: Annotated[str | None, typer.Option(help="Variant input size HxW (default: the bundle's).")] = None,
    batch: Annotated[int, typer.Option(min=1, help="Images per onnxruntime call.")] = 8,
    threads: Annotated[
        int | None, typer.Option(min=1, help="onnxruntime intra-op threads (--engine ray: per actor, default 1).")
    ] = None,
    frames: Annotated[
        bool, typer.Option("--frames", help="Videos: write every --save kind per frame (labels alone need not).")
    ] = False,
    stabilise: Annotated[
        bool, typer.Option(help="Videos: steady the labels from frame to frame (still images never are).")
    ] = True,
    strength: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Videos: the stabiliser's strength (more: steadier, slower).")
    ] = DEFAULT_STRENGTH,
    alpha: Annotated[float, typer.Option(min=0.0, max=1.0, help="Overlay: weight of the class colours.")] = 0.5,
    max_pixels: Annotated[
        int,
        typer.Option(
            min=1,
            envvar=MAX_PIXELS_ENV,
            help="Images above this many pixels (width x height) are reported and skipped, before decoding.",
        ),
    ] = DEFAULT_MAX_PIXELS,
    engine: Annotated[
        choice(ENGINES),
        typer.Option(help="local: in this process; ray: on the actors of a Ray cluster (liveseg\\[ray])."),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="--engine ray: the cluster to join ('auto': the one `ray start` runs here; default: a Ray "
            "started for this run on this machine's cores)."
        ),
    ] = None,
    actors: Annotated[
        int | None,
        typer.Option(
            min=1, help="--engine ray: actors, each with its own copy of the model (default: CPUs / threads)."
        ),
    ] = None,
) -> None:
    """Segment images, folders and videos; label PNGs hold class ids at each input's own resolution."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from liveseg.runtime import load
    from liveseg.runtime.batch import Options, Outcome, collect, segment_images, segment_videos
    from liveseg.settings import parse_size

    if engine == "ray":
        require("ray", command="segment --engine ray")
    opts = Options(
        out=out, save=_parse_save(save), batch=batch, frames=frames, alpha=alpha, max_pixels=max_pixels,
        stabilise=strength if stabilise else 0.0,
    )  # fmt: skip
    check_out_dir(out)
    hw = parse_size(size) if size else None
    segmenter = load(model, precision=precision, size=hw, threads=threads)  # checks the bundle before any work
    outcome = Outcome()
    jobs = collect(inputs, outcome)
    if any(job.video for job in jobs):
        extras.require("video", "av", what="`liveseg segment` on a video")
    _check_outputs(jobs, opts)
    _clean_output_folders(jobs, opts)
    if engine == "ray":
        from liveseg.runtime import ray

        ray.start(ray_address)
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress, _writing(out):
        if engine == "ray":
            advance = partial(progress.advance, progress.add_task("inputs on Ray", total=len(jobs)))
            outcome.add(
                ray.segment_files(
                    jobs, opts, model=model, precision=precision, size=hw, threads=threads or 1, actors=actors,
                    advance=advance,
                )
            )  # fmt: skip
        else:
            if images := [j for j in jobs if not j.video]:
                segment_images(segmenter, images, opts, progress, outcome)
            segment_videos(segmenter, [j for j in jobs if j.video], opts, progress, outcome)
    _summary(console, outcome, segmenter, out)


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
    app.command("segment")(segment_cmd)
