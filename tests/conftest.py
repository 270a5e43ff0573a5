"""Fixtures shared by every test package: where the repository and the real CamVid copy live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
