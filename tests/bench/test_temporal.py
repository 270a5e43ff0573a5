"""The temporal bench's metrics on hand-made clips, and the report it writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from liveseg.bench.machine import Machine
from liveseg.bench.markdown import TEMPORAL_HEADING
from liveseg.bench.report import write_report
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


def test_its_report_is_the_whole_document_with_its_own_machine_line(tmp_path: Path) -> None:
    truth = np.zeros((10, 2, 2), np.uint8)
    row = {name: metrics(truth, truth, 2) for name in METHODS}
    machine = Machine("cpu", 2, 2, 2, 1.0, "os", "3.11", {}, [1.0, 2.0, 3.0])
    results = TemporalResult(
        strength=0.75, frames=10, pan_px=2, noise=Noise(sigma=4, gain_sigma=0.03, jitter_px=1),
        clips=[ClipResult(model="m", clip="c", kind="static", methods=row)], python_ms=PythonCost(ms=1, size="2x2"),
        machine=machine, command="liveseg bench temporal",
    )  # fmt: skip
    save_json(tmp_path / "temporal.json", results)
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# stale\n\n## Machine\n\n- Load average when `bench temporal` started: 9.00, 9.00, 9.00\n")
    write_report(tmp_path, report, show=False)
    text = report.read_text()
    assert TEMPORAL_HEADING in text and "liveseg bench temporal" in text and "stale" not in text
    assert "- Load average when `bench temporal` started: 1.00, 2.00, 3.00" in text
