"""Pulled and imported bundles in the web app: listed by `liveseg serve` without --model, grouped by dataset with
their licence, segmented in Chromium (WASM) as in Python; the start screen's hint while only street models exist."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import liveseg
from liveseg.bench.browser import serve
from liveseg.bench.snapshot import when_ready
from liveseg.data import NORMALIZATION, get_info
from liveseg.runtime.bundle import Bundle, open_bundle

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory, make_onnx, style_onnx, torchvision_model) -> Path:
    """A models folder holding an imported VOC-class bundle (a small transformer), torchvision's LR-ASPP converted
    as `pull` converts it (random weights both), and an effect model in the form of the Model Zoo's style transfer."""
    from liveseg import models
    from liveseg.export.build import export_network
    from liveseg.export.imported import import_bundle, load_network
    from liveseg.export.settings import ExportSettings
    from liveseg.export.writer import BundleMeta
    from liveseg.runtime.effects import Effect

    root = tmp_path_factory.mktemp("models")
    source = make_onnx(root.parent / "voc-tiny.onnx", classes=21)
    info = get_info("voc")
    meta = BundleMeta(
        name="voc-tiny",
        model={"name": "onnx", "kwargs": {}},
        dataset="voc",
        classes=info.classes,
        palette=info.palette,
        ignore_index=255,
        normalization=NORMALIZATION,
        source={"imported": "voc-tiny.onnx", "license": "MIT (test)", "origin": "tests"},
    )
    settings = ExportSettings(
        sizes=[(96, 128)], precisions=["fp32"], no_data=True, parity_images=2, calib_images=2, webgl=False
    )
    network = load_network(source, NORMALIZATION["mean"], NORMALIZATION["std"])
    assert import_bundle(network, root / "voc-tiny", settings, meta).out is not None
    lraspp = models.create("lraspp_mobilenet_v3_large", num_classes=21)
    lraspp.load_state_dict(torchvision_model("lraspp_mobilenet_v3_large", seed=2).state_dict())
    meta = dataclasses.replace(meta, name="voc-lraspp", model={"name": "lraspp_mobilenet_v3_large", "kwargs": {}})
    assert export_network(lraspp.eval(), meta, root / "voc-lraspp", settings).out is not None
    style = style_onnx(root / "effects" / "style-test" / "model.0123abcd.onnx")
    size = style.stat().st_size
    Effect("style-test", style.name, "0123abcd" + "0" * 56, size, 255, "BSD-3-Clause", "tests").dump(style.parent)
    return root


@pytest.fixture(scope="module")
def pulled_server(models_dir: Path) -> Iterator[str]:
    with serve(env={"LIVESEG_MODELS": str(models_dir)}) as url:
        yield url


def test_pulled_bundle_is_listed_grouped_and_segments_like_python(
    pulled_server: str, open_page, segment_in_browser, models_dir: Path, parity_image: np.ndarray
) -> None:
    page, problems = open_page(f"{pulled_server}?backend=wasm")
    when_ready(page)
    groups = page.locator("#model optgroup").evaluate_all("gs => gs.map(g => [g.label, g.children.length])")
    assert groups == [
        ["Street scenes (CamVid)", 1],
        ["People at a camera (selfie, video call)", 2],  # the bundled person models
        ["People, animals, vehicles, objects (Pascal VOC)", 2],
    ]
    assert page.locator("#model-hint").is_hidden()

    image = np.ascontiguousarray(parity_image[:96, :128])
    for name in ("voc-tiny", "voc-lraspp"):
        bundle: Bundle = open_bundle(models_dir / name)
        ran_on, labels = segment_in_browser(page, bundle, image, "wasm")
        python = liveseg.load(bundle, precision="fp32", size=(96, 128)).segment(image).labels
        assert ran_on == "wasm" and labels.shape == python.shape
        assert float((labels == python).mean()) >= 0.98, name

    page.select_option("#model", "voc-tiny")
    page.wait_for_function("() => document.querySelector('#model-note').textContent.includes('licence: MIT (test)')")
    assert problems.errors == []


def test_start_screen_says_how_to_get_a_general_model(server: str, open_page) -> None:
    page, problems = open_page(server)
    hint = page.locator("#model-hint")
    hint.wait_for(state="visible")
    assert "liveseg pull voc-lraspp-mobilenetv3" in hint.inner_text()
    assert problems.errors == []


def test_pulled_effect_model_is_offered_and_loads(
    pulled_server: str, open_page, val_images: list[Path], wait_stats
) -> None:
    page, problems = open_page(f"{pulled_server}?backend=wasm&effect=model&opacity=0")
    when_ready(page)
    page.set_input_files("#source-image", str(val_images[0]))
    wait_stats(page, lambda s: s["frames"] >= 1)
    options = page.locator("#effect-preset option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["style-test", ""]
    page.select_option("#effect-preset", "style-test")
    stats = wait_stats(page, lambda s: s["effectMs"] is not None and s["frames"] >= 2)
    assert stats["effectMs"] > 0
    assert "style-test.onnx: NCHW-float at 32 × 32" in page.locator("#effect-note").inner_text()
    assert page.locator("#effect-model-field").is_hidden()
    assert problems.errors == []
