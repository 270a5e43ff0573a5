"""One variant-selection rule in Python and in the web app: both are run on tests/vectors/variants.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liveseg.errors import LivesegError
from liveseg.runtime import open_bundle

VECTORS_PATH = Path(__file__).resolve().parents[1] / "vectors" / "variants.json"
VECTORS = json.loads(VECTORS_PATH.read_text())


def _manifest(name: str) -> dict:
    """A manifest that passes validation around the bundle's variants (their files are never opened here)."""
    bundle = VECTORS["bundles"][name]
    files = [{"file": f"model-{i}.onnx", "bytes": 1, "sha256": "0" * 64} for i in range(len(bundle["variants"]))]
    variants = [v | f for v, f in zip(bundle["variants"], files, strict=True)]
    return {
        "format": "liveseg-bundle/1",
        "name": name,
        "classes": [{"id": 0, "name": "thing", "color": [0, 0, 0]}],
        "normalization": {"mean": [0.5] * 3, "std": [0.25] * 3},
        "input": {"name": "image"},
        "outputs": {"labels": {"name": "labels"}, "confidence": {"name": "confidence"}, "logits": {"name": "logits"}},
        "variants": variants,
        "default_variant": bundle["default_variant"],
    }


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: f"{c['bundle']}-{c['precision']}-{c['size']}")
def test_python_follows_the_vectors(case: dict, tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps(_manifest(case["bundle"])))
    bundle = open_bundle(tmp_path)
    size = tuple(case["size"]) if case["size"] else None
    if case["expect"] == "error":
        with pytest.raises(LivesegError):
            bundle.variant(case["precision"], size)
        return
    v = bundle.variant(case["precision"], size)
    assert (v.graph, v.precision, v.height, v.width) == ("labels", *case["expect"].values())


def test_typescript_follows_the_vectors(node_test) -> None:
    """web/src/lib/manifest.test.ts, compiled to CommonJS by the web app's tsc and run by node's test runner: the
    vectors, and one test of its own for `bundleUrl` (a TypeScript-only rule)."""
    out = node_test("src/lib/manifest.test.ts", {"LIVESEG_VARIANT_VECTORS": str(VECTORS_PATH)})
    assert f"# pass {len(VECTORS['cases']) + 1}" in out and "# fail 0" in out
