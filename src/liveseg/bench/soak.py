"""`liveseg bench soak`: the web app live on the fake webcam for minutes, sampled at a fixed interval.

Each sample takes the JS heap after a forced garbage collection (DevTools protocol, so a leak shows as a slope and
not as GC noise), the workers' memory as the app measures it (measureUserAgentSpecificMemory: onnxruntime and its
WASM heap), the RSS of the page's renderer process (page, workers and WASM heaps together, whatever the app
reports), the frame rate from distinct camera frames, and whether the legend and stats panels changed since the
previous sample (an interval with new frames but an unchanged panel is a dropped update).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liveseg.bench.browser import (
    APP_POLL,
    WEBGPU_FLAGS,
    BrowserInfo,
    app_poll,
    app_state,
    chromium,
    open_page,
    serve,
    until,
)
from liveseg.bench.machine import Machine
from liveseg.bench.snapshot import Snapshot, snapshot
from liveseg.runtime.bundle import Bundle

# The app's poll and the text of its legend and stats panels, at one moment.
SAMPLE = f"""() => {{
  const text = (id) => document.getElementById(id)?.textContent ?? null;
  return {{ ...({APP_POLL})(), legend: text("legend"), stats: text("stats") }};
}}"""


@dataclass(frozen=True)
class SoakSample:
    """One sample: the page's progress, memory from every side (MB), and what changed since the previous sample
    (None on the first)."""

    t: float  # seconds since the first sample
    now: float  # the page's performance.now()
    count: int  # results from distinct camera frames so far
    results: int
    dropped: int | None  # camera frames the app skipped while busy, so far
    heap_mb: float  # JS heap after a forced GC
    heap_live_mb: float | None
    workers_mb: float | None
    page_total_mb: float | None
    renderer_mb: float | None
    chromium_mb: float | None
    fps: float | None
    legend_updated: bool | None
    stats_updated: bool | None


@dataclass(frozen=True)
class Reading:
    """A sample and the panels' text it was compared by (the text itself is not a result)."""

    sample: SoakSample
    legend: str | None
    stats: str | None


@dataclass(frozen=True)
class Growth:
    """A memory series' robust line: its start and end levels, the growth between them, its slope, its maximum."""

    start_mb: float
    end_mb: float
    growth: float
    slope_mb_per_min: float
    max_mb: float


@dataclass(frozen=True)
class FpsRange:
    mean: float
    min: float
    max: float


@dataclass(frozen=True)
class SoakSummary:
    samples: int
    minutes: float
    heap_mb: Growth | None  # the three memory series share their names with SoakSample's fields
    workers_mb: Growth | None
    renderer_mb: Growth | None
    fps: FpsRange | None
    stalled_intervals: int
    dropped_legend_updates: int
    dropped_stats_updates: int
    frames_dropped_by_app: int


@dataclass(frozen=True)
class SoakResult:
    """`liveseg bench soak`'s soak.json; `machine` to `minutes` are the suite's."""

    browser: BrowserInfo
    bundle: str
    backend: str | None  # as the app's snapshot says them (None only before a model ran)
    precision: str | None
    size: str | None
    threads: int | None
    interval_s: float
    warmup_s: float
    samples: list[SoakSample]
    summary: SoakSummary
    errors: list[str]
    machine: Machine | None = None
    command: str | None = None
    quick: bool | None = None
    minutes: float | None = None


@dataclass
class SoakOptions:
    bundle: Bundle
    precision: str
    size: tuple[int, int]
    backend: str
    threads: int
    minutes: float
    interval_s: float
    webcam: Path
    warmup_s: float = 30.0
    timeout_s: float = 300


def _chromium_rss_mb() -> tuple[float | None, float | None]:
    """(largest renderer, all Chromium processes) RSS in MB among this process's descendants."""
    import psutil

    renderer, total = None, 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            cmdline = proc.cmdline()
            rss = proc.memory_info().rss / 2**20
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if not cmdline or "chrom" not in Path(cmdline[0]).name:
            continue
        total += rss
        if "--type=renderer" in cmdline:
            renderer = max(renderer or 0.0, rss)
    return renderer, (total or None)


def _read(page) -> dict:
    """SAMPLE in the app poll's terms (`app_state`), with the snapshot's memory and dropped frames."""
    poll = page.evaluate(SAMPLE)
    s: Snapshot = poll["snapshot"]
    return {
        **app_state(poll),
        "memory": s["memory"],
        "dropped": s["dropped"],
        "legend": poll["legend"],
        "stats": poll["stats"],
    }


def _sample(page, cdp, previous: Reading | None, t0: float) -> Reading:
    state = _read(page)
    live_mb = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize / 2 ** 20 : null")
    cdp.send("HeapProfiler.collectGarbage")
    heap_mb = cdp.send("Runtime.getHeapUsage")["usedSize"] / 2**20
    renderer_mb, chromium_mb = _chromium_rss_mb()
    memory = state["memory"] or {}
    before = previous.sample if previous else None
    sample = SoakSample(
        t=time.monotonic() - t0,
        now=state["now"],
        count=state["count"],
        results=state["results"],
        dropped=state["dropped"],
        heap_mb=heap_mb,
        heap_live_mb=live_mb,
        workers_mb=memory.get("workersMB"),
        page_total_mb=memory.get("totalMB"),
        renderer_mb=renderer_mb,
        chromium_mb=chromium_mb,
        fps=(state["count"] - before.count) * 1000 / (state["now"] - before.now) if before else None,
        legend_updated=state["legend"] != previous.legend if previous else None,
        stats_updated=state["stats"] != previous.stats if previous else None,
    )
    return Reading(sample, state["legend"], state["stats"])


def growth(values: Sequence[float | None], t_s: Sequence[float]) -> Growth | None:
    """Start and end level of the robust (Theil–Sen) line through every sample, growth between them, its slope
    per minute.

    The median of all pairwise slopes, not least squares or a few samples at each end: a heap read after GC
    alternates between levels from one sample to the next, and one sample caught mid-collection must not
    tilt the line; a leak still reads as its slope.
    """
    points = [(t, v) for t, v in zip(t_s, values, strict=True) if v is not None]
    if len(points) < 2:
        return None
    t, v = np.array(points).T
    t = t / 60
    first, second = np.triu_indices(len(t), 1)
    slope = float(np.median((v[second] - v[first]) / (t[second] - t[first])))
    level = float(np.median(v - slope * t))
    start, end = level + slope * t[0], level + slope * t[-1]
    return Growth(start, end, end / start - 1, slope, float(v.max()))


def summarize_soak(readings: list[Reading]) -> SoakSummary:
    samples = [r.sample for r in readings]
    t = [s.t for s in samples]
    intervals = samples[1:]
    advanced = [r for prev, r in itertools.pairwise(readings) if r.sample.count > prev.sample.count]
    fps = [s.fps for s in intervals if s.fps is not None]
    return SoakSummary(
        samples=len(samples),
        minutes=(t[-1] - t[0]) / 60 if len(t) > 1 else 0.0,
        heap_mb=growth([s.heap_mb for s in samples], t),
        workers_mb=growth([s.workers_mb for s in samples], t),
        renderer_mb=growth([s.renderer_mb for s in samples], t),
        fps=FpsRange(float(np.mean(fps)), float(np.min(fps)), float(np.max(fps))) if fps else None,
        stalled_intervals=len(intervals) - len(advanced),
        dropped_legend_updates=sum(not r.sample.legend_updated for r in advanced if r.legend is not None),
        dropped_stats_updates=sum(not r.sample.stats_updated for r in advanced if r.stats is not None),
        frames_dropped_by_app=(samples[-1].dropped or 0) - (samples[0].dropped or 0),
    )


def run_soak(opts: SoakOptions, progress: Callable[[int], Callable[[], None]] | None = None) -> SoakResult:
    """Open the app on the fake webcam, warm up, then sample every `interval_s` for `minutes`."""
    total = max(2, round(opts.minutes * 60 / opts.interval_s) + 1)
    advance = progress(total) if progress else (lambda: None)
    h, w = opts.size
    query = (
        f"?model={opts.bundle.name}&backend={opts.backend}&precision={opts.precision}&size={h}x{w}"
        f"&threads={opts.threads}&source=camera&resolution={w}x{h}&autostart=1"
    )
    flags = WEBGPU_FLAGS if opts.backend == "webgpu" else []
    with serve(opts.bundle) as base, chromium(opts.webcam, flags) as browser:
        context, page, errors = open_page(browser, base + query)
        try:
            what = f"The liveseg page ({opts.backend}) segmenting a frame"
            until(page, app_poll, lambda s: s["count"] >= 1, opts.timeout_s, what, errors)
            page.wait_for_timeout(opts.warmup_s * 1000)
            cdp = context.new_cdp_session(page)
            t0 = time.monotonic()
            readings: list[Reading] = []
            for i in range(total):
                page.wait_for_timeout(max(0.0, t0 + i * opts.interval_s - time.monotonic()) * 1000)
                readings.append(_sample(page, cdp, readings[-1] if readings else None, t0))
                advance()
            final = snapshot(page)
        finally:
            context.close()
        version = browser.version
    return SoakResult(
        browser=BrowserInfo("chromium", version),
        bundle=opts.bundle.name,
        backend=final["backend"],
        precision=final["precision"],
        size=final["size"],
        threads=final["threads"],
        interval_s=opts.interval_s,
        warmup_s=opts.warmup_s,
        samples=[r.sample for r in readings],
        summary=summarize_soak(readings),
        errors=errors,
    )
