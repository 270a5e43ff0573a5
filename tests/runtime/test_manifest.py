"""The typed bundle manifest: what export writes is exactly what readers parse, and nothing invalid is written."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from liveseg.errors import LivesegError
from liveseg.runtime.manifest import Manifest, VariantEntry, check_name


def test_the_default_bundles_manifest_round_trips(bundle_dir: Path) -> None:
    written = json.loads((bundle_dir / "manifest.json").read_text())
    manifest = Manifest.load(bundle_dir / "manifest.json")
    assert manifest.to_dict() == written
    assert list(manifest.to_dict()) == list(written)  # key order too: the file reads the same after a rewrite
    assert Manifest.from_dict(manifest.to_dict(), bundle_dir) == manifest


def test_dump_writes_what_load_reads(bundle_dir: Path, tmp_path: Path) -> None:
    manifest = Manifest.load(bundle_dir / "manifest.json")
    renamed = dataclasses.replace(manifest, name="street", source={"imported": "street.onnx"}, training=None)
    renamed.dump(tmp_path / "manifest.json")
    again = Manifest.load(tmp_path / "manifest.json")
    assert again == renamed and again.source == {"imported": "street.onnx"}
    assert "training" not in json.loads((tmp_path / "manifest.json").read_text())  # absent, not null


def test_dump_refuses_a_manifest_readers_would_reject(bundle_dir: Path, tmp_path: Path) -> None:
    manifest = Manifest.load(bundle_dir / "manifest.json")
    bad = dataclasses.replace(manifest, default_variant={"precision": "fp32", "height": 1, "width": 1})
    with pytest.raises(LivesegError, match="default_variant"):
        bad.dump(tmp_path / "manifest.json")
    assert not (tmp_path / "manifest.json").exists()


def test_variant_entry_omits_what_it_does_not_know() -> None:
    entry = VariantEntry(precision="fp16", height=8, width=8, file="m.onnx", bytes=10, sha256="ab")
    assert entry.to_dict() == {
        "precision": "fp16",
        "height": 8,
        "width": 8,
        "file": "m.onnx",
        "bytes": 10,
        "sha256": "ab",
    }
    logits = dataclasses.replace(entry, precision="fp32", graph="logits", gflops=1.5)
    assert logits.to_dict()["graph"] == "logits" and logits.to_dict()["gflops"] == 1.5
    assert VariantEntry.from_dict(logits.to_dict(), lambda what: LivesegError(what)) == logits


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "white space", "-dash", ""])
def test_dump_refuses_a_name_the_server_would_refuse(bundle_dir: Path, tmp_path: Path, name: str) -> None:
    """The one name rule (`check_name`) holds for every writer, not only the CLI commands that check first."""
    manifest = dataclasses.replace(Manifest.load(bundle_dir / "manifest.json"), name=name)
    with pytest.raises(LivesegError, match="cannot be a URL path segment; give the bundle another name"):
        manifest.dump(tmp_path / "manifest.json")
    assert not (tmp_path / "manifest.json").exists()


def test_check_name_returns_a_servable_name() -> None:
    assert check_name("camvid-fast_scnn.v2", "pass --name") == "camvid-fast_scnn.v2"
    with pytest.raises(LivesegError, match="pass --name"):
        check_name(None, "pass --name")
