"""What each `liveseg bench` command runs: its settings, declared once (liveseg.settings; the CLI generates the
command's options from them), and the work between the settings and the measurements: opening and verifying the
bundle, the fake webcam, the TF.js conversion, then the results' machine, command line and notes, saved as JSON.

Each function takes its settings, a progress display (`Progress`: the CLI's bar, one per stage) and the command
line to record (the report's "reproduce" section), and returns the results it saved in `settings.out`. Heavy
modules are imported inside the functions: the CLI imports this module to build its commands.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from liveseg import tfenv
from liveseg.errors import LivesegError
from liveseg.runtime.manifest import PRECISIONS
from liveseg.settings import counts, option, parse_precisions, parse_size, parse_sizes

if TYPE_CHECKING:
    from liveseg.bench.browser import BrowserResult
    from liveseg.bench.person import PersonResult
    from liveseg.bench.python import PythonResult
    from liveseg.bench.ray import RayResult
    from liveseg.bench.soak import SoakResult
    from liveseg.bench.temporal import TemporalResult
    from liveseg.bench.train import TrainResult
    from liveseg.runtime.bundle import Bundle, Variant

R = TypeVar("R")

# A stage's total → the callable that advances it by one; a display per labelled stage (the CLI's Rich bar).
Start = Callable[[int], Callable[[], None]]
Progress = Callable[[str], AbstractContextManager[Start]]

BACKENDS = ("wasm", "webgl", "webgpu")
REPO = Path(__file__).resolve().parents[3]  # the checkout, when liveseg runs from one (the web app's sources)

# Options several benchmarks share, declared once: `option(**MODEL)`.
MODEL: dict[str, Any] = {
    "default": "default",
    "help": "Bundle directory, manifest.json or 'default'.",
    "decls": ("--model", "-m"),
}
OUT: dict[str, Any] = {"default": Path("docs/bench"), "help": "Folder for the JSON results and the PNG charts."}
REPORT: dict[str, Any] = {"default": Path("BENCHMARKS.md"), "help": "The Markdown report to (re)generate."}
QUICK: dict[str, Any] = {
    "default": False,
    "help": "A few frames, one thread count/backend: checks the harness, not speed.",
}
PRECISION: dict[str, Any] = {
    "default": None,
    "help": "Precision variant (default: the bundle's default).",
    "choices": PRECISIONS,
}
SIZE: dict[str, Any] = {"default": None, "help": "HxW variant (default: the bundle's default).", "parse": parse_size}
THREADS: dict[str, Any] = {"default": 2, "help": "WASM threads.", "min": 1}
MINUTES: dict[str, Any] = {"default": 10.0, "help": "How long the soak runs.", "min": 0.1}
IMAGES: dict[str, Any] = {
    "default": None,
    "help": "Frames for the fake webcam (default: CamVid val from the data folder).",
}


def parse_backends(text: str) -> list[str]:
    wanted = [b.strip() for b in text.split(",") if b.strip()]
    if not wanted or set(wanted) - set(BACKENDS):
        raise LivesegError(f"--backends {text!r} is not a comma list of {', '.join(BACKENDS)}.")
    return wanted


def bench_images(images: Path | None, limit: int | None = None) -> list[Path]:
    """The first `limit` images of a folder given, else of CamVid val from the registry."""
    if images is not None:
        files = sorted(p for p in images.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if not files:
            raise LivesegError(f"{images} holds no .jpg or .png images; pass a folder of images to --images.")
        return files[:limit]
    from liveseg.data import get_dataset

    ds = get_dataset("camvid", split="val")
    return [ds.image_path(i) for i in range(min(limit or len(ds), len(ds)))]


def _bundle(model: str) -> Bundle:
    from liveseg.runtime.bundle import open_bundle

    bundle = open_bundle(model)
    bundle.verify()
    return bundle


def _save(out: Path, name: str, result: R) -> R:
    from liveseg.bench.results import save_json

    save_json(out / name, result)
    return result


@dataclass
class PythonBenchSettings:
    model: str = option(**MODEL)
    precisions: list[str] | None = option(
        None, "Variants (default: every precision in the bundle).", parse=parse_precisions, items=PRECISIONS,
        flag="precision",
    )  # fmt: skip
    sizes: list[tuple[int, int]] | None = option(
        None, "HxW list, e.g. 360x480,180x240 (default: the bundle's).", parse=parse_sizes, flag="size"
    )
    threads: list[int] = option("1,2", "CPU thread counts to compare.", parse=counts("threads"))
    batches: list[int] = option("1,8", "Batch sizes (throughput).", parse=counts("batch"), flag="batch")
    frames: int = option(50, "Timed frames per configuration (after warm-up).", min=1)
    checkpoint: Path | None = option(
        None,
        "PyTorch runs: this checkpoint (default: the bundle's architecture, random weights, which run at the same "
        "speed).",
    )
    torch: bool = option(True, "Also run PyTorch eager (and CUDA when present).")
    quick: bool = option(**QUICK)
    out: Path = option(**OUT)
    report: Path = option(**REPORT)


def python_bench(settings: PythonBenchSettings, progress: Progress, command: str) -> PythonResult:
    """onnxruntime per thread count, PyTorch eager, CUDA when present (`quick`: fp32, one thread, five frames)."""
    from liveseg.bench import machine
    from liveseg.bench.python import PythonOptions, run_python
    from liveseg.bench.results import PYTHON_JSON

    s = settings
    bundle = _bundle(s.model)
    opts = PythonOptions(
        bundle=bundle,
        precisions=s.precisions or (["fp32"] if s.quick else bundle.precisions),
        sizes=s.sizes or [bundle.manifest.default_size],
        threads=[1] if s.quick else s.threads,
        batches=[1, 2] if s.quick else s.batches,
        frames=5 if s.quick else s.frames,
        checkpoint=s.checkpoint,
        torch=s.torch and not s.quick,
    )
    info = machine.describe()
    with progress("bench python") as start:
        results = run_python(opts, start)
    notes = [] if s.torch else ["PyTorch runs were turned off (--no-torch)."]
    return _save(s.out, PYTHON_JSON, replace(results, machine=info, command=command, quick=s.quick, notes=notes))


@dataclass
class BrowserBenchSettings:
    model: str = option(**MODEL)
    precision: str | None = option(**PRECISION)
    size: tuple[int, int] | None = option(**SIZE)
    backends: list[str] = option(
        ",".join(BACKENDS), "onnxruntime-web / TF.js backends.", parse=parse_backends, items=BACKENDS
    )
    threads: int = option(**THREADS)
    frames: int = option(100, "Measured frames per page (after warm-up).", min=2)
    seed: bool = option(True, "Run the seed-style baseline page.")
    tfjs: bool = option(True, "Convert to TF.js and run the TF.js peer page.")
    mediapipe: bool = option(True, "Run the MediaPipe selfie-segmentation peer page.")
    tfjs_venv: Path | None = option(**tfenv.OPTION)
    images: Path | None = option(**IMAGES)
    quick: bool = option(**QUICK)
    out: Path = option(**OUT)
    report: Path = option(**REPORT)


def browser_bench(settings: BrowserBenchSettings, progress: Progress, command: str) -> BrowserResult:
    """The app, its module API and the peer pages on one fake webcam of the chosen variant's size; the seed and
    TF.js pages run the variant's fp32 network as a logits graph (TF.js converted from it, once, cached)."""
    from liveseg.bench import graphs, machine
    from liveseg.bench.browser import WARMUP_FRAMES, BrowserOptions, run_browser
    from liveseg.bench.python import model_gflops
    from liveseg.bench.results import BROWSER_JSON
    from liveseg.bench.y4m import camvid_webcam

    s = settings
    bundle = _bundle(s.model)
    variant = bundle.variant(precision=s.precision, size=s.size)
    pictures = bench_images(s.images, limit=30)  # webcam frames, TF.js calibration
    notes: list[str] = []
    info = machine.describe()
    with tempfile.TemporaryDirectory(prefix="liveseg-bench-") as tmp:
        work = Path(tmp)
        logits = _logits_graph(bundle, variant, work) if s.seed or s.tfjs else None
        opts = BrowserOptions(
            bundle=bundle,
            precision=variant.precision,
            size=variant.size,
            backends=s.backends[:1] if s.quick else s.backends,
            threads=s.threads,
            frames=5 if s.quick else s.frames,
            warmup=2 if s.quick else WARMUP_FRAMES,
            webcam=camvid_webcam(pictures, work / "webcam.y4m", size=variant.size),
            logits_onnx=logits if s.seed else None,
            tfjs_model=_tfjs(logits, s, pictures, notes) if s.tfjs and not s.quick else None,
            mediapipe=s.mediapipe,
            probes=graphs.peak_probes(work)[:1] if s.quick else graphs.peak_probes(work),
        )
        with progress("bench browser") as start:
            results = run_browser(opts, notes, start)
    flops = model_gflops([variant])
    results = replace(results, machine=info, command=command, quick=s.quick, notes=notes, model_gflops=flops)
    return _save(s.out, BROWSER_JSON, results)


def _logits_graph(bundle: Bundle, variant: Variant, work: Path) -> Path:
    """The fp32 network at the variant's size as the seed-style logits graph (normalised float in, logits out)."""
    from liveseg.bench import graphs

    logits = work / "logits.onnx"
    graphs.logits_graph(bundle.variant(precision="fp32", size=variant.size).path, logits)
    return logits


def _tfjs(logits: Path | None, settings: BrowserBenchSettings, pictures: list[Path], notes: list[str]) -> Path | None:
    """The TF.js model of the logits graph; a conversion that fails is a note, and that peer is not run."""
    from liveseg.bench import tfjs

    if logits is None:  # the logits graph is made whenever the TF.js peer is asked for
        return None
    try:
        return tfjs.convert(logits, settings.tfjs_venv, pictures)
    except LivesegError as exc:
        notes.append(f"TF.js peer not run: {exc}")
        return None


@dataclass
class SoakBenchSettings:
    model: str = option(**MODEL)
    precision: str | None = option(**PRECISION)
    size: tuple[int, int] | None = option(**SIZE)
    backend: str = option("wasm", "The app's backend.", choices=BACKENDS)
    threads: int = option(**THREADS)
    minutes: float = option(**MINUTES)
    interval: float = option(10.0, "Seconds between soak samples.", min=1)
    images: Path | None = option(**IMAGES)
    quick: bool = option(False, "15 s at 5 s intervals: checks the harness, not memory.")
    out: Path = option(**OUT)
    report: Path = option(**REPORT)


def soak_bench(settings: SoakBenchSettings, progress: Progress, command: str) -> SoakResult:
    """The app live on the fake webcam for `minutes`, sampled every `interval` seconds after a minute's warm-up."""
    from liveseg.bench import machine
    from liveseg.bench.results import SOAK_JSON
    from liveseg.bench.soak import SoakOptions, run_soak
    from liveseg.bench.y4m import camvid_webcam

    s = settings
    bundle = _bundle(s.model)
    variant = bundle.variant(precision=s.precision, size=s.size)
    pictures = bench_images(s.images, limit=30)
    info = machine.describe()
    with tempfile.TemporaryDirectory(prefix="liveseg-soak-") as tmp:
        opts = SoakOptions(
            bundle=bundle,
            precision=variant.precision,
            size=variant.size,
            backend=s.backend,
            threads=s.threads,
            minutes=0.25 if s.quick else s.minutes,
            interval_s=5 if s.quick else s.interval,
            webcam=camvid_webcam(pictures, Path(tmp) / "webcam.y4m", size=variant.size),
            warmup_s=5 if s.quick else 60,  # the renderer's RSS still ramps up over the first minute
        )
        with progress("bench soak") as start:
            results = run_soak(opts, start)
    return _save(s.out, SOAK_JSON, replace(results, machine=info, command=command, quick=s.quick, minutes=opts.minutes))


@dataclass
class AllBenchSettings:
    model: str = option(**MODEL)
    frames: int = option(100, "Measured frames per configuration.", min=2)
    backends: list[str] = option(",".join(BACKENDS), "Browser backends.", parse=parse_backends, items=BACKENDS)
    minutes: float = option(**MINUTES)
    tfjs_venv: Path | None = option(**tfenv.OPTION)
    images: Path | None = option(**IMAGES)
    out: Path = option(**OUT)
    report: Path = option(**REPORT)


def all_benches(settings: AllBenchSettings, progress: Progress, command: str) -> None:
    """The Python and browser benchmarks and the soak, each with its own defaults but for the settings shared."""
    s = settings
    python_bench(PythonBenchSettings(model=s.model, frames=s.frames, out=s.out), progress, command)
    browser = BrowserBenchSettings(
        model=s.model, backends=s.backends, frames=s.frames, tfjs_venv=s.tfjs_venv, images=s.images, out=s.out
    )
    browser_bench(browser, progress, command)
    soak_bench(SoakBenchSettings(model=s.model, minutes=s.minutes, images=s.images, out=s.out), progress, command)


@dataclass
class PersonBenchSettings:
    threads: int = option(**THREADS)
    frames: int = option(100, "Measured frames per browser page (after warm-up).", min=2)
    images: Path | None = option(None, "Photos timed in Python (default: 100 CamVid val photos from the data folder).")
    mediapipe_python: Path | None = option(None, "A Python with mediapipe==0.10.21, for MediaPipe's Python timing.")
    browser: bool = option(True, "Run the browser part (the app with blur vs MediaPipe's page).")
    out: Path = option(**OUT)
    report: Path = option(**REPORT)


def person_bench(settings: PersonBenchSettings, command: str) -> PersonResult:
    """The bundled person model against MediaPipe, in the browser and in Python (the npm package's .tflite when
    the checkout has it)."""
    from liveseg.bench import machine
    from liveseg.bench.person import PersonOptions, run_person
    from liveseg.bench.results import PERSON_JSON
    from liveseg.export.mediapipe import NPM_PACKAGE

    s = settings
    package = REPO / "web" / "node_modules" / NPM_PACKAGE
    opts = PersonOptions(
        photos=bench_images(s.images, limit=100),
        threads=s.threads,
        frames=s.frames,
        mediapipe_python=s.mediapipe_python,
        npm_package=package if package.is_dir() else None,
        browser=s.browser,
    )
    notes: list[str] = []
    info = machine.describe()
    results = run_person(opts, notes)
    return _save(s.out, PERSON_JSON, replace(results, machine=info, command=command, notes=notes))


@dataclass
class TemporalBenchSettings:
    model: str = option(**MODEL)
    person: str | None = option("person-selfie", "The person model for the portrait clips ('none' to skip).")
    clips: int = option(4, "CamVid val frames, each made into a static and a pan clip.", min=1)
    data_root: Path | None = option(None, "CamVid folder (default: liveseg data dir / camvid).")
    browser: bool = option(True, "Also time the TypeScript stabiliser and run MediaPipe's selfie solution in Chromium.")
    out: Path = option(**OUT)
    report: Path = option(**REPORT)


def temporal_bench(settings: TemporalBenchSettings, progress: Progress, command: str) -> TemporalResult:
    """Every clip through each model once, with MediaPipe's selfie solution beside the person model when the
    browser part runs, then the stabiliser's cost per frame in the browser."""
    from liveseg.bench import machine
    from liveseg.bench.results import TEMPORAL_JSON
    from liveseg.bench.temporal import browser_cost_ms, mediapipe_selfie, run_temporal
    from liveseg.runtime import load

    s = settings
    info = machine.describe()
    camvid = load(s.model, threads=1)
    person = load(s.person, threads=1) if s.person and s.person != "none" else None
    with ExitStack() as stack:
        peer = stack.enter_context(mediapipe_selfie(person.variant.size)) if s.browser and person else None
        with progress("bench temporal") as start:
            results = run_temporal(camvid, person, s.clips, s.data_root, start, peer)
    cost = browser_cost_ms(REPO) if s.browser else None
    results = replace(results, browser_ms=cost, machine=info, command=command)
    return _save(s.out, TEMPORAL_JSON, results)


@dataclass
class TrainBenchSettings:
    model: str = option("ddrnet_tiny", "Model name from the zoo.")
    data: str = option("camvid", "Dataset name.")
    data_root: Path | None = option(None, "Dataset folder (default: liveseg data dir / NAME).")
    crop: tuple[int, int] = option("256x320", "Training crop HEIGHTxWIDTH.", parse=parse_size)
    batch: int = option(8, "Images per batch.", min=1)
    steps: int = option(20, "Measured steps per pipeline.", min=1)
    warmup: int = option(3, "Unmeasured steps first (allocations, oneDNN kernels).", min=0)
    threads: int | None = option(None, "PyTorch CPU threads.", min=1)
    compile: bool = option(False, "Also measure torch.compile (minutes of compilation).")
    out: Path = option(**OUT)


def train_bench(settings: TrainBenchSettings, progress: Progress, command: str) -> TrainResult:
    """Each training pipeline (torch.compile only when asked) through `liveseg train`'s own step."""
    from liveseg.bench.results import TRAIN_JSON
    from liveseg.bench.train import PIPELINES, run_train_bench
    from liveseg.train.config import TrainConfig

    s = settings
    # `out` is required by the config but never written: the bench runs training steps, not epochs.
    base = TrainConfig(
        model=s.model, data=s.data, data_root=str(s.data_root) if s.data_root else None, crop=s.crop, batch=s.batch,
        threads=s.threads, workers=2, out=str(s.out / "train-run-unused"), loss="balanced",
    )  # fmt: skip
    pipelines = tuple(p for p in PIPELINES if s.compile or not p.compile)
    with progress("bench train") as start:
        results = run_train_bench(base, pipelines, s.steps, s.warmup, start)
    return _save(s.out, TRAIN_JSON, replace(results, command=command))


@dataclass
class RayBenchSettings:
    model: str = option(**MODEL)
    images: Path | None = option(None, "Folder of images, cycled through (default: CamVid val from the data folder).")
    count: int = option(1000, "Images segmented per configuration.", min=1)
    cpus: list[int] = option(
        "1,2", "CPU counts: plain-path threads, and Ray CPUs (one actor each).", parse=counts("cpus")
    )
    batch: int = option(8, "Images per onnxruntime call.", min=1)
    out: Path = option(**OUT)


def ray_bench(settings: RayBenchSettings, progress: Progress, command: str) -> RayResult:
    """The plain path and a local Ray per CPU count, on the same images."""
    from liveseg.bench.ray import RayBenchOptions, run_ray_bench
    from liveseg.bench.results import RAY_JSON

    s = settings
    opts = RayBenchOptions(s.model, bench_images(s.images), s.count, s.cpus, s.batch)
    with progress("bench ray") as start:
        results = run_ray_bench(opts, start)
    return _save(s.out, RAY_JSON, replace(results, command=command))


@dataclass
class ReportSettings:
    out: Path = option(**OUT)
    report: Path = option(**REPORT)


def rerender(settings: ReportSettings) -> None:
    """BENCHMARKS.md and the charts again from the JSON in `out`; none there is a usage error, not an empty report."""
    from liveseg.bench.report import write_report
    from liveseg.bench.results import RESULT_FILES

    if not any((settings.out / name).is_file() for name in RESULT_FILES.values()):
        names = ", ".join(RESULT_FILES.values())
        raise LivesegError(f"{settings.out} holds none of {names}; run `liveseg bench all` first.")
    write_report(settings.out, settings.report)
