"""The benchmark charts (matplotlib, PNG beside the results' JSON), drawn from the same results as the tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from liveseg import atomic
from liveseg.bench.browser import STAGES, BrowserResult
from liveseg.bench.python import PythonResult
from liveseg.bench.results import Results
from liveseg.bench.soak import SoakResult
from liveseg.bench.summary import SOAK_SERIES, TARGETS, num
from liveseg.bench.temporal import TemporalResult, summary

TEMPORAL_CHART = "temporal_flicker.png"

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


def _browser_charts(browser: BrowserResult, plt, save: Callable) -> None:
    runs = browser.runs
    labels = [f"{r.page} ({r.backend or r.requested_backend})" for r in runs]
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(runs) + 1.2))
    left = [0.0] * len(runs)
    for stage in STAGES:
        widths = [r.stages.get(stage, 0.0) for r in runs]
        ax.barh(labels, widths, left=left, color=STAGE_COLORS[stage], label=stage)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.axvline(1000 / 30, color="grey", linestyle="--", label="30 fps")
    ax.set_xlabel("ms per frame (median of each stage)")
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8)
    save(fig, "browser_stages.png")

    fig, ax = plt.subplots(figsize=(9, 0.5 * len(runs) + 1.2))
    ax.barh(labels, [r.fps for r in runs], color="#5aa9ff", label="distinct camera frames segmented per s")
    camera = [(r.camera_fps, i) for i, r in enumerate(runs) if r.camera_fps]
    if camera:
        ax.scatter(*zip(*camera, strict=True), color="black", marker="|", s=200, label="camera delivered")
    ax.axvline(TARGETS["e2e_fps"], color="grey", linestyle="--", label=f"{TARGETS['e2e_fps']:.0f} fps")
    ax.set_xlabel("frames per second")
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8)
    save(fig, "browser_fps.png")


def _soak_chart(soak: SoakResult, plt, save: Callable) -> None:
    samples = soak.samples
    minutes = [s.t / 60 for s in samples]
    fig, (mem, fps) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for key, label in SOAK_SERIES.items():
        values = [getattr(s, key) for s in samples]
        points = [(m, v) for m, v in zip(minutes, values, strict=True) if v is not None]
        if points:
            mem.plot(*zip(*points, strict=True), marker=".", label=label)
    mem.set_ylabel("MB")
    mem.set_ylim(bottom=0)
    mem.legend(fontsize=8)
    mem.set_title(f"{num(soak.summary.minutes)} minutes live on the fake webcam ({soak.backend})")
    rate = [(m, s.fps) for m, s in zip(minutes, samples, strict=True) if s.fps is not None]
    if rate:
        fps.plot(*zip(*rate, strict=True), marker=".", color="#4fd1a5")
    fps.set_ylabel("fps (distinct camera frames)")
    fps.set_ylim(bottom=0)
    fps.set_xlabel("minutes")
    save(fig, "browser_soak.png")


def _python_chart(python: PythonResult, plt, save: Callable) -> None:
    rows = [r for r in python.runs if r.batch == 1]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.2))
    labels = [f"{r.runtime} {r.precision} {r.size} t{r.threads or '-'}" for r in rows]
    ax.barh(
        labels,
        [r.median_ms for r in rows],
        xerr=[[0] * len(rows), [r.p95_ms - r.median_ms for r in rows]],
        color="#5aa9ff",
    )
    ax.axvline(1000 / 30, color="grey", linestyle="--", label="30 fps")
    ax.set_xlabel("ms per frame (median, whisker to p95), batch 1")
    ax.invert_yaxis()
    ax.legend()
    save(fig, "python_latency.png")


def charts(results: Results, out: Path) -> list[Path]:
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

    if results.python:
        _python_chart(results.python, plt, save)
    if results.browser and results.browser.runs:
        _browser_charts(results.browser, plt, save)
    if results.soak and results.soak.samples:
        _soak_chart(results.soak, plt, save)
    if results.temporal:
        _temporal_chart(results.temporal, plt, save)
    return written


def _temporal_chart(temporal: TemporalResult, plt, save: Callable) -> None:
    """Flicker per frame, averaged over each model's clips of a kind, without and with the stabiliser."""
    groups = [(g.model, g.kind) for g in summary(temporal)]
    fig, axes = plt.subplots(len(groups), 1, figsize=(9, 2.2 * len(groups)), sharex=True, squeeze=False)
    for ax, (model, kind) in zip(axes[:, 0], groups, strict=True):
        rows = [r for r in temporal.clips if r.model == model and r.kind == kind]
        for method, colour in (("none", "#ff7b7b"), ("hysteresis", "#d0a040"), ("stabiliser", "#4fd1a5")):
            clips = [r.methods[method].flicker_series for r in rows]
            series = [sum(x) / len(rows) for x in zip(*clips, strict=True)]
            ax.plot(range(1, len(series) + 1), [100 * x for x in series], color=colour, label=method)
        ax.set_title(f"{model}, {kind} clips", fontsize=9)
        ax.set_ylabel("flicker %")
        ax.set_ylim(bottom=0)
    axes[0, 0].legend(fontsize=8)
    axes[-1, 0].set_xlabel("frame")
    save(fig, TEMPORAL_CHART)
