"""`liveseg data ...` as a user runs it: a real process, real exit codes, real files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import LIVESEG


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("LIVESEG_DATA", "LIVESEG_MIRROR")}
    return {**clean, "LIVESEG_CACHE": str(tmp_path / "cache"), "COLUMNS": "200"}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LIVESEG, "data", *args], env=env, capture_output=True, text=True, timeout=60)


def _one_sentence(stderr: str) -> str:
    text = " ".join(stderr.split())
    assert text.startswith("error: ") and text.endswith(".") and "Traceback" not in text
    return text


def test_fetch_unknown_name(env) -> None:
    res = _run(env, "fetch", "camvidd")
    assert res.returncode == 2
    assert "Unknown dataset 'camvidd'; choose one of" in _one_sentence(res.stderr)


def test_fetch_registration_only_dataset_points_to_data_root(env) -> None:
    res = _run(env, "fetch", "cityscapes")
    assert res.returncode == 2
    assert "cityscapes-dataset.com" in _one_sentence(res.stderr) and "--data-root" in res.stderr


def test_fetch_without_mirror_then_from_the_copy(env, camvid_root: Path, tmp_path: Path) -> None:
    res = _run(env, "fetch", "camvid")
    assert res.returncode == 2 and "--from PATH_OR_URL" in _one_sentence(res.stderr)
    res = _run(env, "fetch", "camvid", "--from", str(camvid_root))
    assert res.returncode == 0, res.stderr
    dest = tmp_path / "cache" / "datasets" / "camvid"
    assert "verified" in res.stdout and len(list((dest / "val").iterdir())) == 101
    assert _run(env, "fetch", "camvid").returncode == 0  # already verified: no --from needed
    listing = _run(env, "list")
    assert listing.returncode == 0 and str(dest) in listing.stdout
    info = _run(env, "info", "camvid", "--shares", "val")
    assert info.returncode == 0, info.stderr
    assert re.search(r"│ train +│ 367 ", info.stdout) and re.search(r"│ 0006R0 +│ 101 ", info.stdout)
    assert "Bicyclist" in info.stdout and "(ignored)" in info.stdout


def test_info_missing_root(env, tmp_path: Path) -> None:
    res = _run(env, "info", "voc", "--data-root", str(tmp_path / "absent"))
    assert res.returncode == 2 and "VOCtrainval" in _one_sentence(res.stderr)


def test_readers_and_sources_import_without_torch() -> None:
    code = (
        "import sys, liveseg.data, liveseg.sources, liveseg.cli.data; "
        "print(sorted({'torch', 'albumentations', 'cv2'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
