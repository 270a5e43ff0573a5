"""`liveseg bench`: Python and browser benchmarks of a bundle, and the BENCHMARKS.md they generate.

`liveseg bench all` regenerates BENCHMARKS.md from scratch; `python`, `browser` and `soak` each refresh their own
JSON and re-render the report from whatever results the output folder holds. What each command runs, and its
options, are liveseg.bench.suite's; here they are parsed, called and printed.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer

from liveseg.bench import suite
from liveseg.cli.options import command, require

bench_app = typer.Typer(
    help="Benchmark a bundle in Python runtimes and in a real browser; write BENCHMARKS.md.", no_args_is_help=True
)


def _command() -> str:
    """The command line as typed, for the report's "reproduce" section."""
    return "liveseg " + " ".join(shlex.quote(a) for a in sys.argv[1:])


@contextmanager
def _progress(label: str) -> Iterator[suite.Start]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    ) as bar:

        def start(total: int) -> Callable[[], None]:
            task = bar.add_task(label, total=total)
            return lambda: bar.advance(task)

        yield start


def python(settings: suite.PythonBenchSettings) -> None:
    """onnxruntime CPU per thread count, PyTorch eager, CUDA when present; latency, fps, RSS and efficiency."""
    # PyTorch is optional here: its runs are left out without it.
    require("bench", "psutil", "matplotlib", command="bench python")
    from liveseg.bench.report import write_report

    suite.python_bench(settings, _progress, _command())
    write_report(settings.out, settings.report)


def browser(settings: suite.BrowserBenchSettings) -> None:
    """The web app in headless Chromium vs its module API and the seed-style, TF.js and MediaPipe pipelines on one
    60 fps fake webcam, counting only distinct camera frames; per-stage times and fps per backend."""
    require("bench", "playwright", "psutil", "matplotlib", command="bench browser")
    from liveseg.bench.report import write_report

    suite.browser_bench(settings, _progress, _command())
    write_report(settings.out, settings.report)


def soak(settings: suite.SoakBenchSettings) -> None:
    """The web app live on the fake webcam for minutes: JS heap, worker memory, renderer RSS, fps and legend/stats
    updates at every interval; growth and slope of each."""
    require("bench", "playwright", "psutil", "matplotlib", command="bench soak")
    from liveseg.bench.report import write_report

    suite.soak_bench(settings, _progress, _command())
    write_report(settings.out, settings.report)


def person(settings: suite.PersonBenchSettings) -> None:
    """The bundled person model: the app with "Blur background" on a fake webcam of a portrait vs MediaPipe's own
    solution of the same network on the same webcam; images/s in Python vs MediaPipe Python."""
    from liveseg.bench.report import write_report

    suite.person_bench(settings, _command())
    write_report(settings.out, settings.report)


def run_all(settings: suite.AllBenchSettings) -> None:
    """Python and browser benchmarks and the soak with their defaults, then BENCHMARKS.md: the one command that
    regenerates it."""
    require("bench", "playwright", "psutil", "matplotlib", command="bench all")
    from liveseg.bench.report import write_report

    suite.all_benches(settings, _progress, _command())
    write_report(settings.out, settings.report)


def report_only(settings: suite.ReportSettings) -> None:
    """Re-render the tables, charts and BENCHMARKS.md from the JSON already in --out."""
    require("bench", "matplotlib", command="bench report")

    suite.rerender(settings)


def temporal(settings: suite.TemporalBenchSettings) -> None:
    """Flicker, mIoU and VC_8 on static and pan clips with known truth, without and with the stabiliser (and the
    label-hysteresis floor), and its cost per frame in Python and the browser; writes OUT/temporal.json."""
    from liveseg.bench.report import write_report

    suite.temporal_bench(settings, _progress, _command())
    write_report(settings.out, settings.report)


def train_bench(settings: suite.TrainBenchSettings) -> None:
    """Training throughput (img/s) of the file and in-memory pipelines, fp32 and bf16, through `liveseg train`'s
    own code; writes OUT/train.json."""
    require("train", "torch", "albumentations", command="bench train")

    for row in suite.train_bench(settings, _progress, _command()).results:
        typer.echo(
            f"{row.pipeline:<30} {row.img_per_s:6.1f} img/s  "
            f"(data {row.data_ms_per_batch:.0f} ms + step {row.step_ms_per_batch:.0f} ms per batch)"
        )


def ray_bench(settings: suite.RayBenchSettings) -> None:
    """Scaling of `liveseg segment --engine ray` on a local Ray against the plain path: images/s per CPU count,
    label PNGs written; writes OUT/ray.json (needs liveseg\\[ray])."""
    require("ray", command="bench ray")

    for row in suite.ray_bench(settings, _progress, _command()).results:
        extra = (
            f"  ({row.vs_plain:.2f}x plain; Ray started in {row.ray_start_s:.1f} s)" if row.vs_plain is not None else ""
        )
        typer.echo(f"{row.engine:<6} {row.cpus} CPU(s)  {row.img_per_s:7.1f} img/s{extra}")


def register(app: typer.Typer) -> None:
    for name, function in (
        ("python", python), ("browser", browser), ("soak", soak), ("person", person), ("all", run_all),
        ("report", report_only), ("temporal", temporal), ("train", train_bench), ("ray", ray_bench),
    ):  # fmt: skip
        bench_app.command(name)(command(function))
    app.add_typer(bench_app, name="bench")
