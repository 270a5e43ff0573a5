"""Turns benchmark JSON into a console table, PNG charts and BENCHMARKS.md, so the document is always regenerated
from the raw figures and never edited by hand."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

from liveseg import atomic
from liveseg.bench.browser import MEDIAPIPE_BACKEND, STAGES

PYTHON_JSON = "python.json"
BROWSER_JSON = "browser.json"
SOAK_JSON = "soak.json"
PERSON_JSON = "person.json"
TEMPORAL_JSON = "temporal.json"
RESULT_FILES = {
    "python": PYTHON_JSON,
    "browser": BROWSER_JSON,
    "soak": SOAK_JSON,
    "person": PERSON_JSON,
    "temporal": TEMPORAL_JSON,
}
TEMPORAL_HEADING = "## Temporal stability"
TEMPORAL_CHART = "temporal_flicker.png"
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


def save_json(path: Path, data: dict) -> None:
    atomic.write_text(path, json.dumps(data, indent=1, allow_nan=True) + "\n")


def load_results(out: Path) -> dict:
    results = {}
    for key, name in RESULT_FILES.items():
        if (out / name).is_file():
            results[key] = json.loads((out / name).read_text())
    return results


def _f(x: float | None, digits: int = 1) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def _pct1(x: float | None) -> str:
    """A signed percentage to one decimal: growth figures near zero."""
    return "—" if x is None else f"{100 * x:+.1f}%"


# ----- headline figures ------------------------------------------------------------------------------------------


def _run(browser: dict, page: str, backend: str) -> dict | None:
    return next((r for r in browser.get("runs", []) if r["page"] == page and r["requested_backend"] == backend), None)


def browser_peak(browser: dict) -> float | None:
    rates = [p["gflops_per_s"] for p in browser.get("peak", [])]
    return max(rates) if rates else None


def headline(results: dict, backend: str = "wasm") -> dict:
    """The figures the targets are about: the app's fps, its ratios to its module API and the peers, efficiency,
    fps per backend and the soak's heap growth."""
    out: dict = {"backend": backend}
    browser = results.get("browser") or {}
    app, api = _run(browser, "liveseg", backend), _run(browser, "liveseg-api", backend)
    if app:
        out["e2e_fps"], out["camera_fps"] = app["fps"], app.get("camera_fps")
    if api:
        out["api_fps"] = api["fps"]
        out["api_inference_ms"] = api["stages"].get("inference")
    if app and api and api["fps"]:
        out["vs_api"] = app["fps"] / api["fps"]
    for peer in ("seed", "tfjs", "mediapipe"):
        other = _run(browser, peer, MEDIAPIPE_BACKEND if peer == "mediapipe" else backend)
        if other and other["fps"]:
            out[f"{peer}_fps"] = other["fps"]
            if app:
                out[f"vs_{peer}"] = app["fps"] / other["fps"]
    gflops = browser.get("model_gflops", {}).get(app["size"]) if app else None
    peak = browser_peak(browser)
    if gflops and peak:
        out["model_gflops"], out["browser_peak_gflops_per_s"] = gflops, peak
        for key, run in (("", app), ("api_", api)):
            inference = run and run["stages"].get("inference")
            if inference:
                out[f"{key}achieved_gflops_per_s"] = gflops / (inference / 1000)
                out[f"{key}efficiency"] = out[f"{key}achieved_gflops_per_s"] / peak
    out["per_backend"] = {
        r["requested_backend"]: {
            "app": r["fps"],
            "api": (_run(browser, "liveseg-api", r["requested_backend"]) or {}).get("fps"),
        }
        for r in browser.get("runs", [])
        if r["page"] == "liveseg"
    }
    if (soak := (results.get("soak") or {}).get("summary")) and soak.get("heap_mb"):
        out["heap_growth"] = soak["heap_mb"]["growth"]
        out["soak_minutes"] = soak["minutes"]
    python = results.get("python")
    if python:
        rows = [
            r
            for r in python["runs"]
            if r["runtime"] == "onnxruntime-cpu" and r["batch"] == 1 and r.get("efficiency") is not None
        ]
        if rows:
            best = max(rows, key=lambda r: r["fps"])
            out["python_best"] = {
                k: best[k] for k in ("precision", "size", "threads", "median_ms", "fps", "efficiency")
            }
    return out


def target_rows(h: dict) -> list[tuple[str, str, str, str]]:
    def verdict(value: float | None, target: float, most: bool = False) -> str:
        if value is None:
            return "not measured"
        return "met" if (value <= target if most else value >= target) else "missed"

    t = TARGETS
    return [
        (
            f"≥ {t['e2e_fps']:.0f} fps end-to-end (aim {t['e2e_fps_aim']:.0f})",
            _f(h.get("e2e_fps")),
            "fps",
            verdict(h.get("e2e_fps"), t["e2e_fps"]),
        ),
        (f"app ≥ {t['vs_api']}× the module API", _f(h.get("vs_api"), 2), "×", verdict(h.get("vs_api"), t["vs_api"])),
        (
            f"≥ {t['vs_seed']}× the seed-style pipeline",
            _f(h.get("vs_seed"), 2),
            "×",
            verdict(h.get("vs_seed"), t["vs_seed"]),
        ),
        (f"≥ {t['vs_tfjs']}× the TF.js peer", _f(h.get("vs_tfjs"), 2), "×", verdict(h.get("vs_tfjs"), t["vs_tfjs"])),
        (
            f"efficiency ≥ {100 * t['efficiency']:.0f}% of the measured WASM peak",
            _pct(h.get("efficiency")),
            "",
            verdict(h.get("efficiency"), t["efficiency"]),
        ),
        (
            f"JS heap growth ≤ {100 * t['heap_growth']:.0f}% over the soak",
            _pct1(h.get("heap_growth")),
            "",
            verdict(h.get("heap_growth"), t["heap_growth"], most=True),
        ),
    ]


def _stage_text(stages: dict) -> str:
    busy = sum(v for k, v in stages.items() if k != "idle")
    return ", ".join(
        f"{k} {_f(v)} ms" + ("" if k == "idle" else f" ({_pct(v / busy if busy else None)})")
        for k, v in sorted(stages.items(), key=lambda kv: STAGES.index(kv[0]))
    )


def where_time_goes(results: dict) -> list[str]:
    """Per-stage medians of the app's frames, against the module API's, and the inside of the graph."""
    lines = []
    browser = results.get("browser") or {}
    for r in browser.get("runs", []):
        if r["page"] != "liveseg":
            continue
        interval = 1000 / r["fps"] if r["fps"] else None
        lines.append(
            f"liveseg on {r['backend']}: {_stage_text(r['stages'])}. A distinct camera frame is segmented every "
            f"{_f(interval)} ms ({_f(r['fps'])} fps; the camera delivered {_f(r.get('camera_fps'))} fps)."
        )
        api = _run(browser, "liveseg-api", r["requested_backend"])
        if api and "inference" in api["stages"] and "inference" in r["stages"]:
            lines.append(
                f"The same worker and graph through the module API, nothing drawn: {_stage_text(api['stages'])}; "
                f"inference {_f(api['stages']['inference'])} ms there against {_f(r['stages']['inference'])} ms "
                "in the app, whose capture, rendering and compositing share the same cores."
            )
    python = results.get("python") or {}
    if prof := python.get("op_profile"):
        top = ", ".join(f"{o['op']} {_f(o['ms'])} ms ({_pct(o['share'])})" for o in prof["ops"][:5])
        lines.append(
            f"Inside the bundle graph (onnxruntime CPU, {prof['precision']} {prof['size']}, 1 thread, per-op "
            f"profile): {top}."
        )
    for r in python.get("runs", []):
        if r["runtime"] == "onnxruntime-cpu" and r["batch"] == 1 and r.get("efficiency") is not None:
            lines.append(
                f"onnxruntime CPU {r['precision']} {r['threads']} thread(s): {_f(r['achieved_gflops'])} "
                f"GFLOP/s of a {_f(r['peak_gflops_per_s'])} GFLOP/s peak ({_pct(r['efficiency'])})."
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
SOAK_SERIES = {
    "heap_mb": "JS heap after GC (page)",
    "workers_mb": "workers (measureUserAgentSpecificMemory)",
    "renderer_mb": "renderer process RSS",
}


def python_rows(python: dict) -> list[list[str]]:
    return [
        [
            r["runtime"],
            r["precision"],
            r["size"],
            str(r["threads"] or "—"),
            str(r["batch"]),
            _f(r["median_ms"]),
            _f(r["p95_ms"]),
            _f(r["fps"]),
            _f(r["peak_rss_mb"], 0),
            _f(r["achieved_gflops"]),
            _pct(r.get("efficiency")),
        ]
        for r in python["runs"]
    ]


def peak_rows(python: dict | None, browser: dict | None) -> list[list[str]]:
    rows = []
    for source in (python, browser):
        for p in (source or {}).get("peak", []):
            rows.append(
                [
                    p["runtime"],
                    str(p["threads"]),
                    p["probe"],
                    _f(p["flops"] / 1e9, 2),
                    _f(min(p["call_ms"]), 2),
                    _f(p["gflops_per_s"]),
                ]
            )
    return rows


def browser_rows(browser: dict, short: bool = False) -> list[list[str]]:
    """One row per run; `short` (the console) names pages by id and leaves out the model column."""
    rows = []
    for r in browser["runs"]:
        page, model = PAGES.get(r["page"], (r["page"], ""))
        rows.append(
            [
                *([r["page"]] if short else [page, model]),
                r["backend"] or r["requested_backend"],
                str(r["threads"] or "—"),
                *(_f(r["stages"].get(k)) for k in STAGES),
                _f(r["fps"]),
                _f(r.get("camera_fps")),
                str(r["repeats"]),
            ]
        )
    return rows


def soak_rows(soak: dict) -> list[list[str]]:
    rows = []
    for key, label in SOAK_SERIES.items():
        g = soak["summary"].get(key)
        if g:
            rows.append(
                [
                    label,
                    _f(g["start_mb"]),
                    _f(g["end_mb"]),
                    _pct1(g["growth"]),
                    _f(g["slope_mb_per_min"], 2),
                    _f(g["max_mb"]),
                ]
            )
    return rows


def soak_text(soak: dict) -> str:
    s = soak["summary"]
    fps = s.get("fps") or {}
    return (
        f"{_f(s['minutes'])} minutes on {soak['backend']} ({soak['precision']} {soak['size']}), a sample every "
        f"{soak['interval_s']:.0f} s after {soak['warmup_s']:.0f} s of warm-up: {_f(fps.get('mean'))} fps on average "
        f"(min {_f(fps.get('min'))}, max {_f(fps.get('max'))}); {s['stalled_intervals']} interval(s) without a new "
        f"frame; dropped updates: legend {s['dropped_legend_updates']}, stats {s['dropped_stats_updates']} (an "
        "interval with new frames but an unchanged panel); camera frames the app skipped while busy: "
        f"{s['frames_dropped_by_app']}; page errors: {len(soak['errors'])}. Start and end are the levels of the "
        "robust (Theil–Sen) line through every sample, so a heap that alternates between two levels after GC does "
        "not read as growth; a leak reads as its slope."
    )


def console(results: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    con = Console()
    tables = []
    if "python" in results:
        tables.append(("Python runtimes (per frame)", PY_HEADER, python_rows(results["python"])))
    if "browser" in results:
        header = [c for c in BR_HEADER if c != "model"]
        tables.append(("Browser pipelines (median ms per stage)", header, browser_rows(results["browser"], True)))
    pr = peak_rows(results.get("python"), results.get("browser"))
    if pr:
        tables.append(("Runtime peak (best call)", ["runtime", "threads", "probe", "GFLOP", "ms", "GFLOP/s"], pr))
    if "soak" in results:
        tables.append(("Soak", SOAK_HEADER, soak_rows(results["soak"])))
    for title, header, rows in tables:
        table = Table(title=title)
        for col in header:
            left = col in ("runtime", "page", "model", "precision", "probe", "memory")
            table.add_column(col, justify="left" if left else "right")
        for row in rows:
            table.add_row(*map(escape, row))
        con.print(table)
    targets = Table(title="Targets (wasm)")
    for col in ("target", "measured", "", "verdict"):
        targets.add_column(col)
    for row in target_rows(headline(results)):
        targets.add_row(*map(escape, row))
    con.print(targets)
    if "soak" in results:
        con.print(escape(soak_text(results["soak"])), highlight=False, soft_wrap=True)
    for note in _notes(results):
        con.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)


def _notes(results: dict) -> list[str]:
    return [n for key in ("browser", "python", "person") for n in results.get(key, {}).get("notes", [])]


# ----- charts ----------------------------------------------------------------------------------------------------

STAGE_COLORS = {
    "capture": "#ffd166",
    "transfer": "#ef8f5a",
    "preprocess": "#f7b955",
    "inference": "#5aa9ff",
    "readback": "#b48cff",
    "postprocess": "#ff7b7b",
    "render": "#4fd1a5",
    "idle": "#d0d0d0",
}


def _browser_charts(browser: dict, plt, save: Callable) -> None:
    runs = browser["runs"]
    labels = [f"{r['page']} ({r['backend'] or r['requested_backend']})" for r in runs]
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(runs) + 1.2))
    left = [0.0] * len(runs)
    for stage in STAGES:
        widths = [r["stages"].get(stage, 0.0) for r in runs]
        ax.barh(labels, widths, left=left, color=STAGE_COLORS[stage], label=stage)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.axvline(1000 / 30, color="grey", linestyle="--", label="30 fps")
    ax.set_xlabel("ms per frame (median of each stage)")
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8)
    save(fig, "browser_stages.png")

    fig, ax = plt.subplots(figsize=(9, 0.5 * len(runs) + 1.2))
    ax.barh(labels, [r["fps"] for r in runs], color="#5aa9ff", label="distinct camera frames segmented per s")
    camera = [(r.get("camera_fps"), i) for i, r in enumerate(runs) if r.get("camera_fps")]
    if camera:
        ax.scatter(*zip(*camera, strict=True), color="black", marker="|", s=200, label="camera delivered")
    ax.axvline(TARGETS["e2e_fps"], color="grey", linestyle="--", label=f"{TARGETS['e2e_fps']:.0f} fps")
    ax.set_xlabel("frames per second")
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8)
    save(fig, "browser_fps.png")


def _soak_chart(soak: dict, plt, save: Callable) -> None:
    samples = soak["samples"]
    minutes = [s["t"] / 60 for s in samples]
    fig, (mem, fps) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for key, label in SOAK_SERIES.items():
        points = [(m, s[key]) for m, s in zip(minutes, samples, strict=True) if s[key] is not None]
        if points:
            mem.plot(*zip(*points, strict=True), marker=".", label=label)
    mem.set_ylabel("MB")
    mem.set_ylim(bottom=0)
    mem.legend(fontsize=8)
    mem.set_title(f"{_f(soak['summary']['minutes'])} minutes live on the fake webcam ({soak['backend']})")
    rate = [(m, s["fps"]) for m, s in zip(minutes, samples, strict=True) if s["fps"] is not None]
    if rate:
        fps.plot(*zip(*rate, strict=True), marker=".", color="#4fd1a5")
    fps.set_ylabel("fps (distinct camera frames)")
    fps.set_ylim(bottom=0)
    fps.set_xlabel("minutes")
    save(fig, "browser_soak.png")


def charts(results: dict, out: Path) -> list[Path]:
    """PNG charts next to the JSON; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []

    def save(fig, name: str) -> None:
        path = out / name
        atomic.write_with(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
        plt.close(fig)
        written.append(path)

    if "python" in results:
        rows = [r for r in results["python"]["runs"] if r["batch"] == 1]
        fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.2))
        labels = [f"{r['runtime']} {r['precision']} {r['size']} t{r['threads'] or '-'}" for r in rows]
        ax.barh(
            labels,
            [r["median_ms"] for r in rows],
            xerr=[[0] * len(rows), [r["p95_ms"] - r["median_ms"] for r in rows]],
            color="#5aa9ff",
        )
        ax.axvline(1000 / 30, color="grey", linestyle="--", label="30 fps")
        ax.set_xlabel("ms per frame (median, whisker to p95), batch 1")
        ax.invert_yaxis()
        ax.legend()
        save(fig, "python_latency.png")
    if "browser" in results and results["browser"]["runs"]:
        _browser_charts(results["browser"], plt, save)
    if "soak" in results and results["soak"]["samples"]:
        _soak_chart(results["soak"], plt, save)
    if "temporal" in results:
        _temporal_chart(results["temporal"], plt, save)
    return written


def _temporal_chart(temporal: dict, plt, save: Callable) -> None:
    """Flicker per frame, averaged over each model's clips of a kind, without and with the stabiliser."""
    from liveseg.bench.temporal import summary

    groups = [(g["model"], g["kind"]) for g in summary(temporal)]
    fig, axes = plt.subplots(len(groups), 1, figsize=(9, 2.2 * len(groups)), sharex=True, squeeze=False)
    for ax, (model, kind) in zip(axes[:, 0], groups, strict=True):
        rows = [r for r in temporal["clips"] if r["model"] == model and r["kind"] == kind]
        for method, colour in (("none", "#ff7b7b"), ("hysteresis", "#d0a040"), ("stabiliser", "#4fd1a5")):
            clips = [r["methods"][method]["flicker_series"] for r in rows]
            series = [sum(x) / len(rows) for x in zip(*clips, strict=True)]
            ax.plot(range(1, len(series) + 1), [100 * x for x in series], color=colour, label=method)
        ax.set_title(f"{model}, {kind} clips", fontsize=9)
        ax.set_ylabel("flicker %")
        ax.set_ylim(bottom=0)
    axes[0, 0].legend(fontsize=8)
    axes[-1, 0].set_xlabel("frame")
    save(fig, TEMPORAL_CHART)


# ----- BENCHMARKS.md ---------------------------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _machine(results: dict) -> list[str]:
    m = next((results[k]["machine"] for k in RESULT_FILES if k in results and "machine" in results[k]), {})
    lines = [
        f"- CPU: {m.get('cpu', '?')}, {m.get('usable_cores', '?')} usable cores "
        f"({m.get('logical_cores', '?')} logical), {m.get('memory_gb', '?')} GB RAM; {m.get('os', '?')}",
        f"- Python {m.get('python', '?')}; " + ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items() if v),
    ]
    if "browser" in results:
        b = results["browser"]["browser"]
        lines.append(f"- Browser: headless Chromium {b['version']}, flags `{' '.join(b['flags'])}`")
    for key in RESULT_FILES:
        if key in results:
            load = results[key].get("machine", {}).get("load_average")
            if load:
                lines.append(
                    f"- Load average when `bench {key}` started: {', '.join(f'{x:.2f}' for x in load)} "
                    "(this machine is shared; figures are what they were)"
                )
    return lines


def _headline_lines(h: dict) -> list[str]:
    lines = []
    if "e2e_fps" in h:
        lines.append(
            f"- liveseg web app end to end: **{_f(h['e2e_fps'])} fps** of distinct camera frames (the fake webcam "
            f"delivered {_f(h.get('camera_fps'))} fps)."
        )
    if "api_fps" in h:
        ratio = f"; the app reaches **{_f(h['vs_api'], 2)}×** of it" if "vs_api" in h else ""
        lines.append(
            f"- liveseg module API, nothing drawn (`createSegmenter` → `segment` on each new camera frame): "
            f"{_f(h['api_fps'])} fps, inference {_f(h.get('api_inference_ms'))} ms{ratio}."
        )
    for peer in ("seed", "tfjs"):
        if f"vs_{peer}" in h:
            lines.append(
                f"- {PAGES[peer][0]} ({PAGES[peer][1]}): {_f(h[f'{peer}_fps'])} fps → the app is "
                f"**{_f(h[f'vs_{peer}'], 2)}×** its speed."
            )
    if "mediapipe_fps" in h:
        lines.append(
            f"- MediaPipe selfie segmentation on the same webcam: {_f(h['mediapipe_fps'])} fps "
            f"({PAGES['mediapipe'][1]}, so a reference point, not a like-for-like ratio)."
        )
    if "efficiency" in h:
        api = f" (module API: {_pct(h['api_efficiency'])})" if "api_efficiency" in h else ""
        lines.append(
            f"- Efficiency in the browser: {_f(h['model_gflops'], 2)} GFLOP per frame at "
            f"{_f(h['achieved_gflops_per_s'])} GFLOP/s in the app vs a measured onnxruntime-web WASM peak of "
            f"{_f(h['browser_peak_gflops_per_s'])} GFLOP/s = **{_pct(h['efficiency'])}**{api}."
        )
    if h.get("per_backend"):
        parts = [f"{b} {_f(v['app'])} fps (module API {_f(v['api'])})" for b, v in h["per_backend"].items()]
        lines.append(f"- Per backend (app): {'; '.join(parts)}.")
    if "heap_growth" in h:
        lines.append(f"- JS heap over {_f(h['soak_minutes'])} minutes live: **{_pct1(h['heap_growth'])}** growth.")
    if "python_best" in h:
        b = h["python_best"]
        lines.append(
            f"- Python onnxruntime best (batch 1): {b['precision']} {b['size']} on {b['threads']} threads, "
            f"{_f(b['median_ms'])} ms = {_f(b['fps'])} fps, efficiency {_pct(b['efficiency'])}."
        )
    return lines


BROWSER_METHOD = (
    "A fake webcam of CamVid val frames plays at {camera} fps (faster than every pipeline here) and every page "
    "reads it. After a warm-up of {warmup} frames or {warmup_s:.0f} s (V8 runs new WebAssembly in its baseline "
    "tier first), each page is measured over {frames} frames or at most {measure_s:.0f} s. *fps* counts only "
    "results segmented from a camera frame different from the previous result's (requestVideoFrameCallback's "
    "presentedFrames; the app's `stats().sourceFrames`), over wall time, so no page gains by re-segmenting a "
    "frame; *repeats* are the results that did; *camera fps* is the rate the camera delivered on that page. "
    "Stage columns are medians in ms (the app's over its last 60 frames): capture (frame to pixels), transfer "
    "(to the worker and back), preprocess, inference, readback, post (JS argmax and colouring), render, idle "
    "(waiting for the next camera or animation frame). The seed-style page runs onnxruntime-web on the main "
    "thread with JS pre- and post-processing, one frame per animation frame; the TF.js page runs predict lazily, "
    "so its work shows up under readback (`data()`); the MediaPipe page times `send()` as inference, its capture "
    "and mask readback included."
)


def _browser_section(b: dict) -> list[str]:
    from liveseg.bench.y4m import CAMERA_FPS

    method = BROWSER_METHOD.format(
        camera=CAMERA_FPS,
        warmup=b["warmup"],
        warmup_s=b["warmup_s"],
        frames=b["frames"],
        measure_s=b["measure_s"],
    )
    return ["## Browser", "", method, "", _md_table(BR_HEADER, browser_rows(b)), ""]


def person_lines(person: dict) -> list[str]:
    """The person model's section: the app with blur against MediaPipe's own solution of the same network."""
    lines = []
    browser = person.get("browser") or {}
    app, api = _run(browser, "liveseg", "wasm"), _run(browser, "liveseg-api", "wasm")
    theirs = _run(browser, "mediapipe", MEDIAPIPE_BACKEND)
    if app is not None:
        lines.append(
            f"- The web app, `{person['model']}` ({browser.get('size')}, fp32, WASM {app['threads']} threads) with "
            f'"Blur background" on a 640x480 fake webcam of a portrait: **{_f(app["fps"])} fps** of distinct '
            f"camera frames (the camera delivered {_f(app['camera_fps'])}); stages: {_stage_text(app['stages'])}."
        )
    if api is not None:
        lines.append(f"- The module API on the same webcam, nothing drawn: {_f(api['fps'])} fps.")
    if app is not None and theirs is not None:
        lines.append(
            f"- MediaPipe's own selfie segmentation solution (its WASM + WebGL runtime) on the same webcam: "
            f"{_f(theirs['fps'])} fps. It is the same network — `selfie_segmentation.tflite` from the same npm "
            f"package — each runtime as it ships: liveseg runs it **{_f(app['fps'] / theirs['fps'])}x** as fast."
        )
    py = person.get("python") or {}
    if "liveseg_images_per_s" in py:
        text = (
            f"- Python, {py['images']} photos one at a time: liveseg (onnxruntime, {py['threads']} threads) "
            f"{_f(py['liveseg_images_per_s'])} images/s"
        )
        if "mediapipe_images_per_s" in py:
            ratio = py["liveseg_images_per_s"] / py["mediapipe_images_per_s"]
            text += (
                f"; MediaPipe Python's solution on the same .tflite {_f(py['mediapipe_images_per_s'])} images/s "
                f"({py['mediapipe_threads']}): {_f(ratio, 2)}x"
            )
        lines.append(text + ".")
    return lines


def markdown(results: dict, out: Path, report: Path, pictures: list[Path]) -> str:
    h = headline(results)
    rel = Path(os.path.relpath(out, report.parent))
    parts = [
        "# liveseg benchmarks",
        "",
        "Generated by `liveseg bench` from the JSON in "
        f"`{rel.as_posix()}/` — do not edit by hand; re-run the command below.",
        "",
    ]
    commands = [results[k]["command"] for k in RESULT_FILES if k in results and results[k].get("command")]
    parts += ["## Reproduce", "", "```sh", *dict.fromkeys(commands), "```", ""]
    parts += ["## Machine", "", *_machine(results), ""]
    parts += ["## Headline (default bundle, WASM)", "", *_headline_lines(h), ""]
    parts += [
        "## Targets",
        "",
        _md_table(["target", "measured", "unit", "verdict"], [list(r) for r in target_rows(h)]),
        "",
    ]
    analysis = where_time_goes(results)
    if analysis:
        parts += ["## Where the time goes", "", *[f"- {a}" for a in analysis], ""]
    if "browser" in results:
        parts += _browser_section(results["browser"])
    if "person" in results:
        parts += ["## People at the webcam", "", *person_lines(results["person"]), ""]
    if "soak" in results:
        soak = results["soak"]
        parts += ["## Soak", "", soak_text(soak), "", _md_table(SOAK_HEADER, soak_rows(soak)), ""]
    if "python" in results:
        parts += [
            "## Python",
            "",
            "Per-frame figures (a batch call's time divided by the batch). onnxruntime runs the bundle graph "
            "(uint8 pixels in, class ids out); PyTorch eager runs the bare network on float input. Efficiency "
            "= the model's FLOPs per second / the same runtime's peak on the probes below, same threads.",
            "",
            _md_table(PY_HEADER, python_rows(results["python"])),
            "",
        ]
    pr = peak_rows(results.get("python"), results.get("browser"))
    if pr:
        parts += [
            "## Runtime peak",
            "",
            "Best call on float32 probes with known FLOPs (MatMul 1024³, 3×3 Conv 64→64 on 90×120).",
            "",
            _md_table(["runtime", "threads", "probe", "GFLOP", "ms", "GFLOP/s"], pr),
            "",
        ]
    if "temporal" in results:
        parts += temporal_section(results["temporal"], Path(os.path.relpath(out / TEMPORAL_CHART, report.parent)))
    notes = _notes(results)
    if notes:
        parts += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    if pictures:
        parts += ["## Charts", ""]
        parts += [f"![{p.stem}]({Path(os.path.relpath(p, report.parent)).as_posix()})" for p in pictures]
        parts.append("")
    return "\n".join(parts)


TEMPORAL_METHOD = (
    "Clips with known truth for every frame, at the model's input size: *static* ones repeat a still for {frames} "
    "frames under simulated camera noise (Gaussian sensor noise σ {sigma:g} levels, a per-frame exposure gain of "
    "1 ± {gain:g}, ±{jitter} px jitter), so the truth never changes; *pan* ones slide a window {pan} px per frame "
    "across the still, the truth sliding with it (same noise, no jitter). CamVid val frames use their ground "
    "truth; the portraits (person model) use the model's own output on the clean frames (on a pan, the label most "
    "clean frames give each scene point, sliding with the pan: a model's output is not shift-equivariant). "
    "*flicker*: share of "
    "pixels whose label changes between consecutive frames where the truth does not; *VC_8*: among pixels whose "
    "truth is constant over 8 frames, the share whose label is too. *none* is the model as it is, *hysteresis* "
    "the issue's floor (keep the label unless the new confidence beats the kept one's, decayed ×0.9, by 0.15), "
    "*stabiliser* liveseg's at strength {strength:g} (it follows sustained global motion, lets confident pixels "
    "follow the frame and holds uncertain and oscillating ones), *mediapipe* MediaPipe's selfie segmentation "
    "solution as it ships (its general model in Chromium, frames sent in order, mask ≥ 0.5). Figures were "
    "measured on a shared machine."
)


def temporal_section(temporal: dict, chart: Path) -> list[str]:
    """The Markdown section of `liveseg bench temporal`: the method, one row per model × clip kind × method, the
    cost per frame and the chart."""
    from liveseg.bench.temporal import summary

    method = TEMPORAL_METHOD.format(
        frames=temporal["frames"], sigma=temporal["noise"]["sigma"], gain=temporal["noise"]["gain_sigma"],
        jitter=temporal["noise"]["jitter_px"], pan=temporal["pan_px"], strength=temporal["strength"],
    )  # fmt: skip
    rows = []
    for g in summary(temporal):
        base = g["methods"]["none"]
        for name, m in g["methods"].items():
            ratio = m["flicker"] / base["flicker"] if base["flicker"] else float("nan")
            rows.append([
                g["model"], f"{g['kind']} ×{g['clips']}", name, f"{100 * m['flicker']:.2f}%", f"{ratio:.2f}×",
                _f(100 * m["miou"]), f"{100 * (m['miou'] - base['miou']):+.1f}", _f(100 * m["vc8"]),
            ])  # fmt: skip
    header = ["model", "clips", "method", "flicker", "vs none", "mIoU", "Δ mIoU", "VC_8"]
    cost = [f"- Python (numpy): {_f(temporal['python_ms']['ms'], 2)} ms per frame at {temporal['python_ms']['size']}."]
    if b := temporal.get("browser_ms"):
        cost.append(
            f"- Browser (headless Chromium {b['chromium']}, timer steps of 0.1 ms): {_f(b['ms'], 2)} ms per frame at "
            f"{b['size']} on a pan of a blocky 4-class scene (the state moves every frame)."
        )
    lines = [TEMPORAL_HEADING, "", method, "", _md_table(header, rows), "", *cost, ""]
    return [*lines, f"![{chart.stem}]({chart.as_posix()})", ""]


def write_temporal(out: Path, report: Path) -> None:
    """Draw the temporal chart and put the temporal section into `report` in place of its old one (else before
    the notes or charts), leaving every other section as it is."""
    results = {"temporal": json.loads((out / TEMPORAL_JSON).read_text())}
    charts(results, out)
    section = temporal_section(results["temporal"], Path(os.path.relpath(out / TEMPORAL_CHART, report.parent)))
    lines = report.read_text().splitlines() if report.is_file() else ["# liveseg benchmarks", ""]
    heads = [i for i, line in enumerate(lines) if line.startswith("## ")]
    if TEMPORAL_HEADING in lines:
        start = lines.index(TEMPORAL_HEADING)
        end = next((i for i in heads if i > start), len(lines))
    else:
        start = end = next((i for i in heads if lines[i] in ("## Notes", "## Charts")), len(lines))
    atomic.write_text(report, "\n".join([*lines[:start], *section, *lines[end:]]) + "\n")


def write_report(out: Path, report: Path, show: bool = True) -> dict:
    """Console tables, charts and BENCHMARKS.md from whatever results `out` holds."""
    results = load_results(out)
    if show:
        console(results)
    pictures = charts(results, out)
    atomic.write_text(report, markdown(results, out, report, pictures))
    return results
