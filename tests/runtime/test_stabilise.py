"""The stabiliser: one rule in Python and in the browser (both run on tests/vectors/stabilise.json), steadier
labels on a static noisy clip, and no lag worth the name on a pan.

The vectors are Python's own output on the cases below; after changing the rule, rewrite them with
`python tests/runtime/test_stabilise.py` and the TypeScript side is then held to the new bytes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from liveseg.errors import LivesegError
from liveseg.runtime.stabilise import (
    DEFAULT_STRENGTH,
    State,
    global_shift,
    hold,
    margin,
    stabilise,
    weights,
)

VECTORS_PATH = Path(__file__).resolve().parents[1] / "vectors" / "stabilise.json"
STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _random_frames(rng: np.random.Generator, count: int, shape: tuple[int, int], classes: int) -> list[dict]:
    return [
        {
            "labels": rng.integers(0, classes, shape).tolist(),
            "confidence": rng.integers(0, 256, shape).tolist(),
        }
        for _ in range(count)
    ]


def _moving_frames(rng: np.random.Generator, steps: list[tuple[int, int]]) -> list[dict]:
    """A random 3-class scene of 2x2 blocks seen through a 20x26 window that moves by `steps` (the scene's shift
    (dy, dx) per frame), with random confidences."""
    scene = np.kron(rng.integers(0, 3, (20, 24)), np.ones((2, 2), np.int64))
    y, x, frames = 10, 11, []
    for dy, dx in [(0, 0), *steps]:
        y, x = y - dy, x - dx
        labels = scene[y : y + 20, x : x + 26]
        frames.append({"labels": labels.tolist(), "confidence": rng.integers(120, 256, labels.shape).tolist()})
    return frames


def _cases() -> list[tuple[str, float, list[dict]]]:
    rng = np.random.default_rng(0)
    row = lambda labels, confidence: {"labels": [labels], "confidence": [confidence]}  # noqa: E731
    return [
        (
            "agree, confident switch, uncertain challenger, chance confidence, extremes",
            0.75,
            [
                row([0, 0, 0, 0, 1, 1, 2, 2], [255, 200, 130, 128, 0, 255, 242, 241]),
                row([0, 1, 1, 1, 1, 2, 2, 0], [255, 250, 140, 128, 255, 0, 242, 241]),
                row([0, 1, 1, 1, 1, 2, 2, 0], [100, 250, 160, 200, 255, 10, 243, 255]),
            ],
        ),
        ("strength 0: every frame as it is", 0.0, [row([3, 1], [90, 200]), row([1, 3], [100, 10])]),
        (
            "strength 1: the widest margin",
            1.0,
            [row([0, 1, 0], [140, 140, 255]), row([1, 0, 1], [180, 235, 242]), row([1, 0, 1], [180, 235, 242])],
        ),
        (
            "a new size starts afresh",
            0.5,
            [
                {"labels": [[0, 1], [1, 0]], "confidence": [[200, 150], [150, 200]]},
                {"labels": [[1, 1, 1]], "confidence": [[130, 131, 132]]},
            ],
        ),
        (
            "a switch back to the label just left is held, then expires",
            0.75,
            [row([0, 1], [250, 250]), *[row([1, 0] if t % 2 == 0 else [0, 1], [230, 230]) for t in range(16)]],
        ),
        ("a slide is followed from its third frame", 0.75, _moving_frames(rng, [(0, 2)] * 4)),
        ("a scene sliding diagonally, then back", 0.75, _moving_frames(rng, [(1, 2)] * 3 + [(-2, -3)] * 3)),
        ("random 4x6, 4 classes, strength 0.25", 0.25, _random_frames(rng, 6, (4, 6), 4)),
        ("random 4x6, 4 classes, strength 0.75", 0.75, _random_frames(rng, 6, (4, 6), 4)),
        ("random 10x12, 4 classes, strength 0.9", 0.9, _random_frames(rng, 6, (10, 12), 4)),
    ]


def make_vectors() -> dict:
    """Python's output on every case: the contract the TypeScript stabiliser is held to."""
    cases = []
    for about, strength, frames in _cases():
        state, expect = None, []
        for frame in frames:
            labels, confidence = (np.array(frame[k], np.uint8) for k in ("labels", "confidence"))
            state = stabilise(labels, confidence, state, strength)
            expect.append({"labels": state.labels.tolist(), "evidence": state.evidence.tolist()})
        cases.append({"about": about, "strength": strength, "frames": frames, "expect": expect})
    return {
        "about": (
            "The stabiliser (liveseg.runtime.stabilise, web/src/lib/stabilise.ts) on short clips: each case runs "
            "its frames in order from no state; `expect` is the state after each frame (labels and evidence, "
            "row-major HxW). `weights` is the past's weight per confidence byte, `margin` the switching margin and "
            "`hold` the frames a switch back is held, per strength. Written by tests/runtime/test_stabilise.py."
        ),
        "default_strength": DEFAULT_STRENGTH,
        "tables": [
            {"strength": s, "weights": weights(s).tolist(), "margin": margin(s), "hold": hold(s)} for s in STRENGTHS
        ],
        "cases": cases,
    }


VECTORS = json.loads(VECTORS_PATH.read_text())


def test_the_vectors_are_pythons_output() -> None:
    assert make_vectors() == VECTORS, "the rule changed: rewrite them with `python tests/runtime/test_stabilise.py`"


def test_typescript_follows_the_vectors(node_test) -> None:
    """web/src/lib/stabilise.test.ts, compiled to CommonJS by the web app's tsc and run by node's test runner."""
    out = node_test("src/lib/stabilise.test.ts", {"LIVESEG_STABILISE_VECTORS": str(VECTORS_PATH)})
    assert f"# pass {1 + len(VECTORS['tables']) + len(VECTORS['cases'])}" in out


def test_global_shift_finds_a_slide_and_prefers_none_on_a_tie() -> None:
    rng = np.random.default_rng(1)
    scene = rng.integers(0, 3, (40, 50)).astype(np.uint8)
    assert global_shift(scene[5:35, 5:45], scene[4:34, 7:47]) == (1, -2)
    assert global_shift(np.zeros((20, 20), np.uint8), np.zeros((20, 20), np.uint8)) == (0, 0)


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


def _dump(vectors: dict) -> str:
    """JSON with one line per table and per case, so a change to the rule shows as a readable diff."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in vectors.items() if not isinstance(v, list)]
    for key in ("tables", "cases"):
        items = ",\n".join(f"    {json.dumps(item)}" for item in vectors[key])
        lines.append(f"  {json.dumps(key)}: [\n{items}\n  ]")
    return "{\n" + ",\n".join(lines) + "\n}\n"


if __name__ == "__main__":
    VECTORS_PATH.write_text(_dump(make_vectors()))
