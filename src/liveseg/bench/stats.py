"""Summaries of per-frame timings: the figures every benchmark table shows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LAST = 20  # seed 003 reports the mean of the last 20 frames; so do we, next to median and p95


def summarize(ms: Sequence[float]) -> dict[str, float]:
    """Median, p95, mean and last-20 mean of per-frame milliseconds, plus the fps the median allows."""
    if not ms:
        return {
            "frames": 0,
            "median_ms": float("nan"),
            "p95_ms": float("nan"),
            "mean_ms": float("nan"),
            "last20_ms": float("nan"),
            "fps": float("nan"),
        }
    a = np.asarray(ms, dtype=np.float64)
    median = float(np.median(a))
    return {
        "frames": len(a),
        "median_ms": median,
        "p95_ms": float(np.percentile(a, 95)),
        "mean_ms": float(a.mean()),
        "last20_ms": float(a[-LAST:].mean()),
        "fps": 1000.0 / median if median > 0 else float("nan"),
    }
