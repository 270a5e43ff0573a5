"""One rule for masks at the input's size in Python and in the npm package: both run tests/vectors/resize.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from liveseg.runtime.io import resize_nearest

VECTORS_PATH = Path(__file__).resolve().parents[1] / "vectors" / "resize.json"
VECTORS = json.loads(VECTORS_PATH.read_text())


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_python_follows_the_vectors(case: dict) -> None:
    labels = np.array(case["labels"], np.uint8).reshape(case["height"], case["width"])
    out = resize_nearest(labels, *case["to"])
    assert out.shape == tuple(case["to"]) and out.dtype == np.uint8
    assert out.ravel().tolist() == case["expect"]


def test_typescript_follows_the_vectors(node_test) -> None:
    """web/src/lib/resize.test.ts, compiled to CommonJS by the web app's tsc and run by node's test runner."""
    out = node_test("src/lib/resize.test.ts", {"LIVESEG_RESIZE_VECTORS": str(VECTORS_PATH)})
    assert f"# pass {len(VECTORS['cases'])}" in out
