"""Reading and verifying bundles: what is accepted, and the one sentence for what is not."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from liveseg import paths
from liveseg.errors import LivesegError
from liveseg.runtime import load, open_bundle
from liveseg.runtime.bundle import PRECISIONS, check_graph


def _edit_manifest(root: Path, edit: Callable[[dict], None]) -> None:
    manifest = json.loads((root / "manifest.json").read_text())
    edit(manifest)
    (root / "manifest.json").write_text(json.dumps(manifest))


def test_open_bundle_reads_the_manifest(bundle_dir: Path) -> None:
    bundle = open_bundle(bundle_dir)
    assert open_bundle(bundle_dir / "manifest.json").manifest == bundle.manifest
    assert bundle.root == bundle_dir and bundle.name == bundle.manifest.name
    assert [c["id"] for c in bundle.classes] == list(range(len(bundle.classes)))
    assert bundle.precisions and set(bundle.precisions) <= set(PRECISIONS)
    default = bundle.manifest.default_variant
    chosen = bundle.variant(default["precision"])
    assert (chosen.height, chosen.width) == (default["height"], default["width"])
    for v in bundle.variants:
        assert v.path == bundle_dir / v.file and v.path.is_file()
        assert bundle.variant(v.precision, v.size) == v
    bundle.verify()


def test_unknown_variant_names_the_choices(bundle_dir: Path) -> None:
    bundle = open_bundle(bundle_dir)
    with pytest.raises(LivesegError, match="choose one of"):
        bundle.variant("fp32", size=(7, 9))
    with pytest.raises(LivesegError, match="has no 'fp64' variant"):
        bundle.variant("fp64")


def test_sha256_mismatch_is_caught(bundle_copy: Path) -> None:
    bundle = open_bundle(bundle_copy)
    victim = bundle.variants[0]
    data = bytearray(victim.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.path.write_bytes(bytes(data))
    with pytest.raises(LivesegError, match="sha256"):
        bundle.verify()
    with pytest.raises(LivesegError, match="sha256"):
        load(bundle_copy, precision=victim.precision, size=victim.size)


def _add_logits_variant(root: Path) -> str:
    """List a WebGL logits variant at the default size first, where a careless pick would find it first (in
    place of any the bundle has)."""
    manifest = json.loads((root / "manifest.json").read_text())
    data = next(root.glob("model-*-logits.*.onnx")).read_bytes()  # a real one: graphs are checked on verify
    digest = hashlib.sha256(data).hexdigest()
    default = manifest["default_variant"]
    file = f"model-{default['height']}x{default['width']}-logits.{digest[:8]}.onnx"
    (root / file).write_bytes(data)
    entry = {"precision": "fp32", "graph": "logits", "height": default["height"], "width": default["width"]}
    manifest["variants"] = [v for v in manifest["variants"] if v.get("graph", "labels") != "logits"]
    manifest["variants"].insert(0, entry | {"file": file, "bytes": len(data), "sha256": digest})
    manifest["outputs"]["logits"] = {"name": "logits", "dtype": "float32"}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return file


def test_logits_variants_are_verified_but_never_run(bundle_copy: Path) -> None:
    file = _add_logits_variant(bundle_copy)
    bundle = open_bundle(bundle_copy)
    assert [(v.file, v.graph) for v in bundle.logits] == [(file, "logits")]
    assert all(v.graph == "labels" for v in bundle.variants)
    assert bundle.all_variants == [*bundle.variants, *bundle.logits]
    picks = [bundle.variant(p) for p in bundle.precisions]
    picks += [bundle.variant(v.precision, v.size) for v in bundle.variants]
    assert all(v.graph == "labels" for v in picks)
    assert load(bundle_copy).variant.graph == "labels"
    bundle.verify()
    (bundle_copy / file).write_bytes(b"tampered")
    with pytest.raises(LivesegError, match=f"{file} has sha256"):
        bundle.verify()


def test_missing_variant_file_is_caught(bundle_copy: Path) -> None:
    bundle = open_bundle(bundle_copy)
    bundle.variants[-1].path.unlink()
    with pytest.raises(LivesegError, match="missing"):
        bundle.verify()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.pop("variants"), "missing variants"),
        (lambda m: m.update(format="liveseg-bundle/99"), "format"),
        (lambda m: m["variants"][0].update(precision="fp8"), "unknown precision 'fp8'"),
        (lambda m: m["variants"][0].update(height="360"), "'height'"),
        (lambda m: m["variants"][0].update(file="../../etc/passwd"), "plain file name"),
        (lambda m: m.update(default_variant={"precision": "fp32", "height": 1, "width": 1}), "default_variant"),
        (lambda m: m["classes"][0].update(color=[300, 0, 0]), "class entry 0"),
        (lambda m: m.update(variants=[]), "non-empty"),
        (lambda m: m["variants"][0].update(graph="argmax"), "unknown variant graph 'argmax'"),
        (lambda m: m.update(variants=[v | {"graph": "logits"} for v in m["variants"][:1]]), "no listed labels variant"),
        (lambda m: m["input"].pop("name"), "'input' must be an object with a non-empty string 'name'"),
        (lambda m: m.update(input="image"), "'input' must be an object"),
        (lambda m: m["input"].update(channels=4), "'input.channels'"),
        (lambda m: m["outputs"].pop("confidence"), "'outputs.confidence' is missing"),
        (lambda m: m["outputs"]["labels"].update(name=None), "'outputs.labels' must be an object"),
        (lambda m: m.update(outputs=[]), "'outputs' must be an object"),
        (lambda m: m.update(name=None), "'name' must be a non-empty string"),
        (lambda m: m.update(name=["a", "b"]), "'name' must be a non-empty string"),
        (lambda m: m["normalization"].update(std=[0, 1, 1]), "'normalization.std' must be positive"),
        (lambda m: m.update(ignore_index="11"), "'ignore_index' has the wrong type"),
        (lambda m: m["variants"][0].update(parity=[1]), "variant field 'parity'"),
    ],
)
def test_malformed_manifest_is_one_sentence(bundle_copy: Path, edit, message: str) -> None:
    _edit_manifest(bundle_copy, edit)
    with pytest.raises(LivesegError, match=message) as info:
        open_bundle(bundle_copy)
    text = str(info.value)
    assert "\n" not in text and text.endswith("re-export the bundle.")


def test_manifest_that_is_not_json(bundle_copy: Path) -> None:
    (bundle_copy / "manifest.json").write_text("{ not json")
    with pytest.raises(LivesegError, match="not JSON"):
        open_bundle(bundle_copy)


def test_manifest_that_nests_too_deeply(bundle_copy: Path) -> None:
    (bundle_copy / "manifest.json").write_text("[" * 100_000)
    with pytest.raises(LivesegError, match="nests too deeply"):
        open_bundle(bundle_copy)


def _replace_file(root: Path, precision: str, data: bytes) -> Path:
    """Put `data` in place of the labels variant of `precision`, its manifest entry updated to match."""
    manifest = json.loads((root / "manifest.json").read_text())
    entry = next(v for v in manifest["variants"] if v["precision"] == precision and "graph" not in v)
    (root / entry["file"]).write_bytes(data)
    entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root / entry["file"]


def test_graphs_are_checked_against_the_manifest(bundle_copy: Path) -> None:
    """Names, types, sizes and classes: each mismatch is one sentence naming the file and the manifest field."""
    pristine = (bundle_copy / "manifest.json").read_text()
    _edit_manifest(bundle_copy, lambda m: m.update(classes=m["classes"][:3]))
    fp32 = open_bundle(bundle_copy).variant("fp32")
    message = (
        rf"{fp32.file} does not match its manifest's classes: it lists 3 classes but the graph writes class ids up"
    )
    with pytest.raises(LivesegError, match=message):
        load(bundle_copy, precision="fp32")
    bundle = open_bundle(bundle_copy)
    (logits,) = bundle.logits
    with pytest.raises(LivesegError, match="it lists 3 classes but the graph outputs 11 class logits"):
        check_graph(logits, logits.read(), bundle.manifest)
    for edit, field in [
        (lambda m: m["input"].update(name="pixels"), "input.name"),
        (lambda m: m["outputs"]["labels"].update(name="classes"), "outputs.labels.name"),
        (lambda m: m["variants"][1].update(height=100), "variant height and width"),
    ]:
        (bundle_copy / "manifest.json").write_text(pristine)
        _edit_manifest(bundle_copy, edit)
        with pytest.raises(LivesegError, match=rf"does not match its manifest's {field}: .*re-export the bundle\.$"):
            open_bundle(bundle_copy).verify()
    (bundle_copy / "manifest.json").write_text(pristine)
    _replace_file(bundle_copy, "fp32", logits.read())  # another model's valid ONNX, with a matching hash
    with pytest.raises(LivesegError, match=r"input.dtype: the graph's input is float32 1x288x384x4, not uint8"):
        load(bundle_copy, precision="fp32")


def test_tensors_outside_the_hashed_file_are_refused(bundle_copy: Path) -> None:
    import onnx

    fp32 = open_bundle(bundle_copy).variant("fp32")
    model = onnx.load(str(fp32.path))
    onnx.external_data_helper.convert_model_to_external_data(model, location="weights.bin", size_threshold=1024)
    onnx.save(model, str(bundle_copy / "external.onnx"))
    _replace_file(bundle_copy, "fp32", (bundle_copy / "external.onnx").read_bytes())
    with pytest.raises(LivesegError, match="in a separate file, which the manifest's sha256 does not cover"):
        load(bundle_copy, precision="fp32")


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(LivesegError, match="No bundle at"):
        open_bundle(tmp_path)
    with pytest.raises(LivesegError, match="No bundle at"):
        open_bundle(tmp_path / "nope")


def test_default_without_an_installed_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "DEFAULT_BUNDLE_DIR", tmp_path / "default")
    with pytest.raises(LivesegError, match=r"No default model is installed.*--model"):
        open_bundle("default")


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("voc-lraspp-mobilenetv3", "`liveseg pull voc-lraspp-mobilenetv3` first."),
        ("ade20k-segformer-b0", "`liveseg pull ade20k-segformer-b0 --accept-licence` first."),
    ],
)
def test_a_registered_model_not_yet_pulled_says_how_to_pull_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, command: str
) -> None:
    monkeypatch.setenv("LIVESEG_MODELS", str(tmp_path / "models"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LivesegError, match=rf"'{name}' is not pulled yet; run {command}"):
        load(name)
    with pytest.raises(LivesegError, match="No bundle at style-candy"):  # an effect is no bundle, pulled or not
        open_bundle("style-candy")
