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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liveseg.bench.browser import APP_POLL, WEBGPU_FLAGS, app_poll, app_state, chromium, open_page, serve, until
from liveseg.bench.snapshot import Snapshot, snapshot
from liveseg.runtime.bundle import Bundle

# The app's poll and the text of its legend and stats panels, at one moment.
SAMPLE = f"""() => {{
  const text = (id) => document.getElementById(id)?.textContent ?? null;
  return {{ ...({APP_POLL})(), legend: text("legend"), stats: text("stats") }};
}}"""


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


def _sample(page, cdp, previous: dict | None, t0: float) -> dict:
    state = _read(page)
    live_mb = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize / 2 ** 20 : null")
    cdp.send("HeapProfiler.collectGarbage")
    heap_mb = cdp.send("Runtime.getHeapUsage")["usedSize"] / 2**20
    renderer_mb, chromium_mb = _chromium_rss_mb()
    memory = state["memory"] or {}
    sample = {
        "t": time.monotonic() - t0,
        "now": state["now"],
        "count": state["count"],
        "results": state["results"],
        "dropped": state["dropped"],
        "heap_mb": heap_mb,
        "heap_live_mb": live_mb,
        "workers_mb": memory.get("workersMB"),
        "page_total_mb": memory.get("totalMB"),
        "renderer_mb": renderer_mb,
        "chromium_mb": chromium_mb,
        "fps": None,
        "legend_updated": None,
        "stats_updated": None,
        "legend": state["legend"],
        "stats": state["stats"],
    }
    if previous is not None:
        sample["fps"] = (state["count"] - previous["count"]) * 1000 / (state["now"] - previous["now"])
        sample["legend_updated"] = state["legend"] != previous["legend"]
        sample["stats_updated"] = state["stats"] != previous["stats"]
    return sample


def growth(values: list[float | None], t_s: list[float]) -> dict | None:
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
    return {
        "start_mb": start,
        "end_mb": end,
        "growth": end / start - 1,
        "slope_mb_per_min": slope,
        "max_mb": float(v.max()),
    }


def summarize_soak(samples: list[dict]) -> dict:
    t = [s["t"] for s in samples]
    intervals = samples[1:]
    advanced = [s for prev, s in itertools.pairwise(samples) if s["count"] > prev["count"]]
    fps = [s["fps"] for s in intervals]
    return {
        "samples": len(samples),
        "minutes": (t[-1] - t[0]) / 60 if len(t) > 1 else 0.0,
        **{key: growth([s[key] for s in samples], t) for key in ("heap_mb", "workers_mb", "renderer_mb")},
        "fps": {"mean": float(np.mean(fps)), "min": float(np.min(fps)), "max": float(np.max(fps))} if fps else None,
        "stalled_intervals": len(intervals) - len(advanced),
        "dropped_legend_updates": sum(not s["legend_updated"] for s in advanced if s["legend"] is not None),
        "dropped_stats_updates": sum(not s["stats_updated"] for s in advanced if s["stats"] is not None),
        "frames_dropped_by_app": (samples[-1]["dropped"] or 0) - (samples[0]["dropped"] or 0),
    }


def run_soak(opts: SoakOptions, progress: Callable[[int], Callable[[], None]] | None = None) -> dict:
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
            samples: list[dict] = []
            for i in range(total):
                page.wait_for_timeout(max(0.0, t0 + i * opts.interval_s - time.monotonic()) * 1000)
                samples.append(_sample(page, cdp, samples[-1] if samples else None, t0))
                advance()
            final = snapshot(page)
        finally:
            context.close()
        version = browser.version
    summary = summarize_soak(samples)
    for s in samples:
        del s["legend"], s["stats"]  # compared while sampling; the text itself is not a result
    return {
        "browser": {"name": "chromium", "version": version},
        "bundle": opts.bundle.name,
        "backend": final["backend"],
        "precision": final["precision"],
        "size": final["size"],
        "threads": final["threads"],
        "interval_s": opts.interval_s,
        "warmup_s": opts.warmup_s,
        "samples": samples,
        "summary": summary,
        "errors": errors,
    }
