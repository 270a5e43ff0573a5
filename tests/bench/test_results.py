"""Results as dataclasses: every committed docs/bench file reads into its result type and writes back the same
JSON, so typing the results changes none of the files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liveseg.bench import results
from liveseg.bench.browser import BrowserResult
from liveseg.bench.machine import Machine
from liveseg.bench.person import PersonResult
from liveseg.bench.python import PythonResult
from liveseg.bench.ray import RayResult
from liveseg.bench.results import from_json, load_json, save_json, to_json
from liveseg.bench.soak import SoakResult
from liveseg.bench.temporal import TemporalResult
from liveseg.bench.train import TrainResult
from liveseg.errors import LivesegError

KINDS: dict[str, type] = {
    results.PYTHON_JSON: PythonResult,
    results.BROWSER_JSON: BrowserResult,
    results.SOAK_JSON: SoakResult,
    results.PERSON_JSON: PersonResult,
    results.TEMPORAL_JSON: TemporalResult,
    results.RAY_JSON: RayResult,
    results.TRAIN_JSON: TrainResult,
}
COMMITTED = sorted((Path(__file__).resolve().parents[2] / "docs" / "bench").glob("*.json"))


def test_every_committed_result_has_a_type() -> None:
    assert COMMITTED and {p.name for p in COMMITTED} <= set(KINDS)


@pytest.mark.parametrize("path", COMMITTED, ids=[p.name for p in COMMITTED])
def test_committed_results_round_trip(path: Path, tmp_path: Path) -> None:
    result = load_json(path, KINDS[path.name])
    assert isinstance(result, KINDS[path.name])
    assert to_json(result) == json.loads(path.read_text())
    save_json(tmp_path / path.name, result)
    assert (tmp_path / path.name).read_bytes() == path.read_bytes()  # written as the benchmark wrote it


def test_a_field_whose_default_is_none_is_left_out_while_none() -> None:
    plain = {"engine": "plain", "cpus": 1, "seconds": 2.0, "img_per_s": 0.5}
    result = from_json(RayResult, {"model": "m", "images": 1, "batch": 1, "results": [plain]})
    assert result.results[0].vs_plain is None and result.command is None
    assert to_json(result) == {"model": "m", "images": 1, "batch": 1, "results": [plain]}


def test_a_field_without_a_default_is_written_even_as_none() -> None:
    machine = Machine("cpu", None, 2, None, 1.0, "os", "3.11", {"torch": None}, None)
    assert to_json(machine)["load_average"] is None and to_json(machine)["packages"] == {"torch": None}


def test_a_file_that_does_not_fit_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "ray.json"
    path.write_text(json.dumps({"model": "m", "images": 1, "batch": 1, "results": [], "surprise": 1}))
    with pytest.raises(LivesegError, match=r"ray\.json is not a result this liveseg reads.*surprise"):
        load_json(path, RayResult)
    path.write_text(json.dumps({"model": "m"}))
    with pytest.raises(LivesegError, match=r"ray\.json is not a result"):
        load_json(path, RayResult)
