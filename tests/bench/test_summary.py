"""The report's maths (ratios, efficiency, target verdicts) on hand-made results, and the whole document as a
golden test: the committed docs/bench JSON must give the committed BENCHMARKS.md, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveseg.bench.browser import BrowserInfo, BrowserResult, BrowserRun
from liveseg.bench.graphs import PeakRun
from liveseg.bench.markdown import markdown
from liveseg.bench.results import Results, load_results
from liveseg.bench.soak import Growth, SoakResult, SoakSummary
from liveseg.bench.summary import TARGETS, headline, num, pct, signed_pct, target_rows

CHART_NAMES = (
    "python_latency.png",
    "browser_stages.png",
    "browser_fps.png",
    "browser_soak.png",
    "temporal_flicker.png",
)


def _run(page: str, fps: float, inference: float | None = None, backend: str = "wasm") -> BrowserRun:
    stages = {} if inference is None else {"inference": inference}
    return BrowserRun(
        page=page, backend=backend, requested_backend=backend, precision="fp32", size="360x480", threads=2,
        load_ms=1.0, fps=fps, seconds=10.0, distinct=round(10 * fps), repeats=0, camera_fps=None, stages=stages,
        frame_ms=None, notes=[], errors=[],
    )  # fmt: skip


def _peak(gflops_per_s: float) -> PeakRun:
    return PeakRun("onnxruntime-web-wasm", 2, "matmul", 1e9, [1e3 / gflops_per_s], gflops_per_s)


def _results(heap_growth: float = 0.01) -> Results:
    runs = [_run("liveseg", 30.0, 40.0), _run("liveseg-api", 32.0, 25.0), _run("seed", 20.0), _run("tfjs", 15.0)]
    browser = BrowserResult(
        browser=BrowserInfo("chromium", "1"), bundle="b", model="m", precision="fp32", size="360x480", frames=100,
        warmup=40, warmup_s=20.0, measure_s=60.0, runs=runs, peak=[_peak(40.0), _peak(50)],
        model_gflops={"360x480": 1.0},
    )  # fmt: skip
    heap = Growth(start_mb=50.0, end_mb=50.0 * (1 + heap_growth), growth=heap_growth, slope_mb_per_min=0, max_mb=60)
    summary = SoakSummary(
        samples=61, minutes=10.0, heap_mb=heap, workers_mb=None, renderer_mb=None, fps=None, stalled_intervals=0,
        dropped_legend_updates=0, dropped_stats_updates=0, frames_dropped_by_app=0,
    )  # fmt: skip
    soak = SoakResult(
        browser=BrowserInfo("chromium", "1"), bundle="b", backend="wasm", precision="fp32", size="360x480",
        threads=2, interval_s=10.0, warmup_s=60.0, samples=[], summary=summary, errors=[],
    )  # fmt: skip
    return Results(browser=browser, soak=soak)


def test_headline_ratios_and_efficiency() -> None:
    h = headline(_results())
    assert h["e2e_fps"] == 30.0 and h["api_fps"] == 32.0
    assert h["vs_api"] == pytest.approx(30 / 32)
    assert h["vs_seed"] == pytest.approx(1.5) and h["vs_tfjs"] == pytest.approx(2.0)
    assert h["browser_peak_gflops_per_s"] == 50  # the best probe
    assert h["achieved_gflops_per_s"] == pytest.approx(1.0 / 0.040)  # GFLOP per frame / inference seconds
    assert h["efficiency"] == pytest.approx(25 / 50) and h["api_efficiency"] == pytest.approx(40 / 50)
    assert h["per_backend"] == {"wasm": {"app": 30.0, "api": 32.0}}
    assert h["heap_growth"] == 0.01 and "mediapipe_fps" not in h


def test_targets_are_minimums_except_heap_growth() -> None:
    verdicts = {row[0]: row[3] for row in target_rows(headline(_results(heap_growth=0.2)))}
    assert list(verdicts.values()) == ["met", "met", "met", "met", "met", "missed"]
    assert f"≥ {TARGETS['e2e_fps']:.0f} fps end-to-end (aim {TARGETS['e2e_fps_aim']:.0f})" in verdicts
    assert all(row[3] == "not measured" for row in target_rows(headline(Results())))


def test_numbers_read_the_same_everywhere() -> None:
    figures = (num(None), num(float("nan")), num(2.345, 2), pct(0.5), signed_pct(-0.016))
    assert figures == ("—", "—", "2.35", "50%", "-1.6%")


def test_the_committed_results_give_the_committed_report(repo_root: Path) -> None:
    out, report = repo_root / "docs" / "bench", repo_root / "BENCHMARKS.md"
    pictures = [out / name for name in CHART_NAMES if (out / name).is_file()]
    assert markdown(load_results(out), out, report, pictures) == report.read_text()
