"""`liveseg pull`'s registry and download path against a real HTTP server on 127.0.0.1: upstream-format files
with random weights are served, pulled, converted and compared with the upstream framework."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg import paths, sources
from liveseg.errors import LivesegError
from liveseg.export import parity, pretrained
from liveseg.export.pretrained import Pretrained
from liveseg.export.settings import PullSettings
from liveseg.runtime.bundle import open_bundle
from liveseg.runtime.session import create_session
from liveseg.sources import Source

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LIVESEG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LIVESEG_MODELS", str(tmp_path / "models"))
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)


def _register(monkeypatch, entry: Pretrained) -> Pretrained:
    monkeypatch.setitem(pretrained.PRETRAINED, entry.name, entry)
    monkeypatch.setitem(sources.SOURCES, entry.source.name, entry.source)
    return entry


def _onnx_entry(monkeypatch, served, make_onnx, sha256: str | None = "pin", **changes) -> Pretrained:
    """A SegFormer-like ONNX file under the server's /tiny/, registered as a pullable CamVid-class model."""
    file = make_onnx(served.root / "tiny" / "model.onnx", classes=11)
    digest = hashlib.sha256(file.read_bytes()).hexdigest() if sha256 == "pin" else sha256
    source = Source("tiny-onnx", "file", "model.onnx", digest, "MIT (test)", "tests", url=f"{served.url}/tiny")
    entry = Pretrained(
        name="tiny-transformer",
        source=source,
        classes="camvid",
        converter="onnx",
        size=(64, 96),
        accuracy="none (random weights)",
        citation="none",
        licence="MIT",
        gflops="tiny",
    )
    return _register(monkeypatch, dataclasses.replace(entry, **changes))


def _camvid_image(camvid_root: Path, size: tuple[int, int]) -> np.ndarray:
    image = Image.open(sorted((camvid_root / "val").iterdir())[0]).convert("RGB")
    return np.asarray(image.resize((size[1], size[0]), Image.BILINEAR))


def test_pull_onnx_converts_caches_and_opens_by_name(http_files, make_onnx, monkeypatch, camvid_root: Path) -> None:
    entry = _onnx_entry(monkeypatch, http_files, make_onnx)
    result = pretrained.pull(entry.name, PullSettings(precisions=["fp32", "fp16"]))
    assert result.out == paths.models_dir() / entry.name and not result.failed
    bundle = open_bundle(entry.name)  # by name, as `segment --model NAME` and liveseg.load do
    assert bundle.manifest.source["license"] == "MIT (test)"
    assert [c["name"] for c in bundle.classes][:3] == ["Sky", "Building", "Pole"]
    assert all(v.parity["pixel_agreement"] >= 0.995 for v in bundle.variants)
    # The bundle against the upstream file in onnxruntime, on a real photo.
    image = _camvid_image(camvid_root, entry.size)[None]
    labels = create_session(bundle.variant("fp32").path).run(["labels"], {"image": image})[0]
    from liveseg.export.imported import load_network, reference

    upstream = reference(load_network(http_files.root / "tiny" / "model.onnx", entry.mean, entry.std))(image)
    assert parity.pixel_agreement(labels, upstream) >= 0.999
    # A second pull converts again from the cache without asking the server.
    before = len(http_files.requests)
    pretrained.pull(entry.name, PullSettings(precisions=["fp32"]))
    assert len(http_files.requests) == before


def test_checksum_mismatch_keeps_nothing(http_files, make_onnx, monkeypatch) -> None:
    entry = _onnx_entry(monkeypatch, http_files, make_onnx, sha256="0" * 64)
    with pytest.raises(LivesegError, match=r"Checksum mismatch.*not kept"):
        pretrained.pull(entry.name)
    folder = paths.cache_dir() / "downloads" / entry.source.name
    assert not any(folder.iterdir()) if folder.exists() else True
    assert not (paths.models_dir() / entry.name).exists()


def test_truncated_download_resumes_with_a_range_request(http_files, make_onnx, monkeypatch) -> None:
    entry = _onnx_entry(monkeypatch, http_files, make_onnx)
    http_files.fail["/tiny/model.onnx"] = "truncate"
    with pytest.raises(LivesegError, match=r"failed.*kept and the next fetch continues it"):
        pretrained.pull(entry.name, PullSettings(precisions=["fp32"]))
    part = paths.cache_dir() / "downloads" / entry.source.name / "model.onnx.part"
    size = (http_files.root / "tiny" / "model.onnx").stat().st_size
    assert 0 < part.stat().st_size < size
    del http_files.fail["/tiny/model.onnx"]
    pretrained.pull(entry.name, PullSettings(precisions=["fp32"]))
    assert http_files.requests[-1] == ("/tiny/model.onnx", f"bytes={size // 2}-")
    assert not part.exists() and open_bundle(entry.name).variant().path.is_file()


@pytest.mark.parametrize("status", ["404", "500"])
def test_server_errors_are_one_sentence(http_files, make_onnx, monkeypatch, status: str) -> None:
    entry = _onnx_entry(monkeypatch, http_files, make_onnx)
    http_files.fail["/tiny/model.onnx"] = status
    with pytest.raises(LivesegError, match=f"HTTP {status}.*pass --from PATH_OR_URL"):
        pretrained.pull(entry.name)


def test_from_overrides_the_registered_url(http_files, make_onnx, monkeypatch, tmp_path: Path) -> None:
    entry = _onnx_entry(monkeypatch, http_files, make_onnx)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "model.onnx").write_bytes((http_files.root / "tiny" / "model.onnx").read_bytes())
    http_files.fail["/tiny/model.onnx"] = "500"  # the registered URL is down; the local copy is used
    assert pretrained.pull(entry.name, PullSettings(location=str(mirror), precisions=["fp32"])).out is not None


def test_restrictive_licence_needs_acceptance(http_files, make_onnx, monkeypatch) -> None:
    entry = _onnx_entry(monkeypatch, http_files, make_onnx, accept_licence=True)
    with pytest.raises(LivesegError, match=r"MIT \(test\).*--accept-licence"):
        pretrained.pull(entry.name)
    assert http_files.requests == []  # nothing downloaded before the licence is accepted
    assert pretrained.pull(entry.name, PullSettings(accept_licence=True, precisions=["fp32"])).out is not None


def test_unknown_name() -> None:
    with pytest.raises(LivesegError, match=r"Unknown pretrained model 'nope'.*voc-lraspp-mobilenetv3"):
        pretrained.pull("nope")


def test_unpinned_source_is_pinned_at_first_download(http_files, make_onnx, monkeypatch) -> None:
    entry = _onnx_entry(monkeypatch, http_files, make_onnx, sha256=None)
    pretrained.pull(entry.name, PullSettings(precisions=["fp32"]))
    cached = paths.cache_dir() / "downloads" / entry.source.name / "model.onnx"
    recorded = cached.with_name("model.onnx.sha256").read_text().strip()
    assert recorded == hashlib.sha256(cached.read_bytes()).hexdigest()
    # The upstream file changes: the cached copy is kept; once it is deleted, its record goes with it.
    new = make_onnx(http_files.root / "tiny" / "model.onnx", classes=11, seed=1).read_bytes()
    assert sources.fetch(entry.source) == cached and cached.read_bytes() != new
    cached.unlink()
    assert sources.fetch(entry.source).read_bytes() == new
    assert cached.with_name("model.onnx.sha256").read_text().strip() == hashlib.sha256(new).hexdigest()


def test_registry_covers_voc_ade20k_and_cityscapes() -> None:
    by_classes = {e.classes for e in pretrained.PRETRAINED.values()}
    assert {"voc", "ade20k", "cityscapes"} <= by_classes
    for entry in pretrained.PRETRAINED.values():
        assert entry.source.license and entry.licence and entry.source.url.startswith("https://")
        assert entry.accept_licence == ("non-commercial" in entry.source.license)


def test_hugging_face_files_are_pinned_to_a_revision() -> None:
    """`resolve/main` serves whatever was pushed last; a commit id serves the file the entry was checked against."""
    hosted = [e for e in pretrained.PRETRAINED.values() if e.source.url.startswith("https://huggingface.co/")]
    assert hosted
    for entry in hosted:
        assert re.search(r"/resolve/[0-9a-f]{40}(/|$)", entry.source.url), entry.name


def test_pull_torchvision_file_matches_torchvision(
    http_files, torchvision_model, monkeypatch, camvid_root: Path
) -> None:
    """torchvision's LR-ASPP with random weights, saved as its pretrained file is (a state dict), pulled over HTTP:
    the bundle's class map equals torchvision's own on a real photo."""
    import torch

    upstream = torchvision_model("lraspp_mobilenet_v3_large", seed=3)
    file = http_files.root / "tv" / "lraspp.pth"
    file.parent.mkdir()
    torch.save(upstream.state_dict(), file)
    real = pretrained.get_pretrained("voc-lraspp-mobilenetv3")
    source = dataclasses.replace(
        real.source,
        name="tv-test",
        filename="lraspp.pth",
        sha256=hashlib.sha256(file.read_bytes()).hexdigest(),
        url=f"{http_files.url}/tv",
    )
    entry = _register(monkeypatch, dataclasses.replace(real, name="voc-lraspp-test", source=source, size=(96, 128)))
    result = pretrained.pull(entry.name, PullSettings(precisions=["fp32", "fp16"]))
    assert not result.failed
    bundle = open_bundle(entry.name)
    assert bundle.manifest.model["name"] == "lraspp_mobilenet_v3_large" and len(bundle.classes) == 21
    logits_variant = [v for v in result.variants if v.graph == "logits"]
    assert logits_variant and logits_variant[0].passed, logits_variant[0].problem  # HardSwish fitted for WebGL

    image = _camvid_image(camvid_root, entry.size)
    labels = create_session(bundle.variant("fp32").path).run(["labels"], {"image": image[None]})[0][0]
    x = (
        torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255 - torch.tensor(entry.mean).view(1, 3, 1, 1)
    ) / torch.tensor(entry.std).view(1, 3, 1, 1)
    with torch.no_grad():
        theirs = upstream(x)["out"].argmax(1)[0].numpy()
    assert len(np.unique(theirs)) > 2  # a map worth comparing
    assert parity.pixel_agreement(labels, theirs) >= 0.999


STYLES = ["style-udnie", "style-pointilism", "style-candy", "style-mosaic", "style-rain-princess"]


def _style_entry(monkeypatch, served, style_onnx, name: str = "style-udnie") -> Pretrained:
    """`name`'s entry with a stand-in file that the local server serves at the registered URL's path."""
    real = pretrained.get_pretrained(name)
    path = urllib.parse.urlsplit(real.source.url).path
    file = style_onnx(served.root / path.lstrip("/") / real.source.filename)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    source = dataclasses.replace(real.source, name="style-test", sha256=digest, url=served.url + path)
    return _register(monkeypatch, dataclasses.replace(real, name="style-test", source=source))


def test_style_models_come_from_the_model_zoo_on_hugging_face() -> None:
    """The zoo's GitHub LFS files are gone: each is pinned to a commit of its onnxmodelzoo repository."""
    for name in STYLES:
        source = pretrained.get_pretrained(name).source
        model = source.filename.removesuffix(".onnx")
        assert re.fullmatch(rf"https://huggingface.co/onnxmodelzoo/{model}/resolve/[0-9a-f]{{40}}", source.url)
        assert model.endswith("-9") and re.fullmatch("[0-9a-f]{64}", source.sha256 or "")


@pytest.mark.parametrize("name", STYLES)
def test_pull_effect_installs_it_for_the_server(http_files, style_onnx, monkeypatch, name: str) -> None:
    from liveseg.runtime.effects import installed_effects

    entry = _style_entry(monkeypatch, http_files, style_onnx, name)
    folder = pretrained.pull_effect(entry.name)
    [(found, effect)] = installed_effects()
    assert found == folder and effect.name == "style-test" and effect.scale == 255
    [(path, _)] = http_files.requests  # e.g. /onnxmodelzoo/candy-9/resolve/<commit>/candy-9.onnx
    assert path.startswith("/onnxmodelzoo/") and path.endswith(f"/{entry.source.filename}")
    assert (folder / effect.file).read_bytes() == (http_files.root / path.lstrip("/")).read_bytes()
    assert effect.sha256[:8] in effect.file and "BSD-3-Clause" in effect.license
    with pytest.raises(LivesegError, match="is an effect model, not a segmentation model"):
        pretrained.pull(entry.name)


def test_an_effect_must_map_images_to_images(http_files, make_onnx, monkeypatch) -> None:
    import onnx
    from onnx import TensorProto, helper

    real = pretrained.get_pretrained("style-udnie")
    file = http_files.root / "zoo" / "udnie-9.onnx"
    file.parent.mkdir()
    vector = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [vector],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), file)
    source = dataclasses.replace(
        real.source, name="style-bad", sha256=hashlib.sha256(file.read_bytes()).hexdigest(), url=f"{http_files.url}/zoo"
    )
    _register(monkeypatch, dataclasses.replace(real, name="style-bad", source=source))
    with pytest.raises(LivesegError, match="does not map an image to an image"):
        pretrained.pull_effect("style-bad")


# MediaPipe's hosted models, each with a stand-in at its input size: (classes in the TFLite head, input channels,
# metadata normalisation on 0..255 or None for a file without metadata, the normalisation expected on 0..1).
MEDIAPIPE = {
    "mediapipe-selfie-segmenter": (1, 3, ([0.0], [255.0]), (0.0, 1.0)),
    "mediapipe-deeplab-v3": (21, 3, ([127.5], [127.5]), (0.5, 0.5)),
    "mediapipe-selfie-multiclass": (6, 3, None, (0.0, 1.0)),
    "mediapipe-hair-segmenter": (1, 4, None, (0.0, 1.0)),
}


def _mediapipe_entry(monkeypatch, served, name: str) -> tuple[Pretrained, np.ndarray, np.ndarray]:
    """`name`'s entry, its stand-in served at the registered URL's path (pinned to the stand-in's digest where
    the entry pins one); returns (entry, weight, bias) of the stand-in's 1x1 convolution."""
    from .tflite_models import metadata_buffer, segmenter, serialize

    classes, channels, normalization, _ = MEDIAPIPE[name]
    real = pretrained.get_pretrained(name)
    metadata = metadata_buffer(*normalization) if normalization else None
    graph, weight, bias = segmenter(real.size, classes, channels, metadata)
    path = urllib.parse.urlsplit(real.source.url).path
    file = served.root / path.lstrip("/") / real.source.filename
    file.parent.mkdir(parents=True)
    file.write_bytes(serialize(graph))
    digest = hashlib.sha256(file.read_bytes()).hexdigest() if real.source.sha256 else None
    source = dataclasses.replace(real.source, sha256=digest, url=served.url + path)
    return _register(monkeypatch, dataclasses.replace(real, source=source)), weight, bias


def test_mediapipe_models_are_pinned_to_version_1_of_their_hosted_files() -> None:
    entries = [e for e in pretrained.PRETRAINED.values() if e.converter == "tflite"]
    assert sorted(e.name for e in entries) == sorted(MEDIAPIPE)
    for entry in entries:
        hosted = r"https://storage.googleapis.com/mediapipe-models/image_segmenter/(\w+)/float(16|32)/1/\1\.tflite"
        assert re.fullmatch(hosted, entry.url)
        assert entry.licence == "Apache-2.0" and entry.source.format_check() is sources.check_tflite
    selfie = pretrained.get_pretrained("mediapipe-selfie-segmenter").source
    assert selfie.sha256 == "191ac9529ae506ee0beefa6b2c945a172dab9d07d1e802a290a4e4038226658b"


# DeepLab's is pulled by `liveseg pull` from a serve-only install: tests/cli/test_pull.py.
@pytest.mark.parametrize("name", [n for n in MEDIAPIPE if n != "mediapipe-deeplab-v3"])
def test_pull_mediapipe_model_converts_its_tflite_file(http_files, monkeypatch, camvid_root: Path, name: str) -> None:
    entry, weight, bias = _mediapipe_entry(monkeypatch, http_files, name)
    result = pretrained.pull(entry.name, PullSettings(precisions=["fp32"]))
    assert not result.failed
    bundle = open_bundle(entry.name)
    names = pretrained.class_list(entry.classes)[0]
    assert tuple(c["name"] for c in bundle.classes) == names and names[0] == "background"
    assert [tuple(v.size) for v in bundle.variants] == [entry.size]
    assert bundle.manifest.source["license"].startswith("Apache-2.0") and bundle.manifest.source["notes"]
    mean, std = MEDIAPIPE[name][3]
    assert bundle.manifest.normalization == {"mean": [mean] * 3, "std": [std] * 3}
    card = (bundle.root / "MODEL_CARD.md").read_text()
    assert entry.url in card and entry.notes.split(";")[0] in card
    # It segments: the class map equals the stand-in's, computed in NumPy (a 4th input channel counts as zeros).
    image = _camvid_image(camvid_root, entry.size)
    labels = create_session(bundle.variant("fp32").path).run(["labels"], {"image": image[None]})[0][0]
    logits = ((image / 255.0 - mean) / std) @ weight[:, :3].T + bias
    expected = (logits[..., 0] > 0).astype(int) if logits.shape[-1] == 1 else logits.argmax(-1)
    assert len(np.unique(expected)) >= 2 and parity.pixel_agreement(labels, expected) >= 0.99


def test_force_downloads_again_and_forgets_the_recorded_digest(http_files, monkeypatch) -> None:
    """An unpinned file changed upstream: the cache keeps serving the first copy; a forced pull fetches the new
    one and records its digest. (A small input size: this is about downloads, not the entry's model.)"""
    from .tflite_models import segmenter, serialize

    entry, _, _ = _mediapipe_entry(monkeypatch, http_files, "mediapipe-selfie-multiclass")
    source = dataclasses.replace(entry.source, sha256=None)
    entry = _register(monkeypatch, dataclasses.replace(entry, source=source, size=(32, 32)))
    served = http_files.root / urllib.parse.urlsplit(entry.url).path.lstrip("/")
    served.write_bytes(serialize(segmenter(entry.size, 6)[0]))
    pretrained.pull(entry.name, PullSettings(precisions=["fp32"]))
    served.write_bytes(serialize(segmenter(entry.size, 6, seed=1)[0]))
    cached = sources.fetch(entry.source)
    recorded = cached.with_name(cached.name + ".sha256")
    assert len(http_files.requests) == 1 and cached.read_bytes() != served.read_bytes()
    pretrained.pull(entry.name, PullSettings(precisions=["fp32"], force=True))
    assert len(http_files.requests) == 2 and cached.read_bytes() == served.read_bytes()
    assert recorded.read_text().strip() == hashlib.sha256(served.read_bytes()).hexdigest()


def test_force_downloads_an_effect_again(http_files, style_onnx, monkeypatch) -> None:
    entry = _style_entry(monkeypatch, http_files, style_onnx)
    pretrained.pull_effect(entry.name)
    pretrained.pull_effect(entry.name)
    assert len(http_files.requests) == 1
    pretrained.pull_effect(entry.name, force=True)
    assert len(http_files.requests) == 2
