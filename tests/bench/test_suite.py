"""`liveseg bench all` hands its shared settings to each benchmark by name and leaves the rest at their defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveseg.bench import suite
from liveseg.bench.suite import AllBenchSettings, BrowserBenchSettings, PythonBenchSettings, SoakBenchSettings
from liveseg.errors import LivesegError


def test_all_runs_each_benchmark_with_the_shared_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ran = []
    for name in ("python_bench", "browser_bench", "soak_bench"):
        monkeypatch.setattr(suite, name, lambda settings, progress, command: ran.append(settings))
    shared = AllBenchSettings(model="m", frames=7, backends=["wasm"], minutes=1.0, images=tmp_path, out=tmp_path)
    suite.all_benches(shared, progress=None, command="liveseg bench all")
    python, browser, soak = ran
    assert python == PythonBenchSettings(model="m", frames=7, out=tmp_path)
    assert python.threads == [1, 2] and python.batches == [1, 8] and python.torch and not python.quick
    assert browser == BrowserBenchSettings(model="m", backends=["wasm"], frames=7, images=tmp_path, out=tmp_path)
    assert soak == SoakBenchSettings(model="m", minutes=1.0, images=tmp_path, out=tmp_path)
    assert soak.backend == "wasm" and soak.interval == 10.0 and soak.threads == 2


def test_backends_are_checked_when_parsed() -> None:
    with pytest.raises(LivesegError, match="is not a comma list of wasm, webgl, webgpu"):
        suite.parse_backends("wasm,cuda")
