"""`liveseg segment`: class maps (and renders) for images, folders and videos, with an exported bundle.

Output names: an INPUT file `x/photo.jpg` writes `OUT/photo.png` (labels), `OUT/photo.color.png`,
`OUT/photo.overlay.png`, `OUT/photo.json`; files found under an INPUT folder keep their path relative to
that folder (`photos/a/b.jpg` → `OUT/a/b.png`), so equal stems in different sub-folders do not collide.
Two inputs that would still write the same name, and an output that would replace an input (--out equal to
an input folder), are refused before anything runs. A video `clip.mp4` writes `OUT/clip.overlay.mp4` /
`OUT/clip.color.mp4` and, with --frames, `OUT/clip/000000.png` etc. per frame. What a killed earlier run left
in the output folders is removed first. Needs no torch: inference is onnxruntime on the bundle.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from liveseg.cli.options import check_out_dir, refuse_overwriting
from liveseg.errors import LivesegError
from liveseg.limits import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV

if TYPE_CHECKING:
    import numpy as np
    from rich.progress import Progress

    from liveseg.runtime import SegmentationResult, Segmenter

# What each --save kind writes, as the suffix after the output stem.
IMAGE_OUTPUTS = {"labels": ".png", "color": ".color.png", "overlay": ".overlay.png", "json": ".json"}
SAVE_KINDS = tuple(IMAGE_OUTPUTS)


@dataclass(frozen=True)
class Job:
    source: Path
    stem: Path  # output path without suffix, relative to --out
    video: bool


@dataclass
class Outcome:
    images: int = 0
    videos: int = 0
    failures: list[str] = field(default_factory=list)  # one sentence each, naming the input


def _parse_save(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip().lower() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in SAVE_KINDS]
    if unknown or not kinds:
        raise LivesegError(f"--save {text!r} is not a comma list of {', '.join(SAVE_KINDS)}.")
    return kinds


def collect(inputs: Iterable[Path], outcome: Outcome) -> list[Job]:
    """Expand folders (recursively, known image/video suffixes); missing inputs become failures."""
    from liveseg.runtime.io import IMAGE_SUFFIXES, VIDEO_SUFFIXES, is_video

    jobs: list[Job] = []
    for path in inputs:
        if path.is_dir():
            for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
                if f.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
                    jobs.append(Job(f, f.relative_to(path).with_suffix(""), is_video(f)))
        elif path.is_file():
            jobs.append(Job(path, Path(path.stem), is_video(path)))
        else:
            outcome.failures.append(f"{path} does not exist.")
    seen: dict[Path, Path] = {}
    for job in jobs:
        if job.stem in seen:
            raise LivesegError(
                f"Inputs {seen[job.stem]} and {job.source} would both write {job.stem}.*; "
                "rename one or segment them in separate runs."
            )
        seen[job.stem] = job.source
    return jobs


def _renders(save: tuple[str, ...]) -> list[str]:
    """The video renders --save asks for (overlay when it names none)."""
    return [r for r in ("overlay", "color") if r in save] or ["overlay"]


def _outputs(job: Job, args: _Args) -> list[Path]:
    """The files a job writes (a video's --frames go into the folder OUT/STEM, see `_check_outputs`)."""
    base = args.out / job.stem
    suffixes = [f".{r}.mp4" for r in _renders(args.save)] if job.video else [IMAGE_OUTPUTS[k] for k in args.save]
    return [base.with_name(base.name + suffix) for suffix in suffixes]


def _check_outputs(jobs: list[Job], args: _Args) -> None:
    """Never overwrite an input: refuse before anything runs, in one sentence."""
    refuse_overwriting((out for job in jobs for out in _outputs(job, args)), (job.source for job in jobs))
    if args.frames:
        sources = {Path(os.path.realpath(job.source)): job.source for job in jobs}
        for job in (j for j in jobs if j.video):
            frames = Path(os.path.realpath(args.out / job.stem))
            if inside := next((src for real, src in sources.items() if frames in real.parents), None):
                raise LivesegError(
                    f"The frames of {job.source} would be written into {args.out / job.stem}, which holds the "
                    f"input {inside}; pass an --out folder apart from the inputs."
                )


def _clean_output_folders(jobs: list[Job], args: _Args) -> None:
    """Remove what a killed earlier run left (e.g. `.clip.overlay.mp4.*.tmp.mp4`) where this run writes."""
    from liveseg import atomic

    folders = {(args.out / job.stem).parent for job in jobs}
    if args.frames:
        folders |= {args.out / job.stem for job in jobs if job.video}
    for folder in folders:
        atomic.clean_stale(folder)


def _write_image_outputs(result: SegmentationResult, base: Path, save: tuple[str, ...], alpha: float) -> None:
    """`base` is the output path without suffix; each render is written atomically."""
    import io

    from liveseg import atomic

    def png(image) -> bytes:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue()

    writers = {
        "labels": result.to_png,
        "color": lambda: png(result.color()),
        "overlay": lambda: png(result.overlay(alpha)),
        "json": lambda: (json.dumps(result.to_dict()) + "\n").encode(),
    }
    for kind in save:
        atomic.write_bytes(base.with_name(base.name + IMAGE_OUTPUTS[kind]), writers[kind]())


def _segment_images(segmenter: Segmenter, jobs: list[Job], args: _Args, progress: Progress, outcome: Outcome) -> None:
    from liveseg.runtime.io import read_image

    task = progress.add_task("images", total=len(jobs))
    for start in range(0, len(jobs), args.batch):
        loaded: list[tuple[Job, np.ndarray]] = []
        for job in jobs[start : start + args.batch]:
            try:
                loaded.append((job, read_image(job.source, max_pixels=args.max_pixels)))
            except LivesegError as exc:
                outcome.failures.append(str(exc))
                progress.advance(task)
        if not loaded:
            continue
        results = segmenter.segment_batch([image for _, image in loaded])
        for (job, _), result in zip(loaded, results, strict=True):
            _write_image_outputs(result, args.out / job.stem, args.save, args.alpha)
            outcome.images += 1
            progress.advance(task)


def _batched(frames: Iterable[np.ndarray], size: int) -> Iterator[list[np.ndarray]]:
    batch: list[np.ndarray] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _segment_video(segmenter: Segmenter, job: Job, args: _Args, progress: Progress) -> None:
    import numpy as np

    from liveseg.runtime.io import probe_video, read_video, write_videos

    info = probe_video(job.source)
    renders = _renders(args.save)
    task = progress.add_task(escape(job.source.name), total=info.frames or None)
    frame_dir = args.out / job.stem

    def rendered() -> Iterator[list[np.ndarray]]:
        index = 0
        for batch in _batched(read_video(job.source), args.batch):
            for result in segmenter.segment_batch(batch):
                if args.frames:
                    _write_image_outputs(result, frame_dir / f"{index:06d}", args.save, args.alpha)
                views = {"overlay": lambda r=result: r.overlay(args.alpha), "color": result.color}
                yield [np.asarray(views[r]()) for r in renders]
                index += 1
                progress.advance(task)

    write_videos(_outputs(job, args), rendered(), info.fps)
    progress.remove_task(task)


@dataclass(frozen=True)
class _Args:
    out: Path
    save: tuple[str, ...]
    batch: int
    frames: bool
    alpha: float
    max_pixels: int


def segment_cmd(
    inputs: Annotated[list[Path], typer.Argument(help="Images, folders (searched recursively) or videos.")],
    out: Annotated[Path, typer.Option(help="Output folder.")],
    model: Annotated[str, typer.Option(help="Bundle folder, its manifest.json, or 'default'.")] = "default",
    save: Annotated[str, typer.Option(help="Comma list of labels, color, overlay, json.")] = "labels",
    precision: Annotated[str, typer.Option(help="Variant precision: fp32, fp16 or int8.")] = "fp32",
    size: Annotated[str | None, typer.Option(help="Variant input size HxW (default: the bundle's).")] = None,
    batch: Annotated[int, typer.Option(min=1, help="Images per onnxruntime call.")] = 8,
    threads: Annotated[int | None, typer.Option(min=1, help="onnxruntime intra-op threads.")] = None,
    frames: Annotated[bool, typer.Option("--frames", help="Videos: also write the outputs of every frame.")] = False,
    alpha: Annotated[float, typer.Option(min=0.0, max=1.0, help="Overlay: weight of the class colours.")] = 0.5,
    max_pixels: Annotated[
        int,
        typer.Option(
            min=1,
            envvar=MAX_PIXELS_ENV,
            help="Images above this many pixels (width x height) are reported and skipped, before decoding.",
        ),
    ] = DEFAULT_MAX_PIXELS,
) -> None:
    """Segment images, folders and videos; label PNGs hold class ids at each input's own resolution."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from liveseg.cli.options import parse_size
    from liveseg.runtime import load

    args = _Args(out=out, save=_parse_save(save), batch=batch, frames=frames, alpha=alpha, max_pixels=max_pixels)
    check_out_dir(out)
    segmenter = load(model, precision=precision, size=parse_size(size) if size else None, threads=threads)
    outcome = Outcome()
    jobs = collect(inputs, outcome)
    _check_outputs(jobs, args)
    _clean_output_folders(jobs, args)
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        if images := [j for j in jobs if not j.video]:
            _segment_images(segmenter, images, args, progress, outcome)
        for job in (j for j in jobs if j.video):
            try:
                _segment_video(segmenter, job, args, progress)
                outcome.videos += 1
            except LivesegError as exc:
                outcome.failures.append(str(exc))
    _summary(console, outcome, segmenter, out)


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
