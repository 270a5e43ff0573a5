"""Summaries of per-frame timings: the figures every benchmark table shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LAST = 20  # seed 003 reports the mean of the last 20 frames; so do we, next to median and p95


@dataclass(frozen=True)
class Timing:
    """Median, p95, mean and last-20 mean of per-frame milliseconds, plus the fps the median allows."""

    frames: int
    median_ms: float
    p95_ms: float
    mean_ms: float
    last20_ms: float
    fps: float


def summarize(ms: Sequence[float]) -> Timing:
    if not ms:
        nan = float("nan")
        return Timing(frames=0, median_ms=nan, p95_ms=nan, mean_ms=nan, last20_ms=nan, fps=nan)
    a = np.asarray(ms, dtype=np.float64)
    median = float(np.median(a))
    return Timing(
        frames=len(a),
        median_ms=median,
        p95_ms=float(np.percentile(a, 95)),
        mean_ms=float(a.mean()),
        last20_ms=float(a[-LAST:].mean()),
        fps=1000.0 / median if median > 0 else float("nan"),
    )
