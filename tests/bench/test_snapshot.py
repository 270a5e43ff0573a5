"""The snapshot's JSON Schema refuses what its types forbid, and the benchmarks' poll reads it (tests/test_contracts.py
keeps the schema file and the web app's `Snapshot` type current; tests/web/test_snapshot.py validates the live app's
snapshots against the schema)."""

from __future__ import annotations

from typing import get_args

import pytest

from liveseg.bench.browser import app_state
from liveseg.bench.snapshot import Stage, json_schema

# A snapshot as the app reports it on the fake webcam.
SNAPSHOT = {
    "version": "0.1.0",
    "state": "ready",
    "error": None,
    "model": "camvid-default",
    "dataset": "camvid",
    "precision": "fp32",
    "size": "360x480",
    "backend": "wasm",
    "requestedBackend": "auto",
    "modelPicked": False,
    "effect": "none",
    "overlayOpacity": 0.6,
    "fallbacks": ["webgpu: no adapter"],
    "threads": 2,
    "loadMs": 1900.5,
    "crossOriginIsolated": True,
    "renderer": "2d",
    "glRenderer": None,
    "source": "camera",
    "sourceSize": [480, 360],
    "frames": 30,
    "sourceFrames": 28,
    "dropped": 4,
    "fps": 4.2,
    "avg": {"preprocess": 1, "inference": 200, "readback": 0.5, "render": 3, "total": 202, "latency": 240},
    "stages": dict.fromkeys(get_args(Stage), 1.5),
    "effectMs": None,
    "stabilise": {"on": True, "strength": 0.75, "ms": 0.4},
    "legend": [{"id": 3, "name": "Road", "share": 0.31}],
    "memory": {"jsHeapMB": 3.1, "totalMB": None, "workersMB": None},
}


def test_the_schema_catches_what_the_types_forbid() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())
    validator.validate(SNAPSHOT)
    missing = dict(SNAPSHOT)
    del missing["sourceFrames"]
    stages = dict.fromkeys(["capture", "inference"], 1.0)
    broken = [
        missing,
        SNAPSHOT | {"state": "running"},
        SNAPSHOT | {"sourceSize": [480]},
        SNAPSHOT | {"stages": stages},
        SNAPSHOT | {"stages": SNAPSHOT["stages"] | {"postprocess": 1.0}},
        SNAPSHOT | {"memory": {"jsHeapMB": 3.1}},
        SNAPSHOT | {"legend": [{"id": 3, "name": "Road"}]},
    ]
    for snapshot in broken:
        assert not validator.is_valid(snapshot), snapshot


def test_the_benchmarks_poll_counts_distinct_frames_from_the_snapshot() -> None:
    """`count` is `sourceFrames`, or every result for an app that does not report them; no snapshot is loading."""
    base = {"now": 1000.0, "camera": None}
    assert app_state(base | {"snapshot": SNAPSHOT}) == base | {
        "state": "ready",
        "error": None,
        "count": 28,
        "results": 30,
        "counted": True,
    }
    older = {k: v for k, v in SNAPSHOT.items() if k != "sourceFrames"}
    assert app_state(base | {"snapshot": older})["count"] == 30
    assert app_state(base | {"snapshot": None})["state"] == "loading"
