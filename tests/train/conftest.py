"""The training tests' quiet console; the tiny CamVid set, its TrainConfig and the session's trained checkpoint
are the root conftest's (`tiny_camvid`, `small_config`, `checkpoint_path`), shared with the other packages."""

from __future__ import annotations

import io

import pytest
from rich.console import Console


@pytest.fixture
def quiet() -> Console:
    return Console(file=io.StringIO(), width=120)
