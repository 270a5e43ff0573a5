"""`liveseg bench browser`: the real web app in headless Chromium against its module API, the seed-style, TF.js
and MediaPipe pipelines, all on one fake webcam.

`liveseg serve` runs as users run it; Chromium's fake webcam plays CamVid val frames at 60 fps, faster than any
pipeline here, so the camera never sets the pace. Every page is measured the same way: a warm-up, then a window
in which only results segmented from a camera frame different from the previous result's count (the app's
`stats().sourceFrames`; the bench pages' `fresh` frames, web/bench/common.ts), over wall time. An init script
watches requestVideoFrameCallback on every page to measure the rate the camera actually delivered. Models that
are not part of the bundle (logits graph, TF.js model, peak probes) are answered by Playwright under `/bench-data/`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args
from urllib.parse import urlsplit

import numpy as np

from liveseg import paths
from liveseg.bench.graphs import PeakRun, Probe
from liveseg.bench.machine import Machine
from liveseg.bench.snapshot import Memory, Snapshot, Stage, snapshot
from liveseg.bench.stats import Timing, summarize
from liveseg.errors import LivesegError
from liveseg.runtime.bundle import Bundle

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",  # WebGL without a GPU runs on SwiftShader only when asked
    "--enable-precise-memory-info",  # performance.memory otherwise rounds the heap to coarse buckets
]
# A WebGPU adapter on the CPU (SwiftShader): only added when a run asks for the webgpu backend, since it changes
# what `auto` finds.
WEBGPU_FLAGS = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"]
# V8 first runs onnxruntime-web's WebAssembly in its baseline tier (Liftoff) and swaps in optimised (TurboFan)
# code as functions get hot, so a page's first frames are several times slower (BENCHMARKS.md, "Design
# measurements").
WARMUP_FRAMES = 40
# Software GPU backends run at a frame every few seconds: warm-up and measurement also end after these times.
WARMUP_S = 20.0
MEASURE_S = 60.0
MIN_FRAMES = 2  # a window needs two results to have a rate
POLL_MS = 200
# Per-frame steps, in pipeline order: the app's (its snapshot's `stages`) plus the seeds' JS post-processing, which
# runs before the render.
APP_STAGES: tuple[Stage, ...] = get_args(Stage)
_RENDER = APP_STAGES.index("render")
STAGES = (*APP_STAGES[:_RENDER], "postprocess", *APP_STAGES[_RENDER:])
TFJS_BACKENDS = ("wasm", "webgl")  # the TF.js build here has no webgpu backend
MEDIAPIPE_BACKEND = "wasm+webgl"  # MediaPipe picks its own runtime: WebAssembly with WebGL for images

# The newest camera frame any video on the page presented, from requestVideoFrameCallback (which the app and every
# bench page use), so the camera's delivered rate is measured on each page without touching it.
CAMERA_WATCH = """
(() => {
  const native = HTMLVideoElement.prototype.requestVideoFrameCallback;
  if (!native) return;
  HTMLVideoElement.prototype.requestVideoFrameCallback = function (callback) {
    return native.call(this, (now, meta) => {
      window.__camera = { frames: meta.presentedFrames, at: now };
      callback(now, meta);
    });
  };
})();
"""

# Each poll says: the page's state, results from distinct camera frames so far (`count`), results in all
# (`results`), and the camera's progress. The app's poll takes its snapshot, read in Python (`app_poll`).
APP_POLL = """() => ({
  now: performance.now(), camera: window.__camera || null, snapshot: window.liveseg ? window.liveseg.stats() : null
})"""
BENCH_POLL = """() => {
  const b = window.bench;
  const base = { now: performance.now(), camera: window.__camera || null };
  if (!b) return { ...base, state: "loading", error: null, count: 0, results: 0 };
  return { ...base, state: b.state, error: b.error, count: b.frames.filter((f) => f.fresh).length,
           results: b.frames.length };
}"""


@dataclass(frozen=True)
class Window:
    """Throughput over a measured window: distinct camera frames segmented per second, the results that repeated
    a frame, the camera's own rate."""

    fps: float
    seconds: float
    distinct: int
    repeats: int
    camera_fps: float | None


@dataclass(frozen=True, kw_only=True)
class BrowserRun:
    """One page on one backend: the app's (`page` "liveseg", with `dropped` and `memory`) or a web/bench page's
    (with `frame_ms` and `frames`). `Window`'s figures are flattened into it."""

    page: str
    backend: str | None
    requested_backend: str
    precision: str | None
    size: str | None
    threads: int | None
    load_ms: float | None
    fps: float
    seconds: float
    distinct: int
    repeats: int
    camera_fps: float | None
    stages: dict[str, float]  # median ms per step of STAGES
    frame_ms: Timing | None
    dropped: int | None = None  # the app's stats().dropped
    memory: Memory | None = None  # the app's stats().memory
    frames: list[dict[str, float | bool]] | None = None  # the page's FrameRecords (web/bench/common.ts) measured
    notes: list[str]
    errors: list[str]


@dataclass(frozen=True)
class BrowserInfo:
    name: str
    version: str
    flags: list[str] | None = None


@dataclass(frozen=True)
class BrowserResult:
    """`liveseg bench browser`'s browser.json, and the browser part of person.json (without the suite's fields,
    `machine` to `model_gflops`)."""

    browser: BrowserInfo
    bundle: str
    model: str | None
    precision: str
    size: str
    frames: int
    warmup: int
    warmup_s: float
    measure_s: float
    runs: list[BrowserRun]
    peak: list[PeakRun]
    machine: Machine | None = None
    command: str | None = None
    quick: bool | None = None
    notes: list[str] | None = None
    model_gflops: dict[str, float] | None = None  # per frame, by HxW


@dataclass
class BrowserOptions:
    bundle: Bundle
    precision: str
    size: tuple[int, int]
    backends: list[str]
    threads: int
    frames: int
    warmup: int
    webcam: Path
    logits_onnx: Path | None
    tfjs_model: Path | None
    mediapipe: bool
    probes: list[Probe]
    warmup_s: float = WARMUP_S
    measure_s: float = MEASURE_S
    timeout_s: float = 300
    effect: str = "none"  # the app's effect (its `effect` URL parameter), e.g. "blur" for the person model
    camera: tuple[int, int] | None = None  # H, W the app asks the webcam for; None: the model size


def start_serve(command: Sequence[str], **popen: Any) -> tuple[subprocess.Popen[str], str, list[str]]:
    """Start a `liveseg serve` command (any interpreter or install) and read its output up to the line naming its
    URL, which it prints once it listens: (the process, the URL, the lines read). The one parser of that line, for
    the benchmarks and the tests alike; a process that exits first raises LivesegError with what it printed."""
    proc = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)
    lines: list[str] = []
    for line in proc.stdout or ():
        lines.append(line)
        if match := re.search(r"serving at (http://\S+)", line):
            return proc, match.group(1), lines
    proc.wait()
    raise LivesegError(f"`liveseg serve` exited with {proc.returncode}: {''.join(lines).strip()}")


@contextmanager
def serve(*bundles: Bundle, env: dict[str, str] | None = None) -> Iterator[str]:
    """`liveseg serve --port 0` in a subprocess serving `bundles` alone (none: its default choice, the embedded
    default and every pulled bundle); yields its base URL (ending in /)."""
    if not (paths.STATIC_DIR / "index.html").is_file():
        raise LivesegError(f"The web app is not built ({paths.STATIC_DIR} has no index.html); run `make web`.")
    models = [arg for bundle in bundles for arg in ("--model", str(bundle.root))] + (["--only"] if bundles else [])
    command = [sys.executable, "-m", "liveseg", "serve", *models, "--port", "0"]
    proc, url, _ = start_serve(command, env={**os.environ, **(env or {})})
    try:
        yield url if url.endswith("/") else url + "/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def chromium(webcam: Path, extra_flags: list[str] | None = None) -> Iterator[Browser]:
    """Headless Chromium with a fake webcam that loops `webcam` and auto-granted camera access."""
    if not CHROMIUM.is_file():
        raise LivesegError(f"{CHROMIUM} is missing; install Debian's chromium package to run browser benchmarks.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                *CHROMIUM_FLAGS,
                *(extra_flags or []),
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={webcam}",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


def _serve_files(files: dict[str, Path]) -> Callable:
    """A Playwright route handler answering /bench-data/<name> from local files."""

    def handle(route) -> None:
        name = urlsplit(route.request.url).path.removeprefix("/bench-data/")
        path = files.get(name)
        if path is None:
            route.fulfill(status=404, body=f"no bench file {name}")
            return
        kind = "application/json" if name.endswith(".json") else "application/octet-stream"
        route.fulfill(status=200, body=path.read_bytes(), headers={"Content-Type": kind})

    return handle


def open_page(browser, url: str, files: dict[str, Path] | None = None):
    """A page in its own context, with the camera watch installed; returns (context, page, page errors)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    # A predicate on the path, not a glob: the page's own URL carries "/bench-data/" in its query string.
    context.route(lambda url: urlsplit(url).path.startswith("/bench-data/"), _serve_files(files or {}))
    context.add_init_script(CAMERA_WATCH)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    return context, page, errors


Poll = Callable[["Page"], dict]


def app_poll(page: Page) -> dict:
    return app_state(page.evaluate(APP_POLL))


def app_state(poll: dict) -> dict:
    """APP_POLL's result in BENCH_POLL's terms, from the app's snapshot; `counted` says whether the app counts
    distinct camera frames (`sourceFrames`) or, as older versions, every result."""
    s: Snapshot | None = poll["snapshot"]
    base = {"now": poll["now"], "camera": poll["camera"]}
    if s is None:
        return {**base, "state": "loading", "error": None, "count": 0, "results": 0, "counted": False}
    counted = "sourceFrames" in s
    count = s["sourceFrames"] if counted else s["frames"]
    return {
        **base,
        "state": s["state"],
        "error": s["error"],
        "count": count,
        "results": s["frames"],
        "counted": counted,
    }


def bench_poll(page: Page) -> dict:
    return page.evaluate(BENCH_POLL)


def until(page, poll: Poll, done: Callable[[dict], bool], timeout_s: float, what: str, errors: list[str]) -> dict:
    """Poll the page until `done(poll)`; a page error or the timeout becomes one LivesegError saying what happened."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = poll(page)
        if state["state"] == "error":
            raise LivesegError(f"{what} failed: {state['error']}")
        if done(state):
            return state
        if time.monotonic() > deadline:
            seen = "; ".join(errors[-3:]) or "no error on the page"
            raise LivesegError(f"{what} did not happen within {timeout_s:.0f} s ({seen}).")
        page.wait_for_timeout(POLL_MS)


def measure_window(page, poll: Poll, opts: BrowserOptions, what: str, errors: list[str]) -> tuple[dict, dict]:
    """Wait for the first result, warm up, then measure; returns the polls that open and close the window.

    Warm-up ends after `warmup` counted results or `warmup_s`, the window after `frames` results or `measure_s`
    (with at least MIN_FRAMES), so a backend at a frame every few seconds is measured in bounded time too.
    """
    first = until(page, poll, lambda s: s["count"] >= 1, opts.timeout_s, f"{what} segmenting a frame", errors)
    warm_ms = opts.warmup_s * 1000
    until(
        page,
        poll,
        lambda s: s["count"] - first["count"] >= opts.warmup or s["now"] - first["now"] >= warm_ms,
        opts.warmup_s + opts.timeout_s,
        f"{what} warming up",
        errors,
    )
    start = poll(page)

    def complete(s: dict) -> bool:
        done = s["count"] - start["count"]
        return done >= opts.frames or (s["now"] - start["now"] >= opts.measure_s * 1000 and done >= MIN_FRAMES)

    end = until(page, poll, complete, opts.measure_s + opts.timeout_s, f"{what} segmenting {MIN_FRAMES} frames", errors)
    return start, end


def window_figures(start: dict, end: dict) -> Window:
    seconds = (end["now"] - start["now"]) / 1000
    distinct = end["count"] - start["count"]
    camera_fps = None
    if start["camera"] and end["camera"] and end["camera"]["at"] > start["camera"]["at"]:
        camera_fps = (
            (end["camera"]["frames"] - start["camera"]["frames"]) * 1000 / (end["camera"]["at"] - start["camera"]["at"])
        )
    fps = distinct / seconds if seconds > 0 else float("nan")
    return Window(fps, seconds, distinct, (end["results"] - start["results"]) - distinct, camera_fps)


def _medians(frames: list[dict]) -> dict[str, float]:
    return {k: float(np.median([f[k] for f in frames])) for k in STAGES if frames and k in frames[0]}


def app_stages(snapshot: Mapping[str, Any]) -> tuple[dict[str, float], list[str]]:
    """The app's per-stage medians (its Snapshot's `stages`); an older app, which reported none, gives its means
    over the last frames instead."""
    if isinstance(snapshot.get("stages"), dict):
        return {k: float(v) for k, v in snapshot["stages"].items() if k in APP_STAGES and v is not None}, []
    means = {k: float(v) for k, v in (snapshot.get("avg") or {}).items() if k in APP_STAGES}
    return means, ["the app reports no stats().stages, so its stages are its own means over the last frames"]


def bench_app(browser, base: str, opts: BrowserOptions, backend: str) -> BrowserRun:
    """The liveseg page itself, started from URL parameters on the fake webcam."""
    h, w = opts.size
    ch, cw = opts.camera or opts.size
    query = (
        f"?model={opts.bundle.name}&backend={backend}&precision={opts.precision}&size={h}x{w}"
        f"&threads={opts.threads}&source=camera&resolution={cw}x{ch}&autostart=1&effect={opts.effect}"
    )
    context, page, errors = open_page(browser, base + query)
    try:
        start, end = measure_window(page, app_poll, opts, f"The liveseg page ({backend})", errors)
        final = snapshot(page)
    finally:
        context.close()
    stages, notes = app_stages(final)
    if not end["counted"]:
        notes.append("the app reports no stats().sourceFrames, so every segmented frame was counted")
    return BrowserRun(
        page="liveseg",
        backend=final["backend"],
        requested_backend=backend,
        precision=final["precision"],
        size=final["size"],
        threads=final["threads"],
        load_ms=final["loadMs"],
        **asdict(window_figures(start, end)),
        stages=stages,
        frame_ms=None,
        dropped=final.get("dropped"),
        memory=final.get("memory"),
        notes=notes,
        errors=errors,
    )


def bench_page(browser, url: str, opts: BrowserOptions, page_name: str, backend: str, files: dict) -> BrowserRun:
    """A web/bench page: warm up, measure, and take its per-frame records of the window."""
    what = f"The {page_name} page ({backend})"
    context, page, errors = open_page(browser, url, files)
    try:
        start, end = measure_window(page, bench_poll, opts, what, errors)
        state = page.evaluate("window.bench")
    finally:
        context.close()
    frames = state["frames"][start["results"] : end["results"]]
    return BrowserRun(
        page=page_name,
        backend=state["backend"],
        requested_backend=backend,
        precision={"liveseg-api": opts.precision, "seed": "fp32", "tfjs": "fp32"}.get(page_name),
        size=f"{opts.size[0]}x{opts.size[1]}",
        threads=state["threads"],
        load_ms=state["loadMs"],
        **asdict(window_figures(start, end)),
        stages=_medians(frames),
        frame_ms=summarize([f["total"] for f in frames]),
        frames=frames,
        notes=[],
        errors=errors,
    )


def page_url(base: str, opts: BrowserOptions, page_name: str, backend: str) -> str:
    """The URL of a web/bench page for this run's bundle variant, size, backend and threads (MediaPipe's page
    sizes its camera and canvas by it, so it gets the app's camera size)."""
    h, w = (opts.camera or opts.size) if page_name == "mediapipe" else opts.size
    common = f"backend={backend}&threads={opts.threads}&size={h}x{w}"
    models = {
        "liveseg-api": f"/models/{opts.bundle.name}/&precision={opts.precision}",
        "seed": "/bench-data/seed-logits.onnx",
        "tfjs": "/bench-data/tfjs/model.json",
        "mediapipe": "0",
    }
    page = "api" if page_name == "liveseg-api" else page_name
    return f"{base}bench/{page}.html?model={models[page_name]}&{common}"


def _peak_poll(page: Page) -> dict:
    return page.evaluate("() => window.bench || { state: 'loading', error: null, calls: [] }")


def bench_peak(browser, base: str, opts: BrowserOptions, advance: Callable[[], None], runs: int = 6) -> list[PeakRun]:
    """GFLOP/s of onnxruntime-web (wasm, same thread count) on the probe graphs."""
    rows = []
    for probe in opts.probes:
        shape = ",".join(map(str, probe.input_shape))
        url = (
            f"{base}bench/peak.html?model=/bench-data/{probe.path.name}&shape={shape}&backend=wasm"
            f"&threads={opts.threads}&runs={runs}"
        )
        what = f"The peak page ({probe.name})"
        context, page, errors = open_page(browser, url, {probe.path.name: probe.path})
        try:
            state = until(page, _peak_poll, lambda s: len(s["calls"]) >= runs, opts.timeout_s, what, errors)
        finally:
            context.close()
        advance()
        rows.append(probe.result("onnxruntime-web-wasm", state["threads"], state["calls"]))
    return rows


def plan(opts: BrowserOptions) -> list[tuple[str, str]]:
    """(page, backend) in run order: every page on one backend before the next, so each comparison is close in time."""
    pages = []
    for backend in opts.backends:
        pages += [("liveseg", backend), ("liveseg-api", backend)]
        if opts.logits_onnx is not None:
            pages.append(("seed", backend))
        if opts.tfjs_model is not None and backend in TFJS_BACKENDS:
            pages.append(("tfjs", backend))
        if opts.mediapipe and backend == opts.backends[0]:
            pages.append(("mediapipe", MEDIAPIPE_BACKEND))
    return pages


def _check_build(pages: list[tuple[str, str]], probes: list[Probe]) -> None:
    wanted = {"api" if p == "liveseg-api" else p for p, _ in pages if p != "liveseg"} | ({"peak"} if probes else set())
    missing = sorted(n for n in wanted if not (paths.STATIC_DIR / "bench" / f"{n}.html").is_file())
    if missing:
        raise LivesegError(
            f"The web build lacks the benchmark pages ({', '.join(missing)}), which the wheel leaves out; run "
            "`make web` in a checkout of liveseg and `liveseg bench browser` from there."
        )


def run_browser(
    opts: BrowserOptions,
    notes: list[str],
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> BrowserResult:
    """Every page × backend asked for; a page that cannot run is recorded in `notes` and the rest go on."""
    pages = plan(opts)
    _check_build(pages, opts.probes)
    advance = progress(len(pages) + len(opts.probes)) if progress else (lambda: None)
    files: dict[str, Path] = {}
    if opts.logits_onnx is not None:
        files["seed-logits.onnx"] = opts.logits_onnx
    if opts.tfjs_model is not None:
        files.update({f"tfjs/{p.name}": p for p in opts.tfjs_model.iterdir() if p.is_file()})
    runs = []
    flags = WEBGPU_FLAGS if "webgpu" in opts.backends else []
    with serve(opts.bundle) as base, chromium(opts.webcam, flags) as browser:
        version = browser.version
        for name, backend in pages:
            try:
                if name == "liveseg":
                    run = bench_app(browser, base, opts, backend)
                else:
                    run = bench_page(browser, page_url(base, opts, name, backend), opts, name, backend, files)
                runs.append(run)
                notes += [f"{name} on {backend}: {n}" for n in run.notes]
            except LivesegError as exc:
                notes.append(f"{name} on {backend}: {exc}")
            advance()
        try:
            peak = bench_peak(browser, base, opts, advance) if opts.probes else []
        except LivesegError as exc:
            notes.append(f"runtime peak: {exc}")
            peak = []
    return BrowserResult(
        browser=BrowserInfo("chromium", version, CHROMIUM_FLAGS + flags),
        bundle=opts.bundle.name,
        model=opts.bundle.manifest.model.get("name"),
        precision=opts.precision,
        size=f"{opts.size[0]}x{opts.size[1]}",
        frames=opts.frames,
        warmup=opts.warmup,
        warmup_s=opts.warmup_s,
        measure_s=opts.measure_s,
        runs=runs,
        peak=peak,
    )
