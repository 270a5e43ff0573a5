"""The figures a benchmark report states, computed once from the results (`bench.results`) for the console and
BENCHMARKS.md alike: the headline ratios and efficiency, the targets' verdicts, where the time goes, and the tables'
rows with numbers formatted the same way everywhere."""

from __future__ import annotations

import math

from liveseg.bench.browser import MEDIAPIPE_BACKEND, STAGES, BrowserResult, BrowserRun
from liveseg.bench.python import PythonResult
from liveseg.bench.results import Results
from liveseg.bench.soak import SoakResult

# Issue 9's targets (this 2-core machine, WASM 2 threads, default bundle); the heap growth one is a maximum.
TARGETS = {
    "e2e_fps": 30.0,
    "e2e_fps_aim": 60.0,
    "vs_api": 0.9,
    "vs_seed": 1.2,
    "vs_tfjs": 1.5,
    "efficiency": 0.5,
    "heap_growth": 0.05,
}
# What each browser page runs; the MediaPipe peer solves another task with another model.
PAGES = {
    "liveseg": ("the liveseg web app", "this bundle (CamVid, 11 classes)"),
    "liveseg-api": ("liveseg module API, nothing drawn", "this bundle (CamVid, 11 classes)"),
    "seed": ("seed-style page", "same network, logits graph"),
    "tfjs": ("TF.js peer", "same network, TF.js conversion"),
    "mediapipe": ("MediaPipe selfie segmentation", "different task and model: person vs background"),
}


def num(x: float | None, digits: int = 1) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def signed_pct(x: float | None) -> str:
    """A signed percentage to one decimal: growth figures near zero."""
    return "—" if x is None else f"{100 * x:+.1f}%"


# ----- headline figures ------------------------------------------------------------------------------------------


def find_run(browser: BrowserResult | None, page: str, backend: str) -> BrowserRun | None:
    runs = browser.runs if browser else []
    return next((r for r in runs if r.page == page and r.requested_backend == backend), None)


def browser_peak(browser: BrowserResult | None) -> float | None:
    rates = [p.gflops_per_s for p in browser.peak] if browser else []
    return max(rates) if rates else None


def headline(results: Results, backend: str = "wasm") -> dict:
    """The figures the targets are about: the app's fps, its ratios to its module API and the peers, efficiency,
    fps per backend, the soak's heap growth and the best Python run (`python_best`, a PythonRun)."""
    out: dict = {"backend": backend}
    browser = results.browser
    app, api = find_run(browser, "liveseg", backend), find_run(browser, "liveseg-api", backend)
    if app:
        out["e2e_fps"], out["camera_fps"] = app.fps, app.camera_fps
    if api:
        out["api_fps"] = api.fps
        out["api_inference_ms"] = api.stages.get("inference")
    if app and api and api.fps:
        out["vs_api"] = app.fps / api.fps
    for peer in ("seed", "tfjs", "mediapipe"):
        other = find_run(browser, peer, MEDIAPIPE_BACKEND if peer == "mediapipe" else backend)
        if other and other.fps:
            out[f"{peer}_fps"] = other.fps
            if app:
                out[f"vs_{peer}"] = app.fps / other.fps
    gflops = browser.model_gflops.get(app.size) if app and app.size and browser and browser.model_gflops else None
    peak = browser_peak(browser)
    if gflops and peak:
        out["model_gflops"], out["browser_peak_gflops_per_s"] = gflops, peak
        for key, run in (("", app), ("api_", api)):
            inference = run and run.stages.get("inference")
            if inference:
                out[f"{key}achieved_gflops_per_s"] = gflops / (inference / 1000)
                out[f"{key}efficiency"] = out[f"{key}achieved_gflops_per_s"] / peak
    out["per_backend"] = {
        r.requested_backend: {"app": r.fps, "api": _fps(find_run(browser, "liveseg-api", r.requested_backend))}
        for r in (browser.runs if browser else [])
        if r.page == "liveseg"
    }
    if results.soak and (heap := results.soak.summary.heap_mb):
        out["heap_growth"] = heap.growth
        out["soak_minutes"] = results.soak.summary.minutes
    if results.python:
        rows = [
            r
            for r in results.python.runs
            if r.runtime == "onnxruntime-cpu" and r.batch == 1 and r.efficiency is not None
        ]
        if rows:
            out["python_best"] = max(rows, key=lambda r: r.fps)
    return out


def _fps(run: BrowserRun | None) -> float | None:
    return run.fps if run else None


def target_rows(h: dict) -> list[tuple[str, str, str, str]]:
    def verdict(value: float | None, target: float, most: bool = False) -> str:
        if value is None:
            return "not measured"
        return "met" if (value <= target if most else value >= target) else "missed"

    t = TARGETS
    return [
        (
            f"≥ {t['e2e_fps']:.0f} fps end-to-end (aim {t['e2e_fps_aim']:.0f})",
            num(h.get("e2e_fps")),
            "fps",
            verdict(h.get("e2e_fps"), t["e2e_fps"]),
        ),
        (f"app ≥ {t['vs_api']}× the module API", num(h.get("vs_api"), 2), "×", verdict(h.get("vs_api"), t["vs_api"])),
        (
            f"≥ {t['vs_seed']}× the seed-style pipeline",
            num(h.get("vs_seed"), 2),
            "×",
            verdict(h.get("vs_seed"), t["vs_seed"]),
        ),
        (f"≥ {t['vs_tfjs']}× the TF.js peer", num(h.get("vs_tfjs"), 2), "×", verdict(h.get("vs_tfjs"), t["vs_tfjs"])),
        (
            f"efficiency ≥ {100 * t['efficiency']:.0f}% of the measured WASM peak",
            pct(h.get("efficiency")),
            "",
            verdict(h.get("efficiency"), t["efficiency"]),
        ),
        (
            f"JS heap growth ≤ {100 * t['heap_growth']:.0f}% over the soak",
            signed_pct(h.get("heap_growth")),
            "",
            verdict(h.get("heap_growth"), t["heap_growth"], most=True),
        ),
    ]


def stage_text(stages: dict) -> str:
    busy = sum(v for k, v in stages.items() if k != "idle")
    return ", ".join(
        f"{k} {num(v)} ms" + ("" if k == "idle" else f" ({pct(v / busy if busy else None)})")
        for k, v in sorted(stages.items(), key=lambda kv: STAGES.index(kv[0]))
    )


def where_time_goes(results: Results) -> list[str]:
    """Per-stage medians of the app's frames, against the module API's, and the inside of the graph."""
    lines = []
    browser = results.browser
    for r in browser.runs if browser else []:
        if r.page != "liveseg":
            continue
        interval = 1000 / r.fps if r.fps else None
        lines.append(
            f"liveseg on {r.backend}: {stage_text(r.stages)}. A distinct camera frame is segmented every "
            f"{num(interval)} ms ({num(r.fps)} fps; the camera delivered {num(r.camera_fps)} fps)."
        )
        api = find_run(browser, "liveseg-api", r.requested_backend)
        if api and "inference" in api.stages and "inference" in r.stages:
            lines.append(
                f"The same worker and graph through the module API, nothing drawn: {stage_text(api.stages)}; "
                f"inference {num(api.stages['inference'])} ms there against {num(r.stages['inference'])} ms "
                "in the app, whose capture, rendering and compositing share the same cores."
            )
    if python := results.python:
        prof = python.op_profile
        top = ", ".join(f"{o.op} {num(o.ms)} ms ({pct(o.share)})" for o in prof.ops[:5])
        lines.append(
            f"Inside the bundle graph (onnxruntime CPU, {prof.precision} {prof.size}, 1 thread, per-op profile): {top}."
        )
        for p in python.runs:
            if p.runtime == "onnxruntime-cpu" and p.batch == 1 and p.efficiency is not None:
                lines.append(
                    f"onnxruntime CPU {p.precision} {p.threads} thread(s): {num(p.achieved_gflops)} "
                    f"GFLOP/s of a {num(p.peak_gflops_per_s)} GFLOP/s peak ({pct(p.efficiency)})."
                )
    return lines


# ----- tables ----------------------------------------------------------------------------------------------------

PY_HEADER = [
    "runtime",
    "precision",
    "size",
    "threads",
    "batch",
    "median ms/frame",
    "p95 ms",
    "fps",
    "peak RSS MB",
    "GFLOP/s",
    "efficiency",
]
STAGE_LABELS = {"postprocess": "post"}
BR_HEADER = [
    "page",
    "model",
    "backend",
    "threads",
    *(STAGE_LABELS.get(k, k) for k in STAGES),
    "fps",
    "camera fps",
    "repeats",
]
SOAK_HEADER = ["memory", "start MB", "end MB", "growth", "slope MB/min", "max MB"]
SOAK_SERIES = {  # by the name of their fields in SoakSample and SoakSummary
    "heap_mb": "JS heap after GC (page)",
    "workers_mb": "workers (measureUserAgentSpecificMemory)",
    "renderer_mb": "renderer process RSS",
}


def python_rows(python: PythonResult) -> list[list[str]]:
    return [
        [
            r.runtime,
            r.precision,
            r.size,
            str(r.threads or "—"),
            str(r.batch),
            num(r.median_ms),
            num(r.p95_ms),
            num(r.fps),
            num(r.peak_rss_mb, 0),
            num(r.achieved_gflops),
            pct(r.efficiency),
        ]
        for r in python.runs
    ]


def peak_rows(python: PythonResult | None, browser: BrowserResult | None) -> list[list[str]]:
    peaks = [p for source in (python, browser) if source for p in source.peak]
    return [
        [p.runtime, str(p.threads), p.probe, num(p.flops / 1e9, 2), num(min(p.call_ms), 2), num(p.gflops_per_s)]
        for p in peaks
    ]


def browser_rows(browser: BrowserResult, short: bool = False) -> list[list[str]]:
    """One row per run; `short` (the console) names pages by id and leaves out the model column."""
    rows = []
    for r in browser.runs:
        page, model = PAGES.get(r.page, (r.page, ""))
        rows.append(
            [
                *([r.page] if short else [page, model]),
                r.backend or r.requested_backend,
                str(r.threads or "—"),
                *(num(r.stages.get(k)) for k in STAGES),
                num(r.fps),
                num(r.camera_fps),
                str(r.repeats),
            ]
        )
    return rows


def soak_rows(soak: SoakResult) -> list[list[str]]:
    rows = []
    for key, label in SOAK_SERIES.items():
        if g := getattr(soak.summary, key):
            rows.append(
                [
                    label,
                    num(g.start_mb),
                    num(g.end_mb),
                    signed_pct(g.growth),
                    num(g.slope_mb_per_min, 2),
                    num(g.max_mb),
                ]
            )
    return rows


def soak_text(soak: SoakResult) -> str:
    s = soak.summary
    mean, low, high = (s.fps.mean, s.fps.min, s.fps.max) if s.fps else (None, None, None)
    return (
        f"{num(s.minutes)} minutes on {soak.backend} ({soak.precision} {soak.size}), a sample every "
        f"{soak.interval_s:.0f} s after {soak.warmup_s:.0f} s of warm-up: {num(mean)} fps on average "
        f"(min {num(low)}, max {num(high)}); {s.stalled_intervals} interval(s) without a new "
        f"frame; dropped updates: legend {s.dropped_legend_updates}, stats {s.dropped_stats_updates} (an "
        "interval with new frames but an unchanged panel); camera frames the app skipped while busy: "
        f"{s.frames_dropped_by_app}; page errors: {len(soak.errors)}. Start and end are the levels of the "
        "robust (Theil–Sen) line through every sample, so a heap that alternates between two levels after GC does "
        "not read as growth; a leak reads as its slope."
    )


def result_notes(results: Results) -> list[str]:
    return [n for r in (results.browser, results.python, results.person) if r and r.notes for n in r.notes]
