"""The stabiliser: one rule in Python and in the browser (both run on tests/vectors/stabilise.json), steadier
labels on a static noisy clip, and no lag worth the name on a pan."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from liveseg.errors import LivesegError
from liveseg.runtime.stabilise import DEFAULT_STRENGTH, State, margin, stabilise, weights

VECTORS_PATH = Path(__file__).resolve().parents[1] / "vectors" / "stabilise.json"
VECTORS = json.loads(VECTORS_PATH.read_text())


def test_python_follows_the_tables() -> None:
    assert VECTORS["default_strength"] == DEFAULT_STRENGTH
    for table in VECTORS["tables"]:
        assert weights(table["strength"]).tolist() == table["weights"]
        assert margin(table["strength"]) == table["margin"]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["about"])
def test_python_follows_the_vectors(case: dict) -> None:
    state = None
    for frame, expect in zip(case["frames"], case["expect"], strict=True):
        labels, confidence = (np.array(frame[k], np.uint8) for k in ("labels", "confidence"))
        state = stabilise(labels, confidence, state, case["strength"])
        assert (state.labels.tolist(), state.evidence.tolist()) == (expect["labels"], expect["evidence"])


def test_typescript_follows_the_vectors(repo_root: Path, tmp_path: Path) -> None:
    """web/src/lib/stabilise.test.ts, compiled to CommonJS by the web app's tsc and run by node's test runner."""
    web = repo_root / "web"
    node, tsc = shutil.which("node"), web / "node_modules" / "typescript" / "bin" / "tsc"
    if node is None or not tsc.is_file():
        pytest.fail("node or web/node_modules is missing; install Node.js 20+ and run `make web` (npm ci).")
    flags = ["--outDir", str(tmp_path), "--module", "commonjs", "--moduleResolution", "node", "--target", "es2022"]
    flags += ["--strict", "--skipLibCheck", "--types", "node", "--rootDir", "src", "src/lib/stabilise.test.ts"]
    compiled = subprocess.run([node, str(tsc), *flags], cwd=web, capture_output=True, text=True, timeout=120)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    env = os.environ | {"LIVESEG_STABILISE_VECTORS": str(VECTORS_PATH)}
    test = tmp_path / "lib" / "stabilise.test.js"
    proc = subprocess.run([node, "--test", str(test)], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"# pass {1 + len(VECTORS['tables']) + len(VECTORS['cases'])}" in proc.stdout


def test_a_strength_outside_0_to_1_is_refused() -> None:
    with pytest.raises(LivesegError, match="between 0"):
        weights(1.5)


def _model(truth: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A stand-in for a network on a noisy frame: sure inside regions, unsure (and often wrong) near edges."""
    edge = np.zeros(truth.shape, bool)
    edge[:, 1:] |= truth[:, 1:] != truth[:, :-1]
    edge[:, :-1] |= truth[:, 1:] != truth[:, :-1]
    for _ in range(2):
        edge[:, 1:] |= edge[:, :-1]
    confidence = np.where(edge, rng.integers(130, 190, truth.shape), rng.integers(235, 256, truth.shape))
    wrong = edge & (rng.random(truth.shape) < 0.35)
    return np.where(wrong, 1 - truth, truth).astype(np.uint8), confidence.astype(np.uint8)


def _run(truths: list[np.ndarray], strength: float) -> tuple[float, float, np.ndarray]:
    """Flicker (label changes per pixel and frame where the truth stayed), accuracy, and the last frame's labels."""
    rng = np.random.default_rng(0)
    state: State | None = None
    preds = []
    for truth in truths:
        state = stabilise(*_model(truth, rng), state, strength)
        preds.append(state.labels)
    p, t = np.stack(preds), np.stack(truths)
    flicker = ((p[1:] != p[:-1]) & (t[1:] == t[:-1])).mean()
    return float(flicker), float((p == t).mean()), p[-1]


def _scene(shift: int) -> np.ndarray:
    truth = np.zeros((24, 64), np.uint8)
    truth[:, 20 + shift : 40 + shift] = 1
    return truth


def test_a_static_clip_flickers_far_less() -> None:
    clip = [_scene(0)] * 30
    raw, _, _ = _run(clip, 0.0)
    steady, _, _ = _run(clip, DEFAULT_STRENGTH)
    assert steady < 0.3 * raw


def test_a_pan_is_followed() -> None:
    clip = [_scene(t) for t in range(20)]
    _, raw, _ = _run(clip, 0.0)
    _, steady, last = _run(clip, DEFAULT_STRENGTH)
    assert steady > raw - 0.03  # follows: accuracy about as without
    assert (last[:, :34] == 0).all() and (last[:, 43:55] == 1).all()  # nothing trails where the object was
