"""`liveseg bench python`: the bundle in onnxruntime (CPU, per thread count), PyTorch eager and CUDA when present.

Every configuration gets a warm-up, then timed calls: median/p95 ms per frame, fps, batch throughput and the
peak RSS while it ran. The same runtime's peak GFLOP/s on this machine (large MatMul and Conv probes) turns the
model's FLOPs into an efficiency: how close a frame comes to what the hardware can do.
"""

from __future__ import annotations

import functools
import math
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from liveseg.bench.graphs import PeakRun, Probe, peak_probes
from liveseg.bench.machine import Machine
from liveseg.bench.stats import summarize
from liveseg.runtime.bundle import Bundle, Variant
from liveseg.runtime.session import create_session

WARMUP = 3


@dataclass
class PythonOptions:
    bundle: Bundle
    precisions: list[str]
    sizes: list[tuple[int, int]]
    threads: list[int]
    batches: list[int]
    frames: int
    checkpoint: Path | None = None
    torch: bool = True
    variants: list[Variant] = field(init=False)

    def __post_init__(self) -> None:
        self.variants = [self.bundle.variant(precision=p, size=s) for p in self.precisions for s in self.sizes]


@dataclass(frozen=True, kw_only=True)
class PythonRun:
    """One configuration's timed calls and their per-frame figures (a batch call's time divided by the batch)."""

    runtime: str
    precision: str
    size: str
    threads: int | None
    batch: int
    call_ms: list[float]
    # stats.Timing's figures, flattened into the row
    frames: int
    median_ms: float
    p95_ms: float
    mean_ms: float
    last20_ms: float
    fps: float
    peak_rss_mb: float | None
    model_gflops: float | None
    achieved_gflops: float | None
    peak_gpu_mb: float | None = None  # CUDA runs only
    peak_gflops_per_s: float | None  # the same runtime's peak at the same threads (onnxruntime CPU only)
    efficiency: float | None


@dataclass(frozen=True)
class OpTime:
    op: str
    ms: float
    share: float


@dataclass(frozen=True)
class OpProfile:
    """Where a frame's time goes inside one variant's graph, by op type, slowest first."""

    precision: str
    size: str
    threads: int
    ops: list[OpTime]


@dataclass(frozen=True)
class PythonResult:
    """`liveseg bench python`'s python.json; `machine` to `notes` are the suite's."""

    op_profile: OpProfile
    bundle: str
    model: str | None
    model_gflops: dict[str, float]  # per frame, by HxW
    frames: int
    runs: list[PythonRun]
    peak: list[PeakRun]
    skipped: list[str]
    machine: Machine | None = None
    command: str | None = None
    quick: bool | None = None
    notes: list[str] | None = None


class RssPeak:
    """Samples this process's resident memory in a thread; `peak_mb` is the highest value seen."""

    def __init__(self, interval_s: float = 0.005) -> None:
        import psutil

        self._process = psutil.Process()
        self._interval = interval_s
        self._stop = threading.Event()
        self.peak_mb = self._process.memory_info().rss / 2**20
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak_mb = max(self.peak_mb, self._process.memory_info().rss / 2**20)

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._process.memory_info().rss / 2**20)


def time_calls(call: Callable[[], object], calls: int, warmup: int = WARMUP) -> list[float]:
    """Milliseconds of each of `calls` timed calls after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def calls_for(frames: int, batch: int) -> int:
    """Enough calls that a batch run sees about as many frames as a single-frame run, and never fewer than 3."""
    return max(3, math.ceil(frames / batch))


def record(
    runtime: str,
    precision: str,
    size: tuple[int, int],
    threads: int | None,
    batch: int,
    call_ms: list[float],
    rss_mb: float | None,
    flops: dict[str, float],
) -> PythonRun:
    """One result row, its efficiency left for `add_efficiency`."""
    size_key = f"{size[0]}x{size[1]}"
    gflops = flops.get(size_key)
    summary = summarize([t / batch for t in call_ms])
    return PythonRun(
        runtime=runtime,
        precision=precision,
        size=size_key,
        threads=threads,
        batch=batch,
        call_ms=call_ms,
        **asdict(summary),
        peak_rss_mb=rss_mb,
        model_gflops=gflops,
        achieved_gflops=gflops / (summary.median_ms / 1000) if gflops else None,
        peak_gflops_per_s=None,
        efficiency=None,
    )


def bench_onnxruntime(opts: PythonOptions, flops: dict[str, float], advance: Callable[[], None]) -> Iterator[PythonRun]:
    rng = np.random.default_rng(0)
    for variant in opts.variants:
        size = variant.size
        for threads in opts.threads:
            with RssPeak() as rss:
                session = create_session(variant.path, threads)
                name = session.get_inputs()[0].name
                for batch in opts.batches:
                    pixels = rng.integers(0, 256, (batch, *size, 3), dtype=np.uint8)
                    times = time_calls(
                        functools.partial(session.run, None, {name: pixels}), calls_for(opts.frames, batch)
                    )
                    yield record("onnxruntime-cpu", variant.precision, size, threads, batch, times, rss.peak_mb, flops)
                    advance()
            del session


def torch_net(bundle: Bundle, checkpoint_path: Path | None = None):
    """The checkpoint's network when given, else the manifest's architecture with random weights (same speed)."""
    from liveseg import models

    if checkpoint_path is not None:
        from liveseg.models import checkpoint

        return checkpoint.build_model(checkpoint.load(checkpoint_path))
    spec = bundle.manifest.model
    net = models.create(spec["name"], num_classes=len(bundle.classes), **spec.get("kwargs", {}))
    return net.eval()


def bench_torch(opts: PythonOptions, flops: dict[str, float], advance: Callable[[], None]) -> Iterator[PythonRun]:
    """PyTorch eager on the CPU: the bare network on normalised float32 NCHW (no in-graph pre/post)."""
    import torch

    net = torch_net(opts.bundle, opts.checkpoint)
    previous = torch.get_num_threads()
    try:
        for size in opts.sizes:
            for threads in opts.threads:
                torch.set_num_threads(threads)
                for batch in opts.batches:
                    x = torch.randn(batch, 3, *size)
                    with RssPeak() as rss, torch.inference_mode():
                        times = time_calls(functools.partial(net, x), calls_for(opts.frames, batch))
                    yield record("torch-eager-cpu", "fp32", size, threads, batch, times, rss.peak_mb, flops)
                    advance()
    finally:
        torch.set_num_threads(previous)


def bench_cuda(opts: PythonOptions, flops: dict[str, float], advance: Callable[[], None]) -> Iterator[PythonRun]:
    """PyTorch on the GPU: fp32, then fp16 and bf16 autocast, channels_last; times include a synchronize."""
    import torch

    net = torch_net(opts.bundle, opts.checkpoint).cuda().to(memory_format=torch.channels_last)
    for size in opts.sizes:
        for dtype in (torch.float32, torch.float16, torch.bfloat16):
            for batch in opts.batches:
                x = torch.randn(batch, 3, *size, device="cuda").to(memory_format=torch.channels_last)

                def call(b=x, d=dtype):
                    with torch.inference_mode(), torch.autocast("cuda", dtype=d, enabled=d != torch.float32):
                        net(b)
                    torch.cuda.synchronize()

                torch.cuda.reset_peak_memory_stats()
                times = time_calls(call, calls_for(opts.frames, batch), warmup=10)
                row = record(
                    "torch-cuda-channels-last", str(dtype).removeprefix("torch."), size, None, batch, times, None, flops
                )
                yield replace(row, peak_gpu_mb=torch.cuda.max_memory_allocated() / 2**20)
                advance()


def model_gflops(variants: list[Variant]) -> dict[str, float]:
    """GFLOPs per frame for each variant size, as the export counted them (zoo FLOP counter) into the manifest."""
    return {f"{v.height}x{v.width}": v.gflops for v in variants if v.gflops is not None}


def bench_peak(threads: list[int], calls: int, advance: Callable[[], None]) -> list[PeakRun]:
    """GFLOP/s of onnxruntime CPU on float32 MatMul and 3x3 Conv probes, for each thread count."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="liveseg-peak-") as tmp:
        probes: list[Probe] = peak_probes(Path(tmp))
        rng = np.random.default_rng(0)
        for n in threads:
            for probe in probes:
                session = create_session(probe.path, n)
                x = rng.standard_normal(probe.input_shape, dtype=np.float32)
                times = time_calls(functools.partial(session.run, None, {"x": x}), calls)
                rows.append(probe.result("onnxruntime-cpu", n, times))
                advance()
    return rows


def op_profile(variant: Variant, threads: int, runs: int = 5) -> list[OpTime]:
    """Where a frame's time goes inside the bundle graph: onnxruntime's own per-operator profile, summed by op type."""
    import json

    with tempfile.TemporaryDirectory(prefix="liveseg-profile-") as tmp:
        session = create_session(variant.path, threads, profile_prefix=Path(tmp) / "ort")
        pixels = np.zeros((1, *variant.size, 3), dtype=np.uint8)
        for _ in range(runs):
            session.run(None, {session.get_inputs()[0].name: pixels})
        events = json.loads(Path(session.end_profiling()).read_text())
    totals: dict[str, float] = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            totals[e["args"]["op_name"]] = totals.get(e["args"]["op_name"], 0.0) + e["dur"] / 1000 / runs
    whole = sum(totals.values())
    rows = sorted(totals.items(), key=lambda kv: -kv[1])
    return [OpTime(op, ms, ms / whole) for op, ms in rows]


def peak_by_threads(peak_rows: list[PeakRun]) -> dict[int, float]:
    out: dict[int, float] = {}
    for row in peak_rows:
        out[row.threads] = max(out.get(row.threads, 0.0), row.gflops_per_s)
    return out


def add_efficiency(rows: list[PythonRun], peak_rows: list[PeakRun]) -> list[PythonRun]:
    """efficiency = achieved GFLOP/s of the model / peak GFLOP/s of the same runtime and thread count."""
    peaks = peak_by_threads(peak_rows)
    out = []
    for row in rows:
        peak = peaks.get(row.threads) if row.runtime == "onnxruntime-cpu" and row.threads is not None else None
        efficiency = row.achieved_gflops / peak if peak and row.achieved_gflops else None
        out.append(replace(row, peak_gflops_per_s=peak, efficiency=efficiency))
    return out


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def cuda_available() -> bool:
    if not torch_available():
        return False
    import torch

    return torch.cuda.is_available()


def run_python(opts: PythonOptions, progress: Callable[[int], Callable[[], None]] | None = None) -> PythonResult:
    """All Python benchmarks; `progress(total)` returns the callback that advances a progress bar by one step."""
    use_torch = opts.torch and torch_available()
    use_cuda = use_torch and cuda_available()
    steps = len(opts.threads) * 2  # peak probes
    steps += len(opts.variants) * len(opts.threads) * len(opts.batches)
    if use_torch:
        steps += len(opts.sizes) * len(opts.threads) * len(opts.batches)
    if use_cuda:
        steps += len(opts.sizes) * 3 * len(opts.batches)
    advance = progress(steps) if progress else (lambda: None)

    flops = model_gflops(opts.variants)
    peak_rows = bench_peak(opts.threads, max(3, min(opts.frames, 10)), advance)
    rows = list(bench_onnxruntime(opts, flops, advance))
    if use_torch:
        rows += list(bench_torch(opts, flops, advance))
    if use_cuda:
        rows += list(bench_cuda(opts, flops, advance))
    profiled = opts.variants[0]
    return PythonResult(
        op_profile=OpProfile(
            profiled.precision, f"{profiled.height}x{profiled.width}", 1, op_profile(profiled, threads=1)
        ),
        bundle=opts.bundle.name,
        model=opts.bundle.manifest.model.get("name"),
        model_gflops=flops,
        frames=opts.frames,
        runs=add_efficiency(rows, peak_rows),
        peak=peak_rows,
        skipped=[] if use_torch else ["torch (not installed)"],
    )
