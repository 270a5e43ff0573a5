"""`liveseg eval --shift`: each shift changes a real frame's look, not its layout, and the report says which."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg.evaluate.shifts import SHIFTS
from tests.cli.test_evaluate import _eval


@pytest.fixture(scope="module")
def frame(camvid_root: Path) -> np.ndarray:
    return np.asarray(Image.open(sorted((camvid_root / "val").iterdir())[0]).convert("RGB"))


@pytest.mark.parametrize("name", list(SHIFTS))
def test_a_shift_keeps_the_frame_and_changes_its_look(frame: np.ndarray, name: str) -> None:
    shifted = SHIFTS[name][1](frame)
    assert shifted.shape == frame.shape and shifted.dtype == np.uint8
    difference = np.abs(shifted.astype(np.int16) - frame).mean()
    assert (difference == 0) if name == "none" else (difference > 1.0), difference
    assert np.array_equal(shifted, SHIFTS[name][1](frame))  # the same image every time


def test_brightness_and_white_balance_go_the_way_they_say(frame: np.ndarray) -> None:
    mean = frame.reshape(-1, 3).mean(0)
    assert SHIFTS["dark"][1](frame).mean() < 0.55 * frame.mean() < SHIFTS["bright"][1](frame).mean()
    warm = SHIFTS["warm"][1](frame).reshape(-1, 3).mean(0)
    assert warm[0] > mean[0] and warm[2] < mean[2] and abs(warm[1] - mean[1]) < 0.5
    assert SHIFTS["low-contrast"][1](frame).std() < 0.7 * frame.std()


def test_eval_under_a_shift_reports_it(camvid_root: Path, tmp_path: Path) -> None:
    scores = {}
    for shift in ("none", "dark"):
        out = tmp_path / shift
        res = _eval("default", "--data-root", str(camvid_root), "--max-images", "2", "--out", str(out),
                    "--threads", "1", "--shift", shift)  # fmt: skip
        assert res.returncode == 0, res.stderr
        report = json.loads((out / "report.json").read_text())
        assert report["shift"] == shift and report["images"] == 2
        scores[shift] = report["miou"]
    assert scores["dark"] != scores["none"]


def test_an_unknown_shift_is_one_sentence_naming_the_choices() -> None:
    res = _eval("default", "--shift", "fog")
    assert res.returncode == 2 and "fog" in res.stderr and "low-contrast" in res.stderr
