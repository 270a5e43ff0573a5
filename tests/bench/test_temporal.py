"""The temporal bench's metrics on hand-made clips, and its section put into a report without touching the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from liveseg.bench.markdown import TEMPORAL_HEADING
from liveseg.bench.report import write_temporal
from liveseg.bench.results import save_json
from liveseg.bench.temporal import (
    METHODS,
    PAN_PX,
    ClipResult,
    Noise,
    PythonCost,
    TemporalResult,
    flicker_series,
    metrics,
    slid_majority,
    video_consistency,
)


def test_flicker_counts_changes_only_where_the_truth_stays() -> None:
    truth = np.zeros((3, 1, 4), np.uint8)
    truth[2, 0, 0] = 1  # the truth itself changes at pixel 0 in frame 2
    pred = truth.copy()
    pred[1, 0, 3] = 1  # one flicker at frame 1, undone at frame 2: two changes where the truth stayed
    assert flicker_series(pred, truth).tolist() == [1 / 4, 1 / 3]
    assert video_consistency(pred, truth, window=2) == (3 / 4 + 2 / 3) / 2


def test_pan_truth_moves_with_the_scene_alone() -> None:
    scene = np.zeros((3, 4 + 2 * PAN_PX), np.uint8)
    scene[:, 5:] = 1
    labels = np.stack([scene[:, t * PAN_PX : t * PAN_PX + 4] for t in range(3)])
    labels[1, 0, 0] = 1  # one frame's disagreement is outvoted
    truth = slid_majority(labels, 2)
    assert truth[1, 0, 0] == 0
    assert (truth[:, 1:] == labels[:, 1:]).all()


def test_the_section_replaces_only_its_own(tmp_path: Path) -> None:
    truth = np.zeros((10, 2, 2), np.uint8)
    row = {name: metrics(truth, truth, 2) for name in METHODS}
    results = TemporalResult(
        strength=0.75, frames=10, pan_px=2, noise=Noise(sigma=4, gain_sigma=0.03, jitter_px=1),
        clips=[ClipResult(model="m", clip="c", kind="static", methods=row)], python_ms=PythonCost(ms=1, size="2x2"),
    )  # fmt: skip
    save_json(tmp_path / "temporal.json", results)
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# t\n\n## Python\n\nkept\n\n## Charts\n\nx\n")
    write_temporal(tmp_path, report)
    once = report.read_text()
    assert once.index("## Python") < once.index(TEMPORAL_HEADING) < once.index("## Charts") and "kept" in once
    write_temporal(tmp_path, report)
    assert report.read_text() == once
