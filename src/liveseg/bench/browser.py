"""`liveseg bench browser`: the real web app in headless Chromium against the seed-style and TF.js pipelines.

`liveseg serve` runs as users run it; Chromium's fake webcam plays CamVid val frames. The app's worker reports
per-frame preprocess/inference/readback times in its `segment-done` messages: an init script listens to them
(the page itself is unchanged), and `window.liveseg.stats()` gives render times, fps and memory over time. The
bench pages (web/bench/, built with the app) run the seed-style and TF.js pipelines and expose `window.bench`.
Models that are not part of the bundle (logits graph, TF.js model, peak probes) are answered by Playwright
from the harness, under `/bench-data/`.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from liveseg import paths
from liveseg.bench.graphs import Probe
from liveseg.bench.stats import summarize
from liveseg.errors import LivesegError
from liveseg.runtime.bundle import Bundle

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
# V8 first runs onnxruntime-web's WebAssembly in its baseline tier (Liftoff) and swaps in optimised (TurboFan)
# code as functions get hot: measured here, the first ~20 frames of a page take 2-10x longer than the rest.
WARMUP_FRAMES = 40
CAMERA_FPS = 60  # faster than any pipeline here, so the camera never limits the measured frame rate
STAGES = ("preprocess", "inference", "readback", "postprocess", "render", "total")

# Records the worker's per-frame timings without touching the app: every Worker the page creates gets a listener.
CAPTURE_WORKER_TIMINGS = """
(() => {
  const frames = [];
  window.__benchFrames = frames;
  const Native = window.Worker;
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const d = e.data;
        if (d && d.type === "segment-done") frames.push({ ...d.timings, at: performance.now() });
      });
    }
  };
})();
"""


# The module API on its own (`createSegmenter` → `segment`), fed from the same fake webcam with nothing drawn:
# liveseg's pipeline without the page's rendering, which on a GPU-less machine is software GL on the same cores.
API_LOOP = """
async ([model, precision, size, backend, threads, want]) => {
  const video = document.createElement("video");
  video.muted = true;
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
  await video.play();
  const t0 = performance.now();
  const seg = await window.liveseg.createSegmenter({ model, precision, size, backend, threads });
  const loadMs = performance.now() - t0;
  const frames = [];
  while (frames.length < want) {
    const result = await seg.segment(await createImageBitmap(video), { transfer: true });
    frames.push({ ...result.timings, at: performance.now() });
    seg.recycle(result);
  }
  const info = { backend: seg.backend, threads: seg.threads, loadMs, frames };
  seg.close();
  video.srcObject.getTracks().forEach((t) => t.stop());
  return info;
}
"""


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
    probes: list[Probe]
    timeout_s: float = 300


@contextmanager
def serve(bundle: Bundle) -> Iterator[str]:
    """`liveseg serve --port 0` in a subprocess; yields its base URL (ending in /)."""
    if not (paths.STATIC_DIR / "index.html").is_file():
        raise LivesegError(f"The web app is not built ({paths.STATIC_DIR} has no index.html); run `make web`.")
    proc = subprocess.Popen(
        [sys.executable, "-m", "liveseg", "serve", "--model", str(bundle.root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    url = None
    for line in proc.stdout:
        lines.append(line)
        if match := re.search(r"serving at (http://\S+)", line):
            url = match.group(1)
            break
    try:
        if url is None:
            proc.wait()
            raise LivesegError(f"`liveseg serve` exited with {proc.returncode}: {''.join(lines).strip()}")
        yield url if url.endswith("/") else url + "/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def chromium(webcam: Path) -> Iterator[object]:
    """Headless Chromium with a fake webcam that loops `webcam` and auto-granted camera access."""
    if not CHROMIUM.is_file():
        raise LivesegError(f"{CHROMIUM} is missing; install Debian's chromium package to run browser benchmarks.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                *CHROMIUM_FLAGS,
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


def _page(browser, url: str, files: dict[str, Path], init_script: str | None = None):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    # A predicate on the path, not a glob: the page's own URL carries "/bench-data/" in its query string.
    context.route(lambda url: urlsplit(url).path.startswith("/bench-data/"), _serve_files(files))
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(url)
    return context, page, errors


def _wait(page, condition: str, timeout_s: float, what: str, errors: list[str]) -> None:
    """Poll a JS condition; on timeout say what the page reported instead of a bare Playwright timeout."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(condition, timeout=timeout_s * 1000, polling=250)
    except PlaywrightTimeout:
        seen = "; ".join(errors[-3:]) or "no error on the page"
        raise LivesegError(f"{what} did not happen within {timeout_s:.0f} s ({seen}).") from None


def _bench_state(browser, url: str, files: dict[str, Path], want: int, timeout_s: float, what: str):
    """Open a web/bench page, wait for `want` frames of `window.bench` and return (its state, page errors)."""
    context, page, errors = _page(browser, url, files)
    try:
        _wait(
            page,
            f"() => window.bench && (window.bench.state === 'error' || window.bench.frames.length >= {want})",
            timeout_s,
            f"{what} producing {want} frames",
            errors,
        )
        state = page.evaluate("window.bench")
    finally:
        context.close()
    if state["state"] == "error":
        raise LivesegError(f"{what} failed: {state['error']}")
    return state, errors


def _stage_summaries(frames: list[dict]) -> dict:
    return {k: summarize([f[k] for f in frames]) for k in STAGES if frames and k in frames[0]}


def _last20(frames: list[dict]) -> dict:
    """Mean of each stage over the last 20 frames, the figure seed 003 reports."""
    return {k: float(np.mean([f[k] for f in frames[-20:]])) for k in STAGES if frames and k in frames[0]}


def _e2e(frames: list[dict]) -> dict:
    """End-to-end throughput from the times frames were finished (includes waiting for the camera and rAF)."""
    at = np.array([f["at"] for f in frames])
    if len(at) < 2:
        return {"fps": float("nan"), "intervals": summarize([])}
    intervals = np.diff(at).tolist()
    return {"fps": (len(at) - 1) * 1000 / (at[-1] - at[0]), "intervals": summarize(intervals)}


def bench_app(browser, base: str, opts: BrowserOptions, backend: str, advance: Callable[[], None]) -> dict:
    """The liveseg page itself, started from URL parameters on the fake webcam."""
    h, w = opts.size
    query = (
        f"?model={opts.bundle.name}&backend={backend}&precision={opts.precision}&size={h}x{w}"
        f"&threads={opts.threads}&source=camera&resolution={w}x{h}&autostart=1"
    )
    context, page, errors = _page(browser, base + query, {}, CAPTURE_WORKER_TIMINGS)
    try:
        _wait(
            page,
            "() => { const s = window.liveseg && window.liveseg.stats(); return s && s.state === 'error' "
            f"|| (s.state === 'ready' && window.__benchFrames.length >= {opts.warmup}); }}",
            opts.timeout_s,
            f"The liveseg page ({backend}) producing {opts.warmup} frames",
            errors,
        )
        snapshot = page.evaluate("window.liveseg.stats()")
        if snapshot["state"] == "error":
            raise LivesegError(f"The liveseg page failed on {backend}: {snapshot['error']}")
        start = page.evaluate("window.__benchFrames.length")
        timeline = []
        deadline = time.monotonic() + opts.timeout_s
        while page.evaluate("window.__benchFrames.length") - start < opts.frames:
            if time.monotonic() > deadline:
                raise LivesegError(
                    f"The liveseg page ({backend}) got slower than {opts.frames} frames in "
                    f"{opts.timeout_s:.0f} s; lower --frames."
                )
            s = page.evaluate("window.liveseg.stats()")
            timeline.append(
                {"t": time.monotonic(), "frames": s["frames"], "fps": s["fps"], "avg": s["avg"], "memory": s["memory"]}
            )
            page.wait_for_timeout(1000)
        frames = page.evaluate(f"window.__benchFrames.slice({start}, {start + opts.frames})")
        final = page.evaluate("window.liveseg.stats()")
    finally:
        context.close()
    advance()
    t0 = timeline[0]["t"] if timeline else 0
    for point in timeline:
        point["t"] -= t0
    return {
        "page": "liveseg",
        "backend": final["backend"],
        "requested_backend": backend,
        "precision": final["precision"],
        "size": final["size"],
        "threads": final["threads"],
        "load_ms": final["loadMs"],
        "frames": frames,
        "stages": _stage_summaries(frames),
        "e2e": _e2e(frames),
        "last20": final["avg"],
        "fps_last20": final["fps"],
        "dropped": final["dropped"],
        "memory": final["memory"],
        "timeline": timeline,
        "heap_mb": [{"t": p["t"], "mb": p["memory"]["jsHeapMB"]} for p in timeline],
        "fallbacks": final["fallbacks"],
        "errors": errors,
    }


def bench_api(browser, base: str, opts: BrowserOptions, backend: str, advance: Callable[[], None]) -> dict:
    """liveseg's module API in the app's page, camera frames in, class maps out, no rendering."""
    from playwright.sync_api import Error as PlaywrightError

    h, w = opts.size
    context, page, errors = _page(browser, base, {})
    try:
        _wait(page, "() => window.liveseg !== undefined", opts.timeout_s, "The liveseg page loading", errors)
        args = [f"models/{opts.bundle.name}/", opts.precision, f"{h}x{w}", backend, opts.threads]
        info = page.evaluate(API_LOOP, [*args, opts.warmup + opts.frames])
    except PlaywrightError as exc:  # a rejected promise in the page
        raise LivesegError(f"The liveseg module API failed on {backend}: {str(exc).splitlines()[0]}") from None
    finally:
        context.close()
    advance()
    frames = info["frames"][opts.warmup :]
    return {
        "page": "liveseg-api",
        "backend": info["backend"],
        "requested_backend": backend,
        "precision": opts.precision,
        "size": f"{h}x{w}",
        "threads": info["threads"],
        "load_ms": info["loadMs"],
        "frames": frames,
        "stages": _stage_summaries(frames),
        "e2e": _e2e(frames),
        "last20": _last20(frames),
        "heap_mb": [],  # heap over time is tracked in the app's own run
        "errors": errors,
    }


def bench_page(
    browser,
    base: str,
    opts: BrowserOptions,
    page_name: str,
    backend: str,
    model_url: str,
    files: dict[str, Path],
    advance: Callable[[], None],
) -> dict:
    """A web/bench page (seed-style or TF.js): warm up, then take `frames` frames of `window.bench`."""
    h, w = opts.size
    url = f"{base}bench/{page_name}.html?model={model_url}&backend={backend}&threads={opts.threads}&size={h}x{w}"
    want = opts.warmup + opts.frames
    state, errors = _bench_state(browser, url, files, want, opts.timeout_s, f"The {page_name} page ({backend})")
    advance()
    frames = state["frames"][opts.warmup : want]
    t0 = state["heapMB"][0]["at"] if state["heapMB"] else 0
    return {
        "page": page_name,
        "backend": state["backend"],
        "requested_backend": backend,
        "precision": "fp32",
        "size": f"{h}x{w}",
        "threads": state["threads"],
        "load_ms": state["loadMs"],
        "frames": frames,
        "stages": _stage_summaries(frames),
        "e2e": _e2e(frames),
        "last20": _last20(frames),
        "heap_mb": [{"t": (p["at"] - t0) / 1000, "mb": p["mb"]} for p in state["heapMB"]],
        "errors": errors,
    }


def bench_peak(browser, base: str, opts: BrowserOptions, advance: Callable[[], None], runs: int = 6) -> list[dict]:
    """GFLOP/s of onnxruntime-web (wasm, same thread count) on the probe graphs."""
    rows = []
    for probe in opts.probes:
        shape = ",".join(map(str, probe.input_shape))
        url = (
            f"{base}bench/peak.html?model=/bench-data/{probe.path.name}&shape={shape}&backend=wasm"
            f"&threads={opts.threads}&runs={runs}"
        )
        files = {probe.path.name: probe.path}
        state, _ = _bench_state(browser, url, files, runs, opts.timeout_s, f"The peak page ({probe.name})")
        advance()
        times = [f["inference"] for f in state["frames"]]
        rows.append(
            {
                "runtime": "onnxruntime-web-wasm",
                "threads": state["threads"],
                "probe": probe.name,
                "flops": probe.flops,
                "call_ms": times,
                "gflops_per_s": probe.flops / (min(times) / 1000) / 1e9,
            }
        )
    return rows


def run_browser(
    opts: BrowserOptions,
    notes: list[str],
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> dict:
    """Every page × backend asked for; a page that cannot run is recorded in `notes` and the rest go on."""
    pages = [("liveseg", b) for b in opts.backends] + [("liveseg-api", b) for b in opts.backends]
    if opts.logits_onnx is not None:
        pages += [("seed", b) for b in opts.backends]
    if opts.tfjs_model is not None:
        pages += [("tfjs", b) for b in opts.backends]
    advance = progress(len(pages) + len(opts.probes)) if progress else (lambda: None)
    files: dict[str, Path] = {}
    if opts.logits_onnx is not None:
        files["seed-logits.onnx"] = opts.logits_onnx
    if opts.tfjs_model is not None:
        files.update({f"tfjs/{p.name}": p for p in opts.tfjs_model.iterdir() if p.is_file()})
    missing = [n for n in ("seed", "tfjs", "peak") if not (paths.STATIC_DIR / "bench" / f"{n}.html").is_file()]
    if missing and (len(pages) > len(opts.backends) or opts.probes):
        raise LivesegError(f"The web build lacks the benchmark pages ({', '.join(missing)}); run `make web`.")
    runs = []
    with serve(opts.bundle) as base, chromium(opts.webcam) as browser:
        version = browser.version
        for name, backend in pages:
            try:
                if name == "liveseg":
                    runs.append(bench_app(browser, base, opts, backend, advance))
                elif name == "liveseg-api":
                    runs.append(bench_api(browser, base, opts, backend, advance))
                else:
                    model = "/bench-data/seed-logits.onnx" if name == "seed" else "/bench-data/tfjs/model.json"
                    runs.append(bench_page(browser, base, opts, name, backend, model, files, advance))
            except LivesegError as exc:
                notes.append(f"{name} on {backend}: {exc}")
        try:
            peak = bench_peak(browser, base, opts, advance) if opts.probes else []
        except LivesegError as exc:
            notes.append(f"runtime peak: {exc}")
            peak = []
    return {
        "browser": {"name": "chromium", "version": version, "flags": CHROMIUM_FLAGS},
        "bundle": opts.bundle.name,
        "model": opts.bundle.manifest["model"]["name"],
        "frames": opts.frames,
        "warmup": opts.warmup,
        "runs": runs,
        "peak": peak,
    }
