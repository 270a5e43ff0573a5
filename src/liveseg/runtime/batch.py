"""Segmenting many files into output files: the work of `liveseg segment`, in one process or on Ray actors.

Output names: an INPUT file `x/photo.jpg` writes `OUT/photo.png` (labels), `OUT/photo.color.png`,
`OUT/photo.overlay.png`, `OUT/photo.json`; files found under an INPUT folder keep their path relative to
that folder (`photos/a/b.jpg` → `OUT/a/b.png`), so equal stems in different sub-folders do not collide.
A video `clip.mp4` writes `OUT/clip.overlay.mp4` / `OUT/clip.color.mp4` for the renders `save` names, one lossless
label PNG per frame `OUT/clip/000000.png` etc. when it names labels, and with `frames` every `save` kind per frame
there; frames are segmented upright (a phone's rotation applied), keep their own timestamps, and are stabilised
(liveseg.runtime.stabilise) at `Options.stabilise`. Every file is written atomically. An input that cannot be read
is a failure (one sentence naming it) and the others go on.

The unit of work is a *share* (`shares`): `batch` consecutive images, which go through onnxruntime in one call, or
one video. The single-process run and liveseg.runtime.ray cut the inputs into the same shares and run the same
functions on them, so both write the same bytes.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from liveseg import atomic
from liveseg.errors import LivesegError
from liveseg.limits import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV
from liveseg.runtime.io import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    is_video,
    probe_video,
    read_image,
    read_video_timed,
    write_videos,
)
from liveseg.runtime.manifest import PRECISIONS
from liveseg.runtime.stabilise import DEFAULT_STRENGTH
from liveseg.settings import option, parse_size

if TYPE_CHECKING:
    from liveseg.progress import Progress
    from liveseg.runtime.result import SegmentationResult
    from liveseg.runtime.segmenter import Segmenter

# What each `save` kind writes, as the suffix after the output stem.
IMAGE_OUTPUTS = {"labels": ".png", "color": ".color.png", "overlay": ".overlay.png", "json": ".json"}
SAVE_KINDS = tuple(IMAGE_OUTPUTS)
ENGINES = ("local", "ray")  # where `liveseg segment` runs the model: this process, or a Ray cluster's actors


@dataclass(frozen=True)
class Job:
    source: Path
    stem: Path  # output path without suffix, relative to the output folder
    video: bool


@dataclass
class Outcome:
    images: int = 0
    videos: int = 0
    failures: list[str] = field(default_factory=list)  # one sentence each, naming the input

    def add(self, other: Outcome) -> None:
        self.images += other.images
        self.videos += other.videos
        self.failures += other.failures


@dataclass(frozen=True)
class Options:
    """What to write and how: the output folder, the `save` kinds, images per onnxruntime call and the rest."""

    out: Path
    save: tuple[str, ...]
    batch: int
    frames: bool
    alpha: float
    max_pixels: int
    stabilise: float = 0.0  # videos: the stabiliser's strength, 0 for none


def parse_save(text: str) -> tuple[str, ...]:
    """'labels, COLOR' → ('labels', 'color'): the `save` kinds, lower-cased, de-duplicated, checked."""
    kinds = tuple(dict.fromkeys(k.strip().lower() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in SAVE_KINDS]
    if unknown or not kinds:
        raise LivesegError(f"--save {text!r} is not a comma list of {', '.join(SAVE_KINDS)}.")
    return kinds


@dataclass
class SegmentSettings:
    """A `liveseg segment` run, declared once: the command's options are generated from these fields."""

    inputs: list[Path] = option(help="Images, folders (searched recursively) or videos.", argument=True)
    out: Path = option(help="Output folder.")
    model: str = option(
        "default",
        "A bundle folder (or its manifest.json), or a NAME: 'default', a bundled model (person-selfie) or one from "
        "`liveseg pull --list`.",
        metavar="<FOLDER|NAME>",
    )
    save: tuple[str, ...] = option("labels", "What to write per input.", parse=parse_save, items=SAVE_KINDS)
    precision: str | None = option(None, "Variant precision (default: the bundle's default).", choices=PRECISIONS)
    size: tuple[int, int] | None = option(None, "Variant input size HxW (default: the bundle's).", parse=parse_size)
    batch: int = option(8, "Images per onnxruntime call.", min=1)
    threads: int | None = option(None, "onnxruntime intra-op threads (--engine ray: per actor, default 1).", min=1)
    frames: bool = option(
        False, "Videos: write every --save kind per frame (labels alone need not).", decls=("--frames",)
    )
    stabilise: bool = option(True, "Videos: steady the labels from frame to frame (still images never are).")
    strength: float = option(
        DEFAULT_STRENGTH, "Videos: the stabiliser's strength (more: steadier, slower).", min=0.0, max=1.0
    )
    alpha: float = option(0.5, "Overlay: weight of the class colours.", min=0.0, max=1.0)
    max_pixels: int = option(
        DEFAULT_MAX_PIXELS,
        "Images above this many pixels (width x height) are reported and skipped, before decoding.",
        min=1,
        envvar=MAX_PIXELS_ENV,
    )
    engine: str = option(
        "local", "local: in this process; ray: on the actors of a Ray cluster (liveseg\\[ray]).", choices=ENGINES
    )
    ray_address: str | None = option(
        None,
        "--engine ray: the cluster to join ('auto': the one `ray start` runs here; default: a Ray started for this "
        "run on this machine's cores).",
    )
    actors: int | None = option(
        None, "--engine ray: actors, each with its own copy of the model (default: CPUs / threads).", min=1
    )

    @property
    def options(self) -> Options:
        """What the batch functions need of these settings (the stabiliser's strength, 0 when it is off)."""
        return Options(
            out=self.out, save=self.save, batch=self.batch, frames=self.frames, alpha=self.alpha,
            max_pixels=self.max_pixels, stabilise=self.strength if self.stabilise else 0.0,
        )  # fmt: skip


def collect(inputs: Iterable[Path], outcome: Outcome) -> list[Job]:
    """Expand folders (recursively, known image/video suffixes); missing inputs become failures."""
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


def shares(jobs: list[Job], batch: int) -> list[list[Job]]:
    """The images in runs of `batch` (in order), then each video alone."""
    images = [j for j in jobs if not j.video]
    return [images[i : i + batch] for i in range(0, len(images), batch)] + [[j] for j in jobs if j.video]


def renders(save: tuple[str, ...]) -> list[str]:
    """The video renders `save` asks for (overlay when it names neither a render nor labels)."""
    return [r for r in ("overlay", "color") if r in save] or ([] if "labels" in save else ["overlay"])


def frame_kinds(opts: Options) -> tuple[str, ...]:
    """What a video writes per frame into OUT/STEM/: every `save` kind with `frames`, else its label PNGs."""
    return opts.save if opts.frames else tuple(k for k in opts.save if k == "labels")


def outputs(job: Job, opts: Options) -> list[Path]:
    """The files a job writes (a video's `frames` go into the folder OUT/STEM)."""
    base = opts.out / job.stem
    suffixes = [f".{r}.mp4" for r in renders(opts.save)] if job.video else [IMAGE_OUTPUTS[k] for k in opts.save]
    return [base.with_name(base.name + suffix) for suffix in suffixes]


def write_image_outputs(result: SegmentationResult, base: Path, save: tuple[str, ...], alpha: float) -> None:
    """`base` is the output path without suffix; each render is written atomically."""

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


def segment_images(segmenter: Segmenter, jobs: list[Job], opts: Options, progress: Progress, outcome: Outcome) -> None:
    """Images in onnxruntime calls of `opts.batch`; one that cannot be read is left out of its call."""
    task = progress.add_task("images", total=len(jobs))
    for start in range(0, len(jobs), opts.batch):
        loaded: list[tuple[Job, np.ndarray]] = []
        for job in jobs[start : start + opts.batch]:
            try:
                loaded.append((job, read_image(job.source, max_pixels=opts.max_pixels)))
            except LivesegError as exc:
                outcome.failures.append(str(exc))
                progress.advance(task)
        if not loaded:
            continue
        results = segmenter.segment_batch([image for _, image in loaded])
        for (job, _), result in zip(loaded, results, strict=True):
            write_image_outputs(result, opts.out / job.stem, opts.save, opts.alpha)
            outcome.images += 1
            progress.advance(task)


def segment_videos(segmenter: Segmenter, jobs: list[Job], opts: Options, progress: Progress, outcome: Outcome) -> None:
    for job in jobs:
        try:
            _segment_video(segmenter, job, opts, progress)
            outcome.videos += 1
        except LivesegError as exc:
            outcome.failures.append(str(exc))


def _segment_video(segmenter: Segmenter, job: Job, opts: Options, progress: Progress) -> None:
    info = probe_video(job.source)
    wanted = renders(opts.save)
    task = progress.add_task(job.source.name, total=info.frames or None)
    frame_dir = opts.out / job.stem
    times: list[Fraction | None] = []  # each frame's, read before it is rendered: the output keeps them

    def read() -> Iterator[np.ndarray]:
        for rgb, time in read_video_timed(job.source):
            times.append(time)
            yield rgb

    per_frame = frame_kinds(opts)

    def rendered() -> Iterator[list[np.ndarray]]:
        results = segmenter.stream(read(), opts.batch, strength=opts.stabilise)
        for index, result in enumerate(results):
            if per_frame:
                write_image_outputs(result, frame_dir / f"{index:06d}", per_frame, opts.alpha)
            views: dict[str, Callable[[], object]] = {
                "overlay": functools.partial(result.overlay, opts.alpha),
                "color": result.color,
            }
            yield [np.asarray(views[r]()) for r in wanted]
            progress.advance(task)

    if wanted:
        write_videos(outputs(job, opts), rendered(), info.fps, times)
    elif not sum(1 for _ in rendered()):
        raise LivesegError(f"Video {job.source} has no decodable frames; replace or remove it.")
    progress.remove_task(task)
