"""Fixtures shared by every test package: the repository, the real CamVid copy and a trained CamVid bundle."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from liveseg import paths

REPO_ROOT = Path(__file__).resolve().parents[1]


def _camvid_root() -> Path:
    env = os.environ.get("LIVESEG_CAMVID")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "datasets" / "camvid"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def camvid_root() -> Path:
    root = _camvid_root()
    if not (root / "train").is_dir():
        pytest.fail(f"CamVid not found at {root}; set LIVESEG_CAMVID to a copy of it")
    return root


@pytest.fixture(scope="session")
def bundle_dir() -> Path:
    override = os.environ.get("LIVESEG_TEST_BUNDLE")
    root = Path(override) if override else paths.DEFAULT_BUNDLE_DIR
    if not (root / "manifest.json").is_file():
        pytest.fail(
            f"No trained bundle at {root}: the runtime and browser tests need the default CamVid bundle "
            "(src/liveseg/assets/default/) or LIVESEG_TEST_BUNDLE set to a CamVid bundle directory."
        )
    return root.absolute()
