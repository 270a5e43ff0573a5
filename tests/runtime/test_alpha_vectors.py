"""One foreground-alpha rule in Python and in the web app: both are run on tests/vectors/alpha.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from liveseg.runtime.result import SegmentationResult, foreground_alpha

VECTORS_PATH = Path(__file__).resolve().parents[1] / "vectors" / "alpha.json"
VECTORS = json.loads(VECTORS_PATH.read_text())


def _arrays(case: dict) -> tuple[np.ndarray, np.ndarray | None]:
    labels = np.array(case["labels"], np.uint8).reshape(1, -1)
    confidence = None if case["confidence"] is None else np.array(case["confidence"], np.uint8).reshape(1, -1)
    return labels, confidence


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_python_follows_the_vectors(case: dict) -> None:
    labels, confidence = _arrays(case)
    alpha = foreground_alpha(labels, confidence, case["foreground"])
    assert alpha.dtype == np.uint8 and alpha.shape == labels.shape
    assert alpha.ravel().tolist() == case["expect"]
    classes = [{"id": i, "name": str(i), "color": [0, 0, 0]} for i in range(256)]
    result = SegmentationResult(labels=labels, classes=classes, confidence=confidence)
    assert result.alpha(case["foreground"]).ravel().tolist() == case["expect"]


def test_typescript_follows_the_vectors(node_test) -> None:
    """web/src/lib/alpha.test.ts, compiled to CommonJS by the web app's tsc and run by node's test runner."""
    out = node_test("src/lib/alpha.test.ts", {"LIVESEG_ALPHA_VECTORS": str(VECTORS_PATH)})
    assert f"# pass {len(VECTORS['cases'])}" in out
