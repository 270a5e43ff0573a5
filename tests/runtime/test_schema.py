"""The manifest's JSON Schema holds what liveseg writes and refuses what its types forbid (tests/test_contracts.py
keeps the schema file and the web app's types generated from it current)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liveseg.runtime.manifest import Manifest
from liveseg.runtime.schema import json_schema


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
