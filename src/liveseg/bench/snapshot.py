"""The web app's snapshot, what `window.liveseg.stats()` returns and `ready()` resolves to (web/README.md), typed
once for both languages: the JSON Schema docs/snapshot.schema.json is derived from these types
(`liveseg.runtime.schema`) and the app's `Snapshot` type, web/src/app/snapshot-schema.ts, is generated from it;
tests/test_contracts.py keeps both files current. The benchmarks and the browser tests read the page through
`snapshot` and `when_ready`, so a field renamed in the app fails the TypeScript build or mypy here, not a benchmark's
figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypedDict

from liveseg.runtime import schema
from liveseg.runtime.manifest import Length, Precision

if TYPE_CHECKING:
    from playwright.sync_api import Page

State = Literal["idle", "loading", "ready", "error"]
BackendChoice = Literal["auto", "webgpu", "webgl", "wasm"]  # web/src/lib/options.ts's BACKEND_CHOICES
# The app's per-frame pipeline stages, in order (web/src/app/stats.ts's STAGES, held to these by
# tests/vectors/names.json).
Stage = Literal["capture", "transfer", "preprocess", "inference", "readback", "render", "idle"]


class Averages(TypedDict):
    """Means over the last 20 segmented frames, in ms: preprocess, inference, readback and total measured in the
    worker, render the view's draw on the page, latency from capturing the frame to drawing it."""

    preprocess: float
    inference: float
    readback: float
    render: float
    total: float
    latency: float


class Stabilise(TypedDict):
    """The stabiliser of camera and video frames: on, its strength (0 when off), median ms per frame."""

    on: bool
    strength: float
    ms: float


class LegendEntry(TypedDict):
    id: int
    name: str
    share: float  # of the frame's pixels, 0..1


class Memory(TypedDict):
    """In MB, null where the browser has no API: jsHeapMB is the page's JS heap (Chrome's performance.memory),
    totalMB everything of the page incl. workers and the WASM heap (measureUserAgentSpecificMemory), workersMB the
    workers' share of it (onnxruntime and its WASM heap)."""

    jsHeapMB: float | None
    totalMB: float | None
    workersMB: float | None


class Snapshot(TypedDict):
    """What `window.liveseg.stats()` returns (see web/README.md)."""

    version: str
    state: State
    error: str | None
    model: str | None
    dataset: str | None
    precision: Precision | None
    size: str | None  # "HxW"
    backend: str | None
    requestedBackend: BackendChoice
    modelPicked: bool  # picked by the user (or the URL), not by the app's rules (web/src/app/choice.ts)
    effect: str
    overlayOpacity: float  # the class overlay's, 0 while an effect is on
    fallbacks: list[str]
    threads: int | None
    loadMs: float | None
    crossOriginIsolated: bool
    renderer: str | None  # the view's: "webgl" or "2d"
    glRenderer: str | None  # the WebGL renderer string the view's renderer was chosen by
    source: str | None
    sourceSize: Annotated[list[int], Length(2)] | None  # width, height
    frames: int  # segmented frames
    sourceFrames: int  # results from a camera or video frame other than the previous result's
    dropped: int  # frames dropped while one was in flight
    fps: float  # segmented frames per second over the last 20 frames
    avg: Averages
    stages: dict[Stage, float]  # median ms per stage over the last 60 frames
    effectMs: float | None  # the last image-model run, when that effect is on
    stabilise: Stabilise
    legend: list[LegendEntry]
    memory: Memory


def json_schema() -> dict[str, Any]:
    """The snapshot's JSON Schema (docs/snapshot.schema.json)."""
    return schema.json_schema(Snapshot, "liveseg app snapshot")


def snapshot(page: Page) -> Snapshot:
    """The app's snapshot now."""
    return page.evaluate("window.liveseg.stats()")


def when_ready(page: Page) -> Snapshot:
    """The app's snapshot once its model is loaded; the page's error, if it fails, raises Playwright's Error."""
    return page.evaluate("window.liveseg.ready()")
