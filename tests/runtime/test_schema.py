"""One manifest contract for both languages: the JSON Schema is derived from the Python types, the web app's
manifest types are generated from the schema, and both files are checked in and kept current here. After changing
a type in liveseg.runtime.manifest, rewrite them with `python tests/runtime/test_schema.py`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liveseg.runtime.manifest import Manifest
from liveseg.runtime.schema import json_schema, typescript

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "docs" / "manifest.schema.json"
TS_PATH = ROOT / "web" / "src" / "lib" / "manifest-schema.ts"
TS_HEADER = (
    "/**\n * The bundle manifest's types, generated from docs/manifest.schema.json (itself derived from\n"
    " * liveseg.runtime.manifest): do not edit; rewrite with `python tests/runtime/test_schema.py`.\n */\n"
)


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2) + "\n"


def test_the_schema_file_is_the_python_types() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), "rewrite it with `python tests/runtime/test_schema.py`"


def test_the_typescript_types_are_the_schema() -> None:
    expected = typescript(json_schema(), TS_HEADER)
    assert TS_PATH.read_text() == expected, "rewrite it with `python tests/runtime/test_schema.py`"


def test_written_manifests_follow_the_schema(bundle_dir: Path, repo_root: Path) -> None:
    """The embedded default (a trained, exported bundle) and the bundled person models (converted at set-up)."""
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())
    bundled = sorted((repo_root / "src" / "liveseg" / "assets" / "bundled").glob("*/manifest.json"))
    paths = [bundle_dir / "manifest.json", *bundled]
    assert len(paths) > 1
    for path in paths:
        data = json.loads(path.read_text())
        Manifest.from_dict(data, path)
        validator.validate(data)


def test_the_schema_catches_what_the_types_forbid(bundle_dir: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())
    data = json.loads((bundle_dir / "manifest.json").read_text())
    broken = [
        data | {"format": "liveseg-bundle/2"},
        data | {"default_variant": data["default_variant"] | {"precision": "fp8"}},
        data | {"classes": [{"id": 0, "name": "sky", "color": [1, 2]}]},
        data | {"variants": [data["variants"][0] | {"graph": "scores"}]},
    ]
    for manifest in broken:
        assert not validator.is_valid(manifest)


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text())
    TS_PATH.write_text(typescript(json_schema(), TS_HEADER))
