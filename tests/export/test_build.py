"""The export pipeline in-process: a variant failing its parity check is reported and left out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from liveseg.export import parity, writer
from liveseg.export.build import export_bundle
from liveseg.export.settings import ExportSettings
from liveseg.runtime import open_bundle


def test_failing_variant_is_not_written(checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing agrees on more than 100% of pixels: fp16 and the WebGL logits graph must fail, fp32 still pass.
    monkeypatch.setitem(parity.MIN_AGREEMENT, "fp16", 1.01)
    monkeypatch.setattr(parity, "MIN_LOGITS_AGREEMENT", 1.01)
    settings = ExportSettings(
        sizes=[(64, 96)], precisions=["fp32", "fp16"], no_data=True, parity_images=3, calib_images=2
    )
    result = export_bundle(checkpoint, tmp_path / "b", settings)
    assert [v.precision for v in result.failed] == ["fp16"]
    (failed,) = result.failed
    assert failed.path is None and failed.problem.endswith("so it was not written.") and "\n" not in failed.problem
    (left_out,) = result.warnings  # a warning, not a failure: the bundle still runs on every other backend
    assert left_out.graph == "logits" and left_out.path is None and "\n" not in left_out.problem
    assert "left out" in left_out.problem and left_out.parity["pixel_agreement"] > 0.99
    bundle = open_bundle(tmp_path / "b")
    assert not bundle.logits and "logits" not in bundle.manifest.outputs
    assert [(v.precision, v.size) for v in bundle.variants] == [("fp32", (64, 96))]
    assert bundle.variants[0].parity["inputs"] == "synthetic"
    assert bundle.variants[0].val_miou is None  # no dataset, no val mIoU
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(["manifest.json", bundle.variants[0].file])


def test_synthetic_images_look_like_scenes() -> None:
    images = parity.synthetic_images(4, 90, 120, seed=1)
    assert all(im.shape == (90, 120, 3) and im.dtype.name == "uint8" for im in images)
    for im in images:
        # Sky on top is brighter and bluer than the road at the bottom; whole range used, not flat noise.
        top, bottom = im[:5].astype(float), im[-5:].astype(float)
        assert top[..., 2].mean() > bottom[..., 2].mean()
        assert im.std() > 20
    assert not (images[0] == images[1]).all()
    assert all((a == b).all() for a, b in zip(images, parity.synthetic_images(4, 90, 120, seed=1), strict=True))


def test_interrupted_export_leaves_the_old_bundle(
    exported, checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = Path(shutil.copytree(exported.root, tmp_path / "bundle"))
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as if Ctrl-C arrived while the new bundle was being written

    monkeypatch.setattr(writer.shutil, "copyfile", killed)
    settings = ExportSettings(
        sizes=[(64, 64)], precisions=["fp32"], no_data=True, parity_images=1, calib_images=1, webgl=False
    )
    with pytest.raises(KeyboardInterrupt):
        export_bundle(checkpoint, out, settings)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"], "no partial bundle is left beside it"
