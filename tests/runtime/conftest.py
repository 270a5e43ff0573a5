"""A trained CamVid bundle (the embedded default, or LIVESEG_TEST_BUNDLE) and real CamVid val images.

These tests need no torch: they exercise the runtime exactly as a user without the training extras would.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

LIVESEG = str(Path(sys.executable).with_name("liveseg"))


@pytest.fixture(scope="session")
def liveseg_cli() -> str:
    return LIVESEG


@pytest.fixture
def bundle_copy(bundle_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the bundle, free to damage."""
    return Path(shutil.copytree(bundle_dir, tmp_path / "bundle"))


@pytest.fixture(scope="session")
def val_pairs(camvid_root: Path) -> list[tuple[Path, Path]]:
    """Four real CamVid val (image, label) paths, spread over the split."""
    images = sorted((camvid_root / "val").iterdir())
    picked = images[:: len(images) // 4][:4]
    return [(p, camvid_root / "valannot" / f"{p.stem}.png") for p in picked]
