"""The names both languages list (precisions, graphs, the app's pipeline stages), defined in Python and held
together through tests/vectors/names.json: Python's values are the file, and the web app's lists must equal it.
After changing a list in Python, rewrite the file with `python tests/runtime/test_name_vectors.py`."""

from __future__ import annotations

import json
from pathlib import Path

from liveseg.bench.browser import APP_STAGES
from liveseg.runtime.manifest import GRAPHS, PRECISIONS

VECTORS_PATH = Path(__file__).resolve().parents[1] / "vectors" / "names.json"


def make_vectors() -> dict[str, list[str]]:
    return {"precisions": list(PRECISIONS), "graphs": list(GRAPHS), "stages": list(APP_STAGES)}


def test_the_vectors_are_pythons_names() -> None:
    expected = json.loads(VECTORS_PATH.read_text())
    assert make_vectors() == expected, "rewrite them with `python tests/runtime/test_name_vectors.py`"


def test_typescript_lists_the_same_names(node_test) -> None:
    """web/src/app/names.test.ts: lib/options.ts's PRECISIONS and GRAPHS, app/stats.ts's STAGES."""
    out = node_test("src/app/names.test.ts", {"LIVESEG_NAME_VECTORS": str(VECTORS_PATH)})
    assert f"# pass {len(make_vectors())}" in out


if __name__ == "__main__":
    VECTORS_PATH.write_text(json.dumps(make_vectors(), indent=2) + "\n")
