"""BENCHMARKS.md from the results: the method of each benchmark in words, the headline and targets
(`bench.summary`), the tables and the charts, so the document is regenerated, never edited by hand."""

from __future__ import annotations

import os
from pathlib import Path

from liveseg.bench.browser import MEDIAPIPE_BACKEND, BrowserResult
from liveseg.bench.charts import TEMPORAL_CHART
from liveseg.bench.person import PersonResult
from liveseg.bench.results import Results
from liveseg.bench.summary import (
    BR_HEADER,
    PAGES,
    PY_HEADER,
    SOAK_HEADER,
    browser_rows,
    find_run,
    headline,
    num,
    pct,
    peak_rows,
    python_rows,
    result_notes,
    signed_pct,
    soak_rows,
    soak_text,
    stage_text,
    target_rows,
    where_time_goes,
)
from liveseg.bench.temporal import TemporalResult, summary

TEMPORAL_HEADING = "## Temporal stability"
DESIGN_HEADING = "## Design measurements"
# One-off measurements behind design choices, each naming the code it shaped. They are not re-measured by
# `liveseg bench`, so they live here, dated by their context, rather than in the docstrings of that code.
DESIGN_MEASUREMENTS = (
    "Bundle decoding (`liveseg.export.wrap`), onnxruntime-web WASM, 2 threads, 288x384, 11 classes, a 57 ms frame "
    "in all: Resize to full size then ArgMax took 11 ms and slicing the alpha channel off NHWC bytes 3 ms (scalar "
    "loops over the channel axis), hence planes cut while still bytes, per-phase 3×3 convolutions with DepthToSpace "
    "and an Equal/Where arg-max.",
    "V8 warm-up (`liveseg.bench.browser.WARMUP_FRAMES`): the first ~20 frames of a page took 2-10x longer than the "
    "rest (WebAssembly in V8's baseline tier until TurboFan code replaces it), hence 40 unmeasured frames.",
    "WASM threads (web app's thread picker): 99 threads gave 0.3 fps on two cores, hence at most the core count.",
    "int8 weights (`liveseg.export.optimize`): with full-range 8-bit weights the 65.14 mIoU default model, "
    "quantised on AVX-512, agreed 99.4% with fp32 there and 89.8% on an AVX2 machine (saturating 16-bit pairwise "
    "sums), hence 7-bit weights (`reduce_range`).",
    "Training input (`liveseg.train.augment`): per-sample albumentations over decoded files fed 17 img/s end to end "
    "on a CPU against 40+ for the network alone, hence batches augmented in one `grid_sample` from memory.",
    "Training logits upsampling (`liveseg.models.layers.upsample_logits`): the backward pass of two matrix products "
    "ran 5x faster on a CPU than F.interpolate's, which had taken a third of each step.",
    "channels_last (`--channels-last`, on by default): ~30% faster training on a CPU (oneDNN), and on CUDA with AMP.",
    "bf16 autocast (`liveseg.train.loop.cpu_has_bf16`): 1.2-1.8x faster training on CPUs with AVX-512-BF16 or AMX; "
    "other CPUs only emulate it, so it stays off there.",
    "Test training runs (tests/): on the shared 2-core test machine, 2 PyTorch threads ran 15x slower than 1 "
    "(spin-waiting under contention), hence `threads=1` in the tests.",
)


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _machine(results: Results) -> list[str]:
    m = next((r.machine for _, r in results.present() if r.machine), None)
    if m is None:
        lines = ["- CPU: ?, ? usable cores (? logical), ? GB RAM; ?", "- Python ?; "]
    else:
        lines = [
            f"- CPU: {m.cpu}, {m.usable_cores} usable cores ({m.logical_cores} logical), {m.memory_gb} GB RAM; {m.os}",
            f"- Python {m.python}; " + ", ".join(f"{k} {v}" for k, v in m.packages.items() if v),
        ]
    if results.browser:
        b = results.browser.browser
        lines.append(f"- Browser: headless Chromium {b.version}, flags `{' '.join(b.flags or [])}`")
    for key, result in results.present():
        if result.machine and (load := result.machine.load_average):
            lines.append(
                f"- Load average when `bench {key}` started: {', '.join(f'{x:.2f}' for x in load)} "
                "(this machine is shared; figures are what they were)"
            )
    return lines


def _headline_lines(h: dict) -> list[str]:
    lines = []
    if "e2e_fps" in h:
        lines.append(
            f"- liveseg web app end to end: **{num(h['e2e_fps'])} fps** of distinct camera frames (the fake webcam "
            f"delivered {num(h.get('camera_fps'))} fps)."
        )
    if "api_fps" in h:
        ratio = f"; the app reaches **{num(h['vs_api'], 2)}×** of it" if "vs_api" in h else ""
        lines.append(
            f"- liveseg module API, nothing drawn (`createSegmenter` → `segment` on each new camera frame): "
            f"{num(h['api_fps'])} fps, inference {num(h.get('api_inference_ms'))} ms{ratio}."
        )
    for peer in ("seed", "tfjs"):
        if f"vs_{peer}" in h:
            lines.append(
                f"- {PAGES[peer][0]} ({PAGES[peer][1]}): {num(h[f'{peer}_fps'])} fps → the app is "
                f"**{num(h[f'vs_{peer}'], 2)}×** its speed."
            )
    if "mediapipe_fps" in h:
        lines.append(
            f"- MediaPipe selfie segmentation on the same webcam: {num(h['mediapipe_fps'])} fps "
            f"({PAGES['mediapipe'][1]}, so a reference point, not a like-for-like ratio)."
        )
    if "efficiency" in h:
        api = f" (module API: {pct(h['api_efficiency'])})" if "api_efficiency" in h else ""
        lines.append(
            f"- Efficiency in the browser: {num(h['model_gflops'], 2)} GFLOP per frame at "
            f"{num(h['achieved_gflops_per_s'])} GFLOP/s in the app vs a measured onnxruntime-web WASM peak of "
            f"{num(h['browser_peak_gflops_per_s'])} GFLOP/s = **{pct(h['efficiency'])}**{api}."
        )
    if h.get("per_backend"):
        parts = [f"{b} {num(v['app'])} fps (module API {num(v['api'])})" for b, v in h["per_backend"].items()]
        lines.append(f"- Per backend (app): {'; '.join(parts)}.")
    if "heap_growth" in h:
        growth = signed_pct(h["heap_growth"])
        lines.append(f"- JS heap over {num(h['soak_minutes'])} minutes live: **{growth}** growth.")
    if "python_best" in h:
        b = h["python_best"]
        lines.append(
            f"- Python onnxruntime best (batch 1): {b.precision} {b.size} on {b.threads} threads, "
            f"{num(b.median_ms)} ms = {num(b.fps)} fps, efficiency {pct(b.efficiency)}."
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


def _browser_section(b: BrowserResult) -> list[str]:
    from liveseg.bench.y4m import CAMERA_FPS

    method = BROWSER_METHOD.format(
        camera=CAMERA_FPS, warmup=b.warmup, warmup_s=b.warmup_s, frames=b.frames, measure_s=b.measure_s
    )
    return ["## Browser", "", method, "", _md_table(BR_HEADER, browser_rows(b)), ""]


def person_lines(person: PersonResult) -> list[str]:
    """The person model's section: the app with blur against MediaPipe's own solution of the same network."""
    lines = []
    browser = person.browser
    app, api = find_run(browser, "liveseg", "wasm"), find_run(browser, "liveseg-api", "wasm")
    theirs = find_run(browser, "mediapipe", MEDIAPIPE_BACKEND)
    if app is not None and browser is not None:
        lines.append(
            f"- The web app, `{person.model}` ({browser.size}, fp32, WASM {app.threads} threads) with "
            f'"Blur background" on a 640x480 fake webcam of a portrait: **{num(app.fps)} fps** of distinct '
            f"camera frames (the camera delivered {num(app.camera_fps)}); stages: {stage_text(app.stages)}."
        )
    if api is not None:
        lines.append(f"- The module API on the same webcam, nothing drawn: {num(api.fps)} fps.")
    if app is not None and theirs is not None:
        lines.append(
            f"- MediaPipe's own selfie segmentation solution (its WASM + WebGL runtime) on the same webcam: "
            f"{num(theirs.fps)} fps. It is the same network — `selfie_segmentation.tflite` from the same npm "
            f"package — each runtime as it ships: liveseg runs it **{num(app.fps / theirs.fps)}x** as fast."
        )
    py = person.python
    text = (
        f"- Python, {py.images} photos one at a time: liveseg (onnxruntime, {py.threads} threads) "
        f"{num(py.liveseg_images_per_s)} images/s"
    )
    if py.mediapipe_images_per_s is not None:
        ratio = py.liveseg_images_per_s / py.mediapipe_images_per_s
        text += (
            f"; MediaPipe Python's solution on the same .tflite {num(py.mediapipe_images_per_s)} images/s "
            f"({py.mediapipe_threads}): {num(ratio, 2)}x"
        )
    return [*lines, text + "."]


def markdown(results: Results, out: Path, report: Path, pictures: list[Path]) -> str:
    h = headline(results)
    rel = Path(os.path.relpath(out, report.parent))
    parts = [
        "# liveseg benchmarks",
        "",
        "Generated by `liveseg bench` from the JSON in "
        f"`{rel.as_posix()}/` — do not edit by hand; re-run the command below.",
        "",
    ]
    commands = [r.command for _, r in results.present() if r.command]
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
    if results.browser:
        parts += _browser_section(results.browser)
    if results.person:
        parts += ["## People at the webcam", "", *person_lines(results.person), ""]
    if soak := results.soak:
        parts += ["## Soak", "", soak_text(soak), "", _md_table(SOAK_HEADER, soak_rows(soak)), ""]
    if results.python:
        parts += [
            "## Python",
            "",
            "Per-frame figures (a batch call's time divided by the batch). onnxruntime runs the bundle graph "
            "(uint8 pixels in, class ids out); PyTorch eager runs the bare network on float input. Efficiency "
            "= the model's FLOPs per second / the same runtime's peak on the probes below, same threads.",
            "",
            _md_table(PY_HEADER, python_rows(results.python)),
            "",
        ]
    pr = peak_rows(results.python, results.browser)
    if pr:
        parts += [
            "## Runtime peak",
            "",
            "Best call on float32 probes with known FLOPs (MatMul 1024³, 3×3 Conv 64→64 on 90×120).",
            "",
            _md_table(["runtime", "threads", "probe", "GFLOP", "ms", "GFLOP/s"], pr),
            "",
        ]
    if results.temporal:
        parts += temporal_section(results.temporal, Path(os.path.relpath(out / TEMPORAL_CHART, report.parent)))
    parts += [DESIGN_HEADING, "", *[f"- {m}" for m in DESIGN_MEASUREMENTS], ""]
    notes = result_notes(results)
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


def temporal_section(temporal: TemporalResult, chart: Path) -> list[str]:
    """The Markdown section of `liveseg bench temporal`: the method, one row per model × clip kind × method, the
    cost per frame and the chart."""
    noise = temporal.noise
    method = TEMPORAL_METHOD.format(
        frames=temporal.frames, sigma=noise.sigma, gain=noise.gain_sigma, jitter=noise.jitter_px,
        pan=temporal.pan_px, strength=temporal.strength,
    )  # fmt: skip
    rows = []
    for g in summary(temporal):
        base = g.methods["none"]
        for name, m in g.methods.items():
            ratio = m.flicker / base.flicker if base.flicker else float("nan")
            rows.append([
                g.model, f"{g.kind} ×{g.clips}", name, f"{100 * m.flicker:.2f}%", f"{ratio:.2f}×",
                num(100 * m.miou), f"{100 * (m.miou - base.miou):+.1f}", num(100 * m.vc8),
            ])  # fmt: skip
    header = ["model", "clips", "method", "flicker", "vs none", "mIoU", "Δ mIoU", "VC_8"]
    cost = [f"- Python (numpy): {num(temporal.python_ms.ms, 2)} ms per frame at {temporal.python_ms.size}."]
    if b := temporal.browser_ms:
        cost.append(
            f"- Browser (headless Chromium {b.chromium}, timer steps of 0.1 ms): {num(b.ms, 2)} ms per frame at "
            f"{b.size} on a pan of a blocky 4-class scene (the state moves every frame)."
        )
    lines = [TEMPORAL_HEADING, "", method, "", _md_table(header, rows), "", *cost, ""]
    return [*lines, f"![{chart.stem}]({chart.as_posix()})", ""]
