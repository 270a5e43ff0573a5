"""Small dataset layouts built in tmp_path from real CamVid pairs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from liveseg.data import get_dataset


@pytest.fixture(scope="session")
def camvid_pairs(camvid_root: Path) -> list[tuple[Path, Path]]:
    """The first few real CamVid training pairs (image .jpg, label .png)."""
    return get_dataset("camvid", "train", root=camvid_root).pairs[:4]


@pytest.fixture
def mini_camvid(tmp_path: Path, camvid_pairs: list[tuple[Path, Path]]) -> Path:
    """A CamVid-layout copy with 3 train pairs, free to corrupt."""
    root = tmp_path / "camvid"
    for sub in ("train", "trainannot"):
        (root / sub).mkdir(parents=True)
    for image, label in camvid_pairs[:3]:
        shutil.copy(image, root / "train" / image.name)
        shutil.copy(label, root / "trainannot" / label.name)
    return root
