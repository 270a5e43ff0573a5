"""Which bundles `--model` values name, and the checks that keep their ids usable as URL segments."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from liveseg import paths
from liveseg.errors import LivesegError
from liveseg.serve.bundles import default_bundles, find_bundles, served_models


def test_a_directory_of_bundles_gives_each_of_them(site: dict) -> None:
    bundles = find_bundles([str(site["bundles"])])
    assert [b.name for b in bundles] == ["linked", "tiny"]


def test_bundle_directory_and_manifest_path(site: dict) -> None:
    tiny = site["bundles"] / "tiny"
    bundles = find_bundles([str(tiny), str(tiny / "manifest.json")])
    assert [b.root.resolve() for b in bundles] == [tiny.resolve(), tiny.resolve()]


def test_a_directory_without_bundles_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(LivesegError, match="holds no bundle"):
        find_bundles([str(tmp_path / "empty")])


def test_default_names_the_embedded_default(site: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(paths, "DEFAULT_BUNDLE_DIR", site["bundles"] / "tiny")
    monkeypatch.setattr(paths, "BUNDLED_DIR", tmp_path / "no-bundled-models")
    monkeypatch.chdir(tmp_path)
    assert [b.name for b in default_bundles()] == ["tiny"]
    assert [b.name for b in find_bundles(["default"])] == ["tiny"]
    assert find_bundles([]) == []


def test_the_default_and_the_bundled_person_models_unless_a_model_takes_their_name(
    site: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(paths, "DEFAULT_BUNDLE_DIR", site["bundles"] / "tiny")
    bundled = tmp_path / "bundled"
    shutil.copytree(site["bundles"] / "tiny", bundled / "person-tiny")
    manifest = bundled / "person-tiny" / "manifest.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"name": "person-tiny"}))
    monkeypatch.setattr(paths, "BUNDLED_DIR", bundled)
    monkeypatch.setenv("LIVESEG_MODELS", str(tmp_path / "models"))
    assert [b.name for b in default_bundles()] == ["tiny", "person-tiny"]
    assert [b.name for b in default_bundles(taken={"tiny"})] == ["person-tiny"]  # a --model named tiny
    (tmp_path / "models").mkdir()
    shutil.copytree(site["bundles"] / "tiny", tmp_path / "models" / "person-tiny")  # a pulled one of that name wins
    assert [b.root for b in default_bundles()][1:] == []


def test_missing_default_says_to_pass_a_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(paths, "DEFAULT_BUNDLE_DIR", tmp_path / "absent")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LivesegError, match="--model"):
        default_bundles()


def test_a_local_directory_named_default_wins(site: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shutil.copytree(site["bundles"] / "tiny", tmp_path / "default")
    monkeypatch.chdir(tmp_path)
    assert find_bundles(["default"])[0].root.resolve() == (tmp_path / "default").resolve()


def test_duplicate_names_are_refused(site: dict) -> None:
    tiny = site["bundles"] / "tiny"
    with pytest.raises(LivesegError, match="both named 'tiny'"):
        served_models(find_bundles([str(tiny), str(tiny)]))


def test_names_that_are_not_url_segments_are_refused(site: dict, tmp_path: Path) -> None:
    bundle = tmp_path / "spaced"
    shutil.copytree(site["bundles"] / "tiny", bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["name"] = "my model/v2"
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(LivesegError, match="URL path segment"):
        served_models(find_bundles([str(bundle)]))


def test_only_manifest_listed_files_are_allowed(site: dict) -> None:
    model = served_models(find_bundles([str(site["bundles"] / "tiny")]))["tiny"]
    variant = site["manifest"]["variants"][0]["file"]
    assert model.allowed == {"manifest.json", "MODEL_CARD.md", variant}


def test_logits_variants_are_verified_and_served(site: dict, logits_onnx_bytes: bytes, tmp_path: Path) -> None:
    bundle = Path(shutil.copytree(site["bundles"] / "tiny", tmp_path / "tiny"))
    data = logits_onnx_bytes
    digest = hashlib.sha256(data).hexdigest()
    file = f"model-8x8-logits.{digest[:8]}.onnx"
    (bundle / file).write_bytes(data)
    manifest = json.loads((bundle / "manifest.json").read_text())
    logits = {"precision": "fp32", "graph": "logits", "height": 8, "width": 8, "file": file}
    manifest["variants"].append(logits | {"bytes": len(data), "sha256": digest})
    manifest["outputs"]["logits"] = {"name": "logits", "dtype": "float32"}
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    model = served_models(find_bundles([str(bundle)]))["tiny"]
    assert file in model.allowed
    (bundle / file).write_bytes(b"tampered")
    with pytest.raises(LivesegError, match="sha256"):
        served_models(find_bundles([str(bundle)]))
