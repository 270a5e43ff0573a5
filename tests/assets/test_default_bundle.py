"""The embedded default model ships whole and works: what `liveseg serve` and `liveseg segment` use without --model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import liveseg
from liveseg.data.camvid import CLASSES
from liveseg.runtime.bundle import PRECISIONS, open_bundle, sha256_file


@pytest.fixture(scope="module")
def bundle():
    return open_bundle("default")


def test_every_variant_is_present_and_matches_its_sha256(bundle) -> None:
    assert set(bundle.precisions) == set(PRECISIONS)
    for variant in bundle.all_variants:
        assert variant.path.stat().st_size == variant.bytes
        assert sha256_file(variant.path) == variant.sha256
        assert variant.sha256[:8] in variant.file  # content-hashed names are what lets the server cache forever


def test_manifest_describes_camvid_with_measured_accuracy(bundle) -> None:
    assert [c["name"] for c in bundle.classes] == list(CLASSES)
    assert (Path(bundle.root) / "MODEL_CARD.md").is_file()
    for variant in bundle.variants:
        assert variant.val_miou is not None and variant.val_miou > 0.3
        assert variant.parity


@pytest.mark.parametrize("precision", PRECISIONS)
def test_segments_a_camvid_val_image(camvid_root: Path, precision: str) -> None:
    image = camvid_root / "val" / "0016E5_07959.jpg"
    truth = np.asarray(Image.open(camvid_root / "valannot" / f"{image.stem}.png"))
    labels = liveseg.load("default", precision=precision).segment(image).labels
    assert labels.shape == truth.shape
    valid = truth != 11
    accuracy = float((labels[valid] == truth[valid]).mean())
    assert accuracy >= 0.80, f"{precision}: pixel accuracy {accuracy:.3f} on {image.name}"
