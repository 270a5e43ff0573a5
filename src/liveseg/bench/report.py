"""Turns benchmark JSON into a console table, PNG charts and BENCHMARKS.md, so the document is always regenerated
from the raw figures and never edited by hand."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from liveseg import atomic

PYTHON_JSON = "python.json"
BROWSER_JSON = "browser.json"
TARGETS = {"e2e_fps": 30.0, "e2e_fps_aim": 60.0, "vs_seed": 3.0, "vs_tfjs": 2.0, "efficiency": 0.5}


def save_json(path: Path, data: dict) -> None:
    atomic.write_text(path, json.dumps(data, indent=1, allow_nan=True) + "\n")


def load_results(out: Path) -> dict:
    results = {}
    for key, name in (("python", PYTHON_JSON), ("browser", BROWSER_JSON)):
        if (out / name).is_file():
            results[key] = json.loads((out / name).read_text())
    return results


def _f(x: float | None, digits: int = 1) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


# ----- headline figures ------------------------------------------------------------------------------------------


def _run(browser: dict, page: str, backend: str) -> dict | None:
    return next((r for r in browser.get("runs", []) if r["page"] == page and r["requested_backend"] == backend), None)


def browser_peak(browser: dict) -> float | None:
    rates = [p["gflops_per_s"] for p in browser.get("peak", [])]
    return max(rates) if rates else None


def headline(results: dict, backend: str = "wasm") -> dict:
    """The figures the targets are about: liveseg's fps, its speed-ups over the peers, its efficiency."""
    out: dict = {"backend": backend}
    browser = results.get("browser")
    if browser:
        app = _run(browser, "liveseg", backend)
        if app:
            out["e2e_fps"] = app["e2e"]["fps"]
            out["e2e_ms"] = app["stages"]["total"]["median_ms"]
            gflops = browser.get("model_gflops", {}).get(app["size"])
            peak = browser_peak(browser)
            inference = app["stages"]["inference"]["median_ms"]
            if gflops and peak:
                out["model_gflops"] = gflops
                out["browser_peak_gflops_per_s"] = peak
                out["browser_achieved_gflops_per_s"] = gflops / (inference / 1000)
                out["efficiency"] = out["browser_achieved_gflops_per_s"] / peak
            for peer in ("seed", "tfjs"):
                other = _run(browser, peer, backend)
                if other:
                    out[f"{peer}_fps"] = other["e2e"]["fps"]
                    out[f"vs_{peer}"] = app["e2e"]["fps"] / other["e2e"]["fps"]
        api = _run(browser, "liveseg-api", backend)
        if api:
            out["api_fps"] = api["e2e"]["fps"]
            out["api_inference_ms"] = api["stages"]["inference"]["median_ms"]
            seed = _run(browser, "seed", backend)
            if seed:
                out["api_vs_seed"] = api["e2e"]["fps"] / seed["e2e"]["fps"]
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
    def verdict(value: float | None, target: float) -> str:
        return "not measured" if value is None else ("met" if value >= target else "missed")

    return [
        (
            f"≥ {TARGETS['e2e_fps']:.0f} fps end-to-end (aim {TARGETS['e2e_fps_aim']:.0f})",
            _f(h.get("e2e_fps")),
            "fps",
            verdict(h.get("e2e_fps"), TARGETS["e2e_fps"]),
        ),
        (
            f"≥ {TARGETS['vs_seed']:.0f}× the seed-style pipeline",
            _f(h.get("vs_seed"), 2),
            "×",
            verdict(h.get("vs_seed"), TARGETS["vs_seed"]),
        ),
        (
            f"≥ {TARGETS['vs_tfjs']:.0f}× the TF.js peer",
            _f(h.get("vs_tfjs"), 2),
            "×",
            verdict(h.get("vs_tfjs"), TARGETS["vs_tfjs"]),
        ),
        (
            f"efficiency ≥ {100 * TARGETS['efficiency']:.0f}% of measured peak",
            _pct(h.get("efficiency")),
            "",
            verdict(h.get("efficiency"), TARGETS["efficiency"]),
        ),
    ]


def where_time_goes(results: dict) -> list[str]:
    """Per-step shares of liveseg's frame, and what separates the worker's time from the frame interval."""
    lines = []
    browser = results.get("browser") or {}
    for r in browser.get("runs", []):
        if r["page"] != "liveseg":
            continue
        api = _run(browser, "liveseg-api", r["requested_backend"])
        s = r["stages"]
        steps = {k: s[k]["median_ms"] for k in ("preprocess", "inference", "readback") if k in s}
        steps["render (last 20)"] = r["last20"].get("render", 0.0)
        work = sum(steps.values())
        interval = s.get("total") and r["e2e"]["intervals"]["median_ms"]
        shares = ", ".join(f"{k} {_f(v)} ms ({_pct(v / work if work else None)})" for k, v in steps.items())
        lines.append(
            f"liveseg on {r['backend']}: {shares}. Frames finish every {_f(interval)} ms (median); "
            f"{_f(interval - work if interval else None)} ms of that is capture, transfers to and from "
            "the worker, and waiting for the next camera frame."
        )
        if api and "inference" in s:
            alone, in_page = api["stages"]["inference"]["median_ms"], s["inference"]["median_ms"]
            lines.append(
                f"The same worker and graph need {_f(alone)} ms per inference when the page draws nothing "
                f"(liveseg-api) against {_f(in_page)} ms in the app: the difference is the page's capture, "
                "rendering and compositing competing for the same cores (software GL on a machine without a GPU)."
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
BR_HEADER = [
    "page",
    "backend",
    "threads",
    "preprocess",
    "inference",
    "readback",
    "post",
    "render",
    "total median",
    "total p95",
    "last-20 total",
    "e2e fps",
]


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


def browser_rows(browser: dict) -> list[list[str]]:
    rows = []
    for r in browser["runs"]:
        s = r["stages"]

        def med(k: str, s: dict = s) -> str:
            return _f(s[k]["median_ms"]) if k in s else "—"

        rows.append(
            [
                r["page"],
                r["backend"] or r["requested_backend"],
                str(r["threads"] or "—"),
                med("preprocess"),
                med("inference"),
                med("readback"),
                med("postprocess"),
                med("render"),
                med("total"),
                _f(s["total"]["p95_ms"]),
                _f(r["last20"].get("total")),
                _f(r["e2e"]["fps"]),
            ]
        )
    return rows


def console(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    tables = []
    if "python" in results:
        tables.append(("Python runtimes (per frame)", PY_HEADER, python_rows(results["python"])))
    if "browser" in results:
        tables.append(("Browser pipelines (ms, median per frame)", BR_HEADER, browser_rows(results["browser"])))
    pr = peak_rows(results.get("python"), results.get("browser"))
    if pr:
        tables.append(("Runtime peak (best call)", ["runtime", "threads", "probe", "GFLOP", "ms", "GFLOP/s"], pr))
    for title, header, rows in tables:
        table = Table(title=title)
        for col in header:
            table.add_column(col, justify="left" if col in ("runtime", "page", "precision", "probe") else "right")
        for row in rows:
            table.add_row(*row)
        con.print(table)
    h = headline(results)
    targets = Table(title="Targets (wasm)")
    for col in ("target", "measured", "", "verdict"):
        targets.add_column(col)
    for row in target_rows(h):
        targets.add_row(*row)
    con.print(targets)
    for note in results.get("browser", {}).get("notes", []) + results.get("python", {}).get("notes", []):
        con.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)


# ----- charts ----------------------------------------------------------------------------------------------------

STAGE_COLORS = {
    "preprocess": "#f7b955",
    "inference": "#5aa9ff",
    "readback": "#b48cff",
    "postprocess": "#ff7b7b",
    "render": "#4fd1a5",
}


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
        runs = results["browser"]["runs"]
        fig, ax = plt.subplots(figsize=(9, 0.5 * len(runs) + 1.2))
        labels = [f"{r['page']} ({r['backend'] or r['requested_backend']})" for r in runs]
        left = [0.0] * len(runs)
        for stage, color in STAGE_COLORS.items():
            widths = [r["stages"].get(stage, {}).get("median_ms", 0.0) for r in runs]
            ax.barh(labels, widths, left=left, color=color, label=stage)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ax.axvline(1000 / 30, color="grey", linestyle="--", label="30 fps")
        ax.set_xlabel("ms per frame (median of each step)")
        ax.invert_yaxis()
        ax.legend(loc="lower right", fontsize=8)
        save(fig, "browser_stages.png")

        fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6))
        for r, label in zip(runs, labels, strict=True):
            top.plot([f["total"] for f in r["frames"]], label=label, linewidth=1)
            heap = [(p["t"], p["mb"]) for p in r["heap_mb"] if p["mb"] is not None]
            if heap:
                bottom.plot(*zip(*heap, strict=True), label=label, marker=".")
        top.set_ylabel("ms per frame")
        top.set_xlabel("frame")
        bottom.set_ylabel("JS heap MB")
        bottom.set_xlabel("seconds")
        top.legend(fontsize=8)
        save(fig, "browser_frames.png")
    return written


# ----- BENCHMARKS.md ---------------------------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _machine(results: dict) -> list[str]:
    m = (results.get("python") or results.get("browser") or {}).get("machine", {})
    lines = [
        f"- CPU: {m.get('cpu', '?')}, {m.get('usable_cores', '?')} usable cores "
        f"({m.get('logical_cores', '?')} logical), {m.get('memory_gb', '?')} GB RAM; {m.get('os', '?')}",
        f"- Python {m.get('python', '?')}; " + ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items() if v),
    ]
    if "browser" in results:
        b = results["browser"]["browser"]
        lines.append(f"- Browser: headless Chromium {b['version']}, flags `{' '.join(b['flags'])}`")
    for key in ("python", "browser"):
        if key in results:
            load = results[key].get("machine", {}).get("load_average")
            if load:
                lines.append(
                    f"- Load average when `bench {key}` started: {', '.join(f'{x:.2f}' for x in load)} "
                    "(this machine is shared; figures are what they were)"
                )
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
    commands = [results[k]["command"] for k in ("python", "browser") if k in results and results[k].get("command")]
    parts += ["## Reproduce", "", "```sh", *dict.fromkeys(commands), "```", ""]
    parts += ["## Machine", "", *_machine(results), ""]
    parts += ["## Headline (default bundle, WASM)", ""]
    if "e2e_fps" in h:
        parts.append(f"- liveseg end-to-end: **{_f(h['e2e_fps'])} fps** ({_f(h['e2e_ms'])} ms per frame median).")
    for peer, name in (("seed", "seed-style pipeline"), ("tfjs", "TF.js peer")):
        if f"vs_{peer}" in h:
            parts.append(f"- {name}: {_f(h[f'{peer}_fps'])} fps → liveseg is **{_f(h[f'vs_{peer}'], 2)}×** faster.")
    if "api_fps" in h:
        versus = f", {_f(h['api_vs_seed'], 2)}× the seed-style pipeline" if "api_vs_seed" in h else ""
        parts.append(
            f"- liveseg's module API without the page's rendering (`createSegmenter` → `segment` on the same "
            f"camera): {_f(h['api_fps'])} fps, inference {_f(h['api_inference_ms'])} ms{versus}."
        )
    if "efficiency" in h:
        parts.append(
            f"- Efficiency in the browser: {_f(h['model_gflops'], 2)} GFLOP per frame at "
            f"{_f(h['browser_achieved_gflops_per_s'])} GFLOP/s vs a measured onnxruntime-web peak of "
            f"{_f(h['browser_peak_gflops_per_s'])} GFLOP/s = **{_pct(h['efficiency'])}**."
        )
    if "python_best" in h:
        b = h["python_best"]
        parts.append(
            f"- Python onnxruntime best (batch 1): {b['precision']} {b['size']} on {b['threads']} threads, "
            f"{_f(b['median_ms'])} ms = {_f(b['fps'])} fps, efficiency {_pct(b['efficiency'])}."
        )
    parts += [
        "",
        "## Targets",
        "",
        _md_table(["target", "measured", "unit", "verdict"], [list(r) for r in target_rows(h)]),
        "",
    ]
    analysis = where_time_goes(results)
    if analysis:
        parts += ["## Where the time goes", "", *[f"- {a}" for a in analysis], ""]
    if "browser" in results:
        b = results["browser"]
        parts += [
            "## Browser",
            "",
            f"{b['frames']} measured frames after {b['warmup']} warm-up frames per page (V8 runs new WebAssembly "
            "in its baseline tier first: a page's first ~20 frames are 2-10x slower); fake webcam of CamVid "
            "val frames. Columns are medians in ms; *e2e fps* counts finished frames over wall time; *last-20* "
            "is the mean of the last 20 frames (as seed 003 reports). liveseg's preprocess/inference/readback "
            "are measured in its worker, render on the page. The seed-style page does normalisation, argmax "
            "and colouring in JavaScript (*post*) and runs onnxruntime-web on the main thread; the TF.js page "
            "runs predict lazily, so its GPU/WASM work shows up under *readback* (`data()`).",
            "",
            _md_table(BR_HEADER, browser_rows(b)),
            "",
        ]
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
    notes = [*results.get("browser", {}).get("notes", []), *results.get("python", {}).get("notes", [])]
    if notes:
        parts += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    if pictures:
        parts += ["## Charts", ""]
        parts += [f"![{p.stem}]({Path(os.path.relpath(p, report.parent)).as_posix()})" for p in pictures]
        parts.append("")
    return "\n".join(parts)


def write_report(out: Path, report: Path, show: bool = True) -> dict:
    """Console tables, charts and BENCHMARKS.md from whatever results `out` holds."""
    results = load_results(out)
    if show:
        console(results)
    pictures = charts(results, out)
    atomic.write_text(report, markdown(results, out, report, pictures))
    return results
