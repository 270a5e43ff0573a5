"""The live app's snapshots follow docs/snapshot.schema.json (liveseg.bench.snapshot's types, which the benchmarks
and these tests read the page by): loading, on the fake webcam, on an image, and in the error state."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveseg.bench.snapshot import json_schema, snapshot, when_ready

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft202012Validator(json_schema())


def test_the_apps_snapshots_follow_the_schema(server, open_page, wait_stats, validator, val_images: list[Path]) -> None:
    page, problems = open_page(f"{server}?source=camera&autostart=1&backend=wasm")
    seen = [snapshot(page), when_ready(page), wait_stats(page, lambda s: s["frames"] >= 2 and len(s["legend"]) > 0)]
    page.set_input_files("#source-image", str(val_images[0]))
    seen.append(wait_stats(page, lambda s: s["source"] == "image" and s["frames"] >= 1))
    for stats in seen:
        validator.validate(stats)
    assert seen[-2]["source"] == "camera" and seen[-2]["sourceSize"] == [480, 360]
    assert problems.errors == []


def test_the_error_snapshot_follows_the_schema(server, open_page, wait_stats, validator) -> None:
    page, problems = open_page(f"{server}?model=no-such-model")
    stats = wait_stats(page, lambda s: s["state"] == "error", timeout_s=20)
    validator.validate(stats)
    assert stats["error"]
    assert problems.errors == []
