"""`liveseg bench`: Python and browser benchmarks of a bundle, and the BENCHMARKS.md they generate.

`liveseg bench all` regenerates BENCHMARKS.md from scratch; `python` and `browser` each refresh their own JSON
and re-render the report from whatever results the output folder holds.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from liveseg.errors import LivesegError

bench_app = typer.Typer(
    help="Benchmark a bundle in Python runtimes and in a real browser; write BENCHMARKS.md.", no_args_is_help=True
)

Model = Annotated[str, typer.Option("--model", "-m", help="Bundle directory, manifest.json or 'default'.")]
Out = Annotated[Path, typer.Option(help="Folder for the JSON results and the PNG charts.")]
Report = Annotated[Path, typer.Option(help="The Markdown report to (re)generate.")]
Quick = Annotated[bool, typer.Option(help="A few frames, one thread count/backend: checks the harness, not speed.")]
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


def _webcam_images(images: Path | None) -> list[Path]:
    """Frames for the fake webcam and the TF.js calibration: a folder given, else CamVid val from the registry."""
    if images is not None:
        files = sorted(p for p in images.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if not files:
            raise LivesegError(f"{images} holds no .jpg or .png images; pass a folder of video frames to --images.")
        return files[:30]
    from liveseg.data import get_dataset

    ds = get_dataset("camvid", split="val")
    return [ds.image_path(i) for i in range(min(30, len(ds)))]


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
    from liveseg.bench.report import PYTHON_JSON, save_json
    from liveseg.cli.options import parse_sizes
    from liveseg.runtime.bundle import open_bundle

    bundle = open_bundle(model)
    bundle.verify()
    default = bundle.manifest["default_variant"]
    precisions = precision.split(",") if precision else (["fp32"] if quick else bundle.precisions)
    sizes = parse_sizes(size) if size else [(default["height"], default["width"])]
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


def run_browser_bench(
    model: str,
    precision: str | None,
    size: str | None,
    backends: str,
    threads: int,
    frames: int,
    seed: bool,
    tfjs: bool,
    tfjs_venv: Path,
    images: Path | None,
    quick: bool,
    out: Path,
) -> dict:
    from liveseg.bench import graphs, machine
    from liveseg.bench import tfjs as tfjs_conversion
    from liveseg.bench.browser import CAMERA_FPS, WARMUP_FRAMES, BrowserOptions, run_browser
    from liveseg.bench.python import model_gflops
    from liveseg.bench.report import BROWSER_JSON, save_json
    from liveseg.bench.y4m import camvid_webcam
    from liveseg.cli.options import parse_size
    from liveseg.runtime.bundle import open_bundle

    bundle = open_bundle(model)
    bundle.verify()
    default = bundle.manifest["default_variant"]
    variant = bundle.variant(precision=precision or default["precision"], size=parse_size(size) if size else None)
    wanted = [b.strip() for b in backends.split(",") if b.strip()]
    if unknown := set(wanted) - {"wasm", "webgl", "webgpu"}:
        raise LivesegError(f"Unknown backend(s) {', '.join(sorted(unknown))}; use wasm, webgl and/or webgpu.")
    pictures = _webcam_images(images)
    notes: list[str] = []
    info = machine.describe()
    with tempfile.TemporaryDirectory(prefix="liveseg-bench-") as tmp:
        work = Path(tmp)
        webcam = camvid_webcam(pictures, work / "webcam.y4m", size=variant.size, fps=CAMERA_FPS)
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
            probes=graphs.peak_probes(work)[:1] if quick else graphs.peak_probes(work),
        )
        with _progress("bench browser") as progress:
            results = run_browser(opts, notes, progress)
    results.update(machine=info, command=_command(), quick=quick, notes=notes, model_gflops=model_gflops([variant]))
    save_json(out / BROWSER_JSON, results)
    return results


def python(
    model: Model = "default",
    precision: Annotated[str | None, typer.Option(help="Comma list (default: every precision in the bundle).")] = None,
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
    from liveseg.bench.report import write_report

    run_python_bench(model, precision, size, threads, batch, frames, checkpoint, torch, quick, out)
    write_report(out, report)


def browser(
    model: Model = "default",
    precision: Annotated[str | None, typer.Option(help="Precision variant (default: the bundle's default).")] = None,
    size: Annotated[str | None, typer.Option(help="HxW variant (default: the bundle's default).")] = None,
    backends: Annotated[
        str, typer.Option(help="onnxruntime-web / TF.js backends: wasm, webgl, webgpu.")
    ] = "wasm,webgl",
    threads: Annotated[int, typer.Option(min=1, help="WASM threads.")] = 2,
    frames: Annotated[int, typer.Option(min=2, help="Measured frames per page (after warm-up).")] = 100,
    seed: Annotated[bool, typer.Option(help="Run the seed-style baseline page.")] = True,
    tfjs: Annotated[bool, typer.Option(help="Convert to TF.js and run the TF.js peer page.")] = True,
    tfjs_venv: Annotated[Path, typer.Option(help="Virtual env with onnx2tf and tensorflowjs.")] = Path(".venv-bench"),
    images: Annotated[
        Path | None, typer.Option(help="Frames for the fake webcam (default: CamVid val from the data folder).")
    ] = None,
    quick: Quick = False,
    out: Out = DEFAULT_OUT,
    report: Report = DEFAULT_REPORT,
) -> None:
    """The web app in headless Chromium vs the seed-style and TF.js pipelines; per-step times, fps, heap."""
    from liveseg.bench.report import write_report

    run_browser_bench(model, precision, size, backends, threads, frames, seed, tfjs, tfjs_venv, images, quick, out)
    write_report(out, report)


def run_all(
    model: Model = "default",
    frames: Annotated[int, typer.Option(min=2, help="Measured frames per configuration.")] = 100,
    backends: Annotated[str, typer.Option(help="Browser backends.")] = "wasm,webgl",
    tfjs_venv: Annotated[Path, typer.Option(help="Virtual env with onnx2tf and tensorflowjs.")] = Path(".venv-bench"),
    images: Annotated[Path | None, typer.Option(help="Frames for the fake webcam (default: CamVid val).")] = None,
    out: Out = DEFAULT_OUT,
    report: Report = DEFAULT_REPORT,
) -> None:
    """Both benchmarks with their defaults, then BENCHMARKS.md: the one command that regenerates it."""
    from liveseg.bench.report import write_report

    run_python_bench(model, None, None, "1,2", "1,8", frames, None, True, False, out)
    run_browser_bench(model, None, None, backends, 2, frames, True, True, tfjs_venv, images, False, out)
    write_report(out, report)


def report_only(out: Out = DEFAULT_OUT, report: Report = DEFAULT_REPORT) -> None:
    """Re-render the tables, charts and BENCHMARKS.md from the JSON already in --out."""
    from liveseg.bench.report import BROWSER_JSON, PYTHON_JSON, write_report

    if not (out / PYTHON_JSON).is_file() and not (out / BROWSER_JSON).is_file():
        raise LivesegError(f"{out} holds no {PYTHON_JSON} or {BROWSER_JSON}; run `liveseg bench all` first.")
    write_report(out, report)


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
    from liveseg.bench.report import save_json
    from liveseg.bench.train import PIPELINES, run_train_bench
    from liveseg.cli.options import parse_size
    from liveseg.train.config import TrainConfig

    base = TrainConfig(
        model=model, data=data, data_root=str(data_root) if data_root else None, crop=parse_size(crop), batch=batch,
        threads=threads, workers=2, out=tempfile.mkdtemp(prefix="liveseg-bench-train-"), loss="balanced",
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


def register(app: typer.Typer) -> None:
    bench_app.command("python")(python)
    bench_app.command("browser")(browser)
    bench_app.command("all")(run_all)
    bench_app.command("report")(report_only)
    bench_app.command("train")(train_bench)
    app.add_typer(bench_app, name="bench")
