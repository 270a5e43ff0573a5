"""One foreground-alpha rule in Python and in the web app: both are run on tests/vectors/alpha.json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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


def test_typescript_follows_the_vectors(repo_root: Path, tmp_path: Path) -> None:
    """web/src/lib/alpha.test.ts, compiled to CommonJS by the web app's tsc and run by node's test runner."""
    web = repo_root / "web"
    node, tsc = shutil.which("node"), web / "node_modules" / "typescript" / "bin" / "tsc"
    if node is None or not tsc.is_file():
        pytest.fail("node or web/node_modules is missing; install Node.js 20+ and run `make web` (npm ci).")
    flags = ["--outDir", str(tmp_path), "--module", "commonjs", "--moduleResolution", "node", "--target", "es2022"]
    flags += ["--strict", "--skipLibCheck", "--types", "node", "--rootDir", "src", "src/lib/alpha.test.ts"]
    compiled = subprocess.run([node, str(tsc), *flags], cwd=web, capture_output=True, text=True, timeout=120)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    env = os.environ | {"LIVESEG_ALPHA_VECTORS": str(VECTORS_PATH)}
    test = tmp_path / "lib" / "alpha.test.js"
    proc = subprocess.run([node, "--test", str(test)], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"# pass {len(VECTORS['cases'])}" in proc.stdout
