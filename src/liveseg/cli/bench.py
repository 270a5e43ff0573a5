"""`liveseg bench`: Python and browser benchmarks of a bundle, and the BENCHMARKS.md they generate.

`liveseg bench all` regenerates BENCHMARKS.md from scratch; `python`, `browser` and `soak` each refresh their own
JSON and re-render the report from whatever results the output folder holds.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated

import typer

from liveseg.cli.options import choice, comma_list, require
from liveseg.errors import LivesegError
from liveseg.runtime.manifest import PRECISIONS

bench_app = typer.Typer(
    help="Benchmark a bundle in Python runtimes and in a real browser; write BENCHMARKS.md.", no_args_is_help=True
)

Model = Annotated[str, typer.Option("--model", "-m", help="Bundle directory, manifest.json or 'default'.")]
Out = Annotated[Path, typer.Option(help="Folder for the JSON results and the PNG charts.")]
Report = Annotated[Path, typer.Option(help="The Markdown report to (re)generate.")]
Quick = Annotated[bool, typer.Option(help="A few frames, one thread count/backend: checks the harness, not speed.")]
BACKENDS = ("wasm", "webgl", "webgpu")
DEFAULT_BACKENDS = ",".join(BACKENDS)
DEFAULT_OUT = Path("docs/bench")
DEFAULT_REPORT = Path("BENCHMARKS.md")


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise LivesegError(f"--{what} {text!r} is not a comma list of whole numbers, e.g. 1,2.") from None
    if not values or min(values) < 1:
        raise LivesegError(f"--{what} needs whole numbers of at least 1, e.g. 1,2.")
    return values


def _command() -> str:
    """The command line as typed, for the report's "reproduce" section."""
    return "liveseg " + " ".join(shlex.quote(a) for a in sys.argv[1:])


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int], Callable[[], None]]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    ) as bar:

        def start(total: int) -> Callable[[], None]:
            task = bar.add_task(label, total=total)
            return lambda: bar.advance(task)

        yield start


def _bench_images(images: Path | None, limit: int | None = None) -> list[Path]:
    """The first `limit` images of a folder given, else of CamVid val from the registry."""
    if images is not None:
        files = sorted(p for p in images.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if not files:
            raise LivesegError(f"{images} holds no .jpg or .png images; pass a folder of images to --images.")
        return files[:limit]
    from liveseg.data import get_dataset

    ds = get_dataset("camvid", split="val")
    return [ds.image_path(i) for i in range(min(limit or len(ds), len(ds)))]


def _variant(model: str, precision: str | None, size: str | None):
    """The bundle (verified) and the variant a browser run uses: the bundle's default unless asked otherwise."""
    from liveseg.runtime.bundle import open_bundle
    from liveseg.settings import parse_size

    bundle = open_bundle(model)
    bundle.verify()
    return bundle, bundle.variant(precision=precision, size=parse_size(size) if size else None)


def _backends(text: str) -> list[str]:
    wanted = [b.strip() for b in text.split(",") if b.strip()]
    if not wanted or set(wanted) - set(BACKENDS):
        raise LivesegError(f"--backends {text!r} is not a comma list of {', '.join(BACKENDS)}.")
    return wanted


def run_python_bench(
    model: str,
    precision: str | None,
    size: str | None,
    threads: str,
    batch: str,
    frames: int,
    checkpoint: Path | None,
    torch: bool,
    quick: bool,
    out: Path,
) -> dict:
    from liveseg.bench import machine
    from liveseg.bench.python import PythonOptions, run_python
    from liveseg.bench.results import PYTHON_JSON, save_json
    from liveseg.runtime.bundle import open_bundle
    from liveseg.settings import parse_sizes

    bundle = open_bundle(model)
    bundle.verify()
    precisions = precision.split(",") if precision else (["fp32"] if quick else bundle.precisions)
    sizes = parse_sizes(size) if size else [bundle.manifest.default_size]
    opts = PythonOptions(
        bundle=bundle,
        precisions=precisions,
        sizes=sizes,
        threads=[1] if quick else _ints(threads, "threads"),
        batches=[1, 2] if quick else _ints(batch, "batch"),
        frames=5 if quick else frames,
        checkpoint=checkpoint,
        torch=torch and not quick,
    )
    info = machine.describe()
    with _progress("bench python") as progress:
        results = run_python(opts, progress)
    results.update(machine=info, command=_command(), quick=quick, notes=[])
    if not torch:
        results["notes"].append("PyTorch runs were turned off (--no-torch).")
    save_json(out / PYTHON_JSON, results)
    return results


def _webcam(pictures: list[Path], work: Path, size: tuple[int, int]) -> Path:
    from liveseg.bench.y4m import camvid_webcam

    return camvid_webcam(pictures, work / "webcam.y4m", size=size)


def run_browser_bench(
    model: str,
    precision: str | None,
    size: str | None,
    backends: str,
    threads: int,
    frames: int,
    seed: bool,
    tfjs: bool,
    mediapipe: bool,
    tfjs_venv: Path,
    images: Path | None,
    quick: bool,
    out: Path,
) -> dict:
    from liveseg.bench import graphs, machine
    from liveseg.bench import tfjs as tfjs_conversion
    from liveseg.bench.browser import WARMUP_FRAMES, BrowserOptions, run_browser
    from liveseg.bench.python import model_gflops
    from liveseg.bench.results import BROWSER_JSON, save_json

    bundle, variant = _variant(model, precision, size)
    wanted = _backends(backends)
    pictures = _bench_images(images, limit=30)  # webcam frames, TF.js calibration
    notes: list[str] = []
    info = machine.describe()
    with tempfile.TemporaryDirectory(prefix="liveseg-bench-") as tmp:
        work = Path(tmp)
        webcam = _webcam(pictures, work, variant.size)
        logits = None
        if seed or tfjs:
            fp32 = bundle.variant(precision="fp32", size=variant.size)
            logits = work / "logits.onnx"
            graphs.logits_graph(fp32.path, logits)
        tfjs_model = None
        if tfjs and not quick:
            try:
                tfjs_model = tfjs_conversion.convert(logits, tfjs_venv, pictures)
            except LivesegError as exc:
                notes.append(f"TF.js peer not run: {exc}")
        opts = BrowserOptions(
            bundle=bundle,
            precision=variant.precision,
            size=variant.size,
            backends=wanted[:1] if quick else wanted,
            threads=threads,
            frames=5 if quick else frames,
            warmup=2 if quick else WARMUP_FRAMES,
            webcam=webcam,
            logits_onnx=logits if seed else None,
            tfjs_model=tfjs_model,
            mediapipe=mediapipe,
            probes=graphs.peak_probes(work)[:1] if quick else graphs.peak_probes(work),
        )
        with _progress("bench browser") as progress:
            results = run_browser(opts, notes, progress)
    results.update(machine=info, command=_command(), quick=quick, notes=notes, model_gflops=model_gflops([variant]))
    save_json(out / BROWSER_JSON, results)
    return results


def run_soak_bench(
    model: str,
    precision: str | None,
    size: str | None,
    backend: str,
    threads: int,
    minutes: float,
    interval: float,
    images: Path | None,
    quick: bool,
    out: Path,
) -> dict:
    from liveseg.bench import machine
    from liveseg.bench.results import SOAK_JSON, save_json
    from liveseg.bench.soak import SoakOptions, run_soak

    bundle, variant = _variant(model, precision, size)
    if len(backends := _backends(backend)) != 1:
        raise LivesegError(f"--backend {backend!r} names {len(backends)} backends; a soak runs on one, e.g. wasm.")
    pictures = _bench_images(images, limit=30)  # webcam frames, TF.js calibration
    info = machine.describe()
    with tempfile.TemporaryDirectory(prefix="liveseg-soak-") as tmp:
        opts = SoakOptions(
            bundle=bundle,
            precision=variant.precision,
            size=variant.size,
            backend=backends[0],
            threads=threads,
            minutes=0.5 if quick else minutes,
            interval_s=5 if quick else interval,
            webcam=_webcam(pictures, Path(tmp), variant.size),
            warmup_s=5 if quick else 60,  # the renderer's RSS still ramps up over the first minute
        )
        with _progress("bench soak") as progress:
            results = run_soak(opts, progress)
    results.update(machine=info, command=_command(), quick=quick, minutes=opts.minutes)
    save_json(out / SOAK_JSON, results)
    return results


def python(
    model: Model = "default",
    precision: Annotated[
        str | None, typer.Option(help="Variants (default: every precision in the bundle).", **comma_list(PRECISIONS))
    ] = None,
    size: Annotated[str | None, typer.Option(help="HxW list, e.g. 360x480,180x240 (default: the bundle's).")] = None,
    threads: Annotated[str, typer.Option(help="CPU thread counts to compare.")] = "1,2",
    batch: Annotated[str, typer.Option(help="Batch sizes (throughput).")] = "1,8",
    frames: Annotated[int, typer.Option(min=1, help="Timed frames per configuration (after warm-up).")] = 50,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="PyTorch runs: this checkpoint (default: the bundle's architecture, random "
            "weights, which run at the same speed)."
        ),
    ] = None,
    torch: Annotated[bool, typer.Option(help="Also run PyTorch eager (and CUDA when present).")] = True,
    quick: Quick = False,
    out: Out = DEFAULT_OUT,
    report: Report = DEFAULT_REPORT,
) -> None:
    """onnxruntime CPU per thread count, PyTorch eager, CUDA when present; latency, fps, RSS and efficiency."""
    # PyTorch is optional here: its runs are left out without it.
    require("bench", "psutil", "matplotlib", command="bench python")
    from liveseg.bench.report import write_report

    run_python_bench(model, precision, size, threads, batch, frames, checkpoint, torch, quick, out)
    write_report(out, report)


Images = Annotated[
    Path | None, typer.Option(help="Frames for the fake webcam (default: CamVid val from the data folder).")
]
Threads = Annotated[int, typer.Option(min=1, help="WASM threads.")]
Minutes = Annotated[float, typer.Option(min=0.1, help="How long the soak runs.")]
Interval = Annotated[float, typer.Option(min=1, help="Seconds between soak samples.")]
TfjsVenv = Annotated[Path, typer.Option(help="Virtual env with onnx2tf and tensorflowjs.")]


def browser(
    model: Model = "default",
    precision: Annotated[
        choice(PRECISIONS) | None, typer.Option(help="Precision variant (default: the bundle's default).")
    ] = None,
    size: Annotated[str | None, typer.Option(help="HxW variant (default: the bundle's default).")] = None,
    backends: Annotated[
        str, typer.Option(help="onnxruntime-web / TF.js backends.", **comma_list(BACKENDS))
    ] = DEFAULT_BACKENDS,
    threads: Threads = 2,
    frames: Annotated[int, typer.Option(min=2, help="Measured frames per page (after warm-up).")] = 100,
    seed: Annotated[bool, typer.Option(help="Run the seed-style baseline page.")] = True,
    tfjs: Annotated[bool, typer.Option(help="Convert to TF.js and run the TF.js peer page.")] = True,
    mediapipe: Annotated[bool, typer.Option(help="Run the MediaPipe selfie-segmentation peer page.")] = True,
    tfjs_venv: TfjsVenv = Path(".venv-bench"),
    images: Images = None,
    quick: Quick = False,
    out: Out = DEFAULT_OUT,
    report: Report = DEFAULT_REPORT,
) -> None:
    """The web app in headless Chromium vs its module API and the seed-style, TF.js and MediaPipe pipelines on one
    60 fps fake webcam, counting only distinct camera frames; per-stage times and fps per backend."""
    require("bench", "playwright", "psutil", "matplotlib", command="bench browser")
    from liveseg.bench.report import write_report

    run_browser_bench(
        model, precision, size, backends, threads, frames, seed, tfjs, mediapipe, tfjs_venv, images, quick, out
    )
    write_report(out, report)


def soak(
    model: Model = "default",
    precision: Annotated[
        choice(PRECISIONS) | None, typer.Option(help="Precision variant (default: the bundle's default).")
    ] = None,
    size: Annotated[str | None, typer.Option(help="HxW variant (default: the bundle's default).")] = None,
    backend: Annotated[choice(BACKENDS), typer.Option(help="The app's backend.")] = "wasm",
    threads: Threads = 2,
    minutes: Minutes = 10.0,
    interval: Interval = 10.0,
    images: Images = None,
    quick: Annotated[bool, typer.Option(help="30 s at 5 s intervals: checks the harness, not memory.")] = False,
    out: Out = DEFAULT_OUT,
    report: Report = DEFAULT_REPORT,
) -> None:
    """The web app live on the fake webcam for minutes: JS heap, worker memory, renderer RSS, fps and legend/stats
    updates at every interval; growth and slope of each."""
    require("bench", "playwright", "psutil", "matplotlib", command="bench soak")
    from liveseg.bench.report import write_report

    run_soak_bench(model, precision, size, backend, threads, minutes, interval, images, quick, out)
    write_report(out, report)


def person(
    threads: Threads = 2,
    frames: Annotated[int, typer.Option(min=2, help="Measured frames per browser page (after warm-up).")] = 100,
    images: Annotated[
        Path | None, typer.Option(help="Photos timed in Python (default: 100 CamVid val photos from the data folder).")
    ] = None,
    mediapipe_python: Annotated[
        Path | None, typer.Option(help="A Python with mediapipe==0.10.21, for MediaPipe's Python timing.")
    ] = None,
    browser: Annotated[bool, typer.Option(help="Run the browser part (the app with blur vs MediaPipe's page).")] = True,
    out: Out = DEFAULT_OUT,
    report: Report = DEFAULT_REPORT,
) -> None:
    """The bundled person model: the app with "Blur background" on a fake webcam of a portrait vs MediaPipe's own
    solution of the same network on the same webcam; images/s in Python vs MediaPipe Python."""
    from liveseg.bench import machine
    from liveseg.bench.person import PersonOptions, run_person
    from liveseg.bench.report import write_report
    from liveseg.bench.results import PERSON_JSON, save_json
    from liveseg.export.mediapipe import NPM_PACKAGE

    package = Path(__file__).resolve().parents[3] / "web" / "node_modules" / NPM_PACKAGE  # in a checkout
    opts = PersonOptions(
        photos=_bench_images(images, limit=100),
        threads=threads,
        frames=frames,
        mediapipe_python=mediapipe_python,
        npm_package=package if package.is_dir() else None,
        browser=browser,
    )
    notes: list[str] = []
    results = run_person(opts, notes)
    results.update(machine=machine.describe(), command=_command(), notes=notes)
    save_json(out / PERSON_JSON, results)
    write_report(out, report)


def run_all(
    model: Model = "default",
    frames: Annotated[int, typer.Option(min=2, help="Measured frames per configuration.")] = 100,
    backends: Annotated[str, typer.Option(help="Browser backends.", **comma_list(BACKENDS))] = DEFAULT_BACKENDS,
    minutes: Minutes = 10.0,
    tfjs_venv: TfjsVenv = Path(".venv-bench"),
    images: Images = None,
    out: Out = DEFAULT_OUT,
    report: Report = DEFAULT_REPORT,
) -> None:
    """Python and browser benchmarks and the soak with their defaults, then BENCHMARKS.md: the one command that
    regenerates it."""
    require("bench", "playwright", "psutil", "matplotlib", command="bench all")
    from liveseg.bench.report import write_report

    run_python_bench(model, None, None, "1,2", "1,8", frames, None, True, False, out)
    run_browser_bench(model, None, None, backends, 2, frames, True, True, True, tfjs_venv, images, False, out)
    run_soak_bench(model, None, None, "wasm", 2, minutes, 10.0, images, False, out)
    write_report(out, report)


def report_only(out: Out = DEFAULT_OUT, report: Report = DEFAULT_REPORT) -> None:
    """Re-render the tables, charts and BENCHMARKS.md from the JSON already in --out."""
    require("bench", "matplotlib", command="bench report")
    from liveseg.bench.report import write_report
    from liveseg.bench.results import RESULT_FILES

    if not any((out / name).is_file() for name in RESULT_FILES.values()):
        names = ", ".join(RESULT_FILES.values())
        raise LivesegError(f"{out} holds none of {names}; run `liveseg bench all` first.")
    write_report(out, report)


def temporal(
    model: Model = "default",
    person: Annotated[
        str | None, typer.Option(help="The person model for the portrait clips ('none' to skip).")
    ] = "person-selfie",
    clips: Annotated[int, typer.Option(min=1, help="CamVid val frames, each made into a static and a pan clip.")] = 4,
    data_root: Annotated[Path | None, typer.Option(help="CamVid folder (default: liveseg data dir / camvid).")] = None,
    browser: Annotated[
        bool,
        typer.Option(help="Also time the TypeScript stabiliser and run MediaPipe's selfie solution in Chromium."),
    ] = True,
    out: Out = DEFAULT_OUT,
    report: Report = DEFAULT_REPORT,
) -> None:
    """Flicker, mIoU and VC_8 on static and pan clips with known truth, without and with the stabiliser (and the
    label-hysteresis floor), and its cost per frame in Python and the browser; writes OUT/temporal.json."""
    from liveseg.bench import machine
    from liveseg.bench.report import write_temporal
    from liveseg.bench.results import TEMPORAL_JSON, save_json
    from liveseg.bench.temporal import browser_cost_ms, mediapipe_selfie, run_temporal
    from liveseg.runtime import load

    camvid = load(model, threads=1)
    person_model = load(person, threads=1) if person and person != "none" else None
    with ExitStack() as stack:
        peer = stack.enter_context(mediapipe_selfie(person_model.variant.size)) if browser and person_model else None
        with _progress("bench temporal") as progress:
            results = run_temporal(camvid, person_model, clips, data_root, progress, peer)
    if browser:
        results["browser_ms"] = browser_cost_ms(Path(__file__).resolve().parents[3])
    results.update(machine=machine.describe(), command=_command())
    save_json(out / TEMPORAL_JSON, results)
    write_temporal(out, report)


def train_bench(
    model: Annotated[str, typer.Option(help="Model name from the zoo.")] = "ddrnet_tiny",
    data: Annotated[str, typer.Option(help="Dataset name.")] = "camvid",
    data_root: Annotated[Path | None, typer.Option(help="Dataset folder (default: liveseg data dir / NAME).")] = None,
    crop: Annotated[str, typer.Option(help="Training crop HEIGHTxWIDTH.")] = "256x320",
    batch: Annotated[int, typer.Option(min=1, help="Images per batch.")] = 8,
    steps: Annotated[int, typer.Option(min=1, help="Measured steps per pipeline.")] = 20,
    warmup: Annotated[int, typer.Option(min=0, help="Unmeasured steps first (allocations, oneDNN kernels).")] = 3,
    threads: Annotated[int | None, typer.Option(min=1, help="PyTorch CPU threads.")] = None,
    compile: Annotated[bool, typer.Option(help="Also measure torch.compile (minutes of compilation).")] = False,
    out: Out = DEFAULT_OUT,
) -> None:
    """Training throughput (img/s) of the file and in-memory pipelines, fp32 and bf16, through `liveseg train`'s
    own code; writes OUT/train.json."""
    require("train", "torch", "albumentations", command="bench train")
    from liveseg.bench.results import save_json
    from liveseg.bench.train import PIPELINES, run_train_bench
    from liveseg.settings import parse_size
    from liveseg.train.config import TrainConfig

    # `out` is required by the config but never written: the bench runs training steps, not epochs.
    base = TrainConfig(
        model=model, data=data, data_root=str(data_root) if data_root else None, crop=parse_size(crop), batch=batch,
        threads=threads, workers=2, out=str(out / "train-run-unused"), loss="balanced",
    )  # fmt: skip
    pipelines = tuple(p for p in PIPELINES if compile or not p.compile)
    with _progress("bench train") as progress:
        results = run_train_bench(base, pipelines, steps, warmup, progress)
    results.update(command=_command())
    save_json(out / "train.json", results)
    for row in results["results"]:
        typer.echo(
            f"{row['pipeline']:<30} {row['img_per_s']:6.1f} img/s  "
            f"(data {row['data_ms_per_batch']:.0f} ms + step {row['step_ms_per_batch']:.0f} ms per batch)"
        )


def ray_bench(
    model: Model = "default",
    images: Annotated[
        Path | None, typer.Option(help="Folder of images, cycled through (default: CamVid val from the data folder).")
    ] = None,
    count: Annotated[int, typer.Option(min=1, help="Images segmented per configuration.")] = 1000,
    cpus: Annotated[str, typer.Option(help="CPU counts: plain-path threads, and Ray CPUs (one actor each).")] = "1,2",
    batch: Annotated[int, typer.Option(min=1, help="Images per onnxruntime call.")] = 8,
    out: Out = DEFAULT_OUT,
) -> None:
    """Scaling of `liveseg segment --engine ray` on a local Ray against the plain path: images/s per CPU count,
    label PNGs written; writes OUT/ray.json (needs liveseg\\[ray])."""
    require("ray", command="bench ray")
    from liveseg.bench.ray import RayBenchOptions, run_ray_bench
    from liveseg.bench.results import save_json

    opts = RayBenchOptions(model, _bench_images(images), count, _ints(cpus, "cpus"), batch)
    with _progress("bench ray") as progress:
        results = run_ray_bench(opts, progress)
    results.update(command=_command())
    save_json(out / "ray.json", results)
    for row in results["results"]:
        extra = (
            f"  ({row['vs_plain']:.2f}x plain; Ray started in {row['ray_start_s']:.1f} s)" if "vs_plain" in row else ""
        )
        typer.echo(f"{row['engine']:<6} {row['cpus']} CPU(s)  {row['img_per_s']:7.1f} img/s{extra}")


def register(app: typer.Typer) -> None:
    bench_app.command("python")(python)
    bench_app.command("browser")(browser)
    bench_app.command("soak")(soak)
    bench_app.command("person")(person)
    bench_app.command("all")(run_all)
    bench_app.command("report")(report_only)
    bench_app.command("temporal")(temporal)
    bench_app.command("train")(train_bench)
    bench_app.command("ray")(ray_bench)
    app.add_typer(bench_app, name="bench")
