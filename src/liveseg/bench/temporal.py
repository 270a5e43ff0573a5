"""`liveseg bench temporal`: how steady and how right per-frame class maps are on clips whose truth is known for
every frame, with the stabiliser (liveseg.runtime.stabilise) and without.

Clips are made at the model's input size, so the graph sees them unresized and the stabiliser runs where it runs
in the product. A *static* clip is one still repeated under simulated camera noise (sensor noise, an exposure gain
per frame, ±1 px jitter): its truth never changes. A *pan* clip slides a window a few pixels per frame across the
still (zoomed just enough for the travel), with the truth sliding with it and the same noise bar the jitter.

Metrics over a clip (`metrics`): flicker, the share of pixels whose predicted label changes between consecutive
frames where the truth does not; mIoU against the truth (liveseg.evaluate.metrics); VC_8 (VSPW's video consistency),
the share of pixels, among those whose truth is constant over 8 consecutive frames, whose prediction is constant
too, averaged over every window of 8.
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from liveseg.bench.machine import Machine
from liveseg.errors import LivesegError
from liveseg.evaluate.metrics import ConfusionMatrix
from liveseg.runtime import Segmenter
from liveseg.runtime.stabilise import DEFAULT_STRENGTH, State, stabilise

FRAMES = 60
PAN_PX = 2  # pixels the window moves per frame
NOISE_SIGMA = 4.0  # sensor noise, in 0..255 levels
GAIN_SIGMA = 0.03  # exposure flicker: a per-frame gain of 1 ± this
VC_WINDOW = 8


@dataclass(frozen=True)
class Clip:
    """Frames (T×H×W×3 uint8) and their truth (T×H×W uint8; ids outside the classes are ignored)."""

    name: str
    kind: str  # "static" or "pan"
    frames: np.ndarray
    truth: np.ndarray


@dataclass(frozen=True)
class Scores:
    """A method's figures over a clip, or averaged over clips: flicker, mIoU, VC_8."""

    flicker: float
    miou: float
    vc8: float


@dataclass(frozen=True)
class ClipScores(Scores):
    flicker_series: list[float]  # per frame after the first


@dataclass(frozen=True)
class ClipResult:
    model: str
    clip: str
    kind: str
    methods: dict[str, ClipScores]  # by method: METHODS' and the peer's ("mediapipe")


@dataclass(frozen=True)
class Noise:
    sigma: float
    gain_sigma: float
    jitter_px: int


@dataclass(frozen=True)
class PythonCost:
    ms: float  # median per frame of `stabilise`
    size: str


@dataclass(frozen=True)
class BrowserCost:
    ms: float  # median per frame of web/src/lib/stabilise.ts
    size: str
    frames: int
    chromium: str


@dataclass(frozen=True)
class TemporalResult:
    """`liveseg bench temporal`'s temporal.json; `browser_ms` to `command` are the suite's."""

    strength: float
    frames: int
    pan_px: int
    noise: Noise
    clips: list[ClipResult]
    python_ms: PythonCost
    browser_ms: BrowserCost | None = None
    machine: Machine | None = None
    command: str | None = None


@dataclass(frozen=True)
class Group:
    """Per model and clip kind: each method's scores averaged over the clips."""

    model: str
    kind: str
    clips: int
    methods: dict[str, Scores]


def _resize(image: np.ndarray, height: int, width: int, nearest: bool = False) -> np.ndarray:
    mode = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(image).resize((width, height), mode))


def camera_noise(image: np.ndarray, rng: np.random.Generator | None, jitter: bool) -> np.ndarray:
    """One frame of a camera filming `image`: ±1 px jitter (edges repeated), a gain, Gaussian sensor noise; no
    generator: the clean frame."""
    if rng is None:
        return image
    frame: np.ndarray = image.astype(np.float32)
    if jitter:
        dy, dx = rng.integers(-1, 2, size=2)
        padded = np.pad(frame, ((1, 1), (1, 1), (0, 0)), mode="edge")
        frame = padded[1 + dy : 1 + dy + image.shape[0], 1 + dx : 1 + dx + image.shape[1]]
    frame = frame * (1 + rng.normal(0, GAIN_SIGMA)) + rng.normal(0, NOISE_SIGMA, frame.shape)
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def static_clip(name: str, image: np.ndarray, truth: np.ndarray, size: tuple[int, int], seed: int | None) -> Clip:
    """`seed` None: the clean clip (no noise)."""
    h, w = size
    still, label = _resize(image, h, w), _resize(truth, h, w, nearest=True)
    rng = None if seed is None else np.random.default_rng(seed)
    frames = np.stack([camera_noise(still, rng, jitter=True) for _ in range(FRAMES)])
    return Clip(name, "static", frames, np.broadcast_to(label, (FRAMES, h, w)))


def pan_clip(name: str, image: np.ndarray, truth: np.ndarray, size: tuple[int, int], seed: int | None) -> Clip:
    """`seed` None: the clean clip (no noise)."""
    h, w = size
    travel = PAN_PX * (FRAMES - 1)
    big_h, big_w = round(h * (w + travel) / w), w + travel  # zoomed, not stretched
    big, label = _resize(image, big_h, big_w), _resize(truth, big_h, big_w, nearest=True)
    top = (big_h - h) // 2
    rng = None if seed is None else np.random.default_rng(seed)
    windows = [(slice(top, top + h), slice(t * PAN_PX, t * PAN_PX + w)) for t in range(FRAMES)]
    frames = np.stack([camera_noise(big[win], rng, jitter=False) for win in windows])
    return Clip(name, "pan", frames, np.stack([label[win] for win in windows]))


def stabilised(labels: np.ndarray, confidence: np.ndarray, strength: float) -> np.ndarray:
    """The labels of a whole clip (T×H×W) through the stabiliser, frame after frame from a fresh state."""
    state: State | None = None
    out = np.empty_like(labels)
    for t in range(len(labels)):
        state = stabilise(labels[t], confidence[t], state, strength)
        out[t] = state.labels
    return out


def flicker_series(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per frame after the first: the share of pixels whose label changed where the truth did not."""
    steady = truth[1:] == truth[:-1]
    changed = (pred[1:] != pred[:-1]) & steady
    return changed.reshape(len(changed), -1).sum(1) / np.maximum(steady.reshape(len(steady), -1).sum(1), 1)


def video_consistency(pred: np.ndarray, truth: np.ndarray, window: int = VC_WINDOW) -> float:
    """VC_n: among pixels whose truth is constant over n frames, the share whose prediction is too (mean over
    every window of n)."""
    scores = []
    for t in range(len(pred) - window + 1):
        gt, p = truth[t : t + window], pred[t : t + window]
        steady = (gt == gt[0]).all(0)
        scores.append(((p == p[0]).all(0) & steady).sum() / max(steady.sum(), 1))
    return float(np.mean(scores))


def metrics(pred: np.ndarray, truth: np.ndarray, classes: int) -> ClipScores:
    matrix = ConfusionMatrix(classes)
    for gt, p in zip(truth, pred, strict=True):
        matrix.update(gt, p)
    series = flicker_series(pred, truth)
    return ClipScores(
        flicker=float(series.mean()),
        miou=matrix.summary()["miou"],
        vc8=video_consistency(pred, truth),
        flicker_series=[round(float(x), 6) for x in series],
    )


def hysteresis(labels: np.ndarray, confidence: np.ndarray, decay: float = 0.9, margin: float = 0.15) -> np.ndarray:
    """The issue's floor: keep the previous label unless the new one's confidence beats the previous one's decayed
    confidence by `margin`. Benchmarked beside the stabiliser, never used by the product."""
    out = np.empty_like(labels)
    keep, kept = labels[0], confidence[0] / 255.0
    for t in range(len(labels)):
        conf = confidence[t] / 255.0
        switch = (labels[t] == keep) | (conf > decay * kept + margin)
        keep = np.where(switch, labels[t], keep)
        kept = np.where(switch, conf, decay * kept)
        out[t] = keep
    return out


METHODS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "none": lambda labels, confidence: labels,
    "hysteresis": hysteresis,
    "stabiliser": lambda labels, confidence: stabilised(labels, confidence, DEFAULT_STRENGTH),
}


def camvid_clips(size: tuple[int, int], count: int, root: Path | None) -> list[Clip]:
    """Static and pan clips of `count` CamVid val frames spread over the split, with their ground truth."""
    from liveseg.data import get_dataset

    ds = get_dataset("camvid", split="val", root=root)
    clips = []
    for i in np.linspace(0, len(ds) - 1, count).astype(int):
        image, truth = ds[int(i)]
        name = ds.image_path(int(i)).stem
        clips += [static_clip(name, image, truth, size, seed=int(i)), pan_clip(name, image, truth, size, seed=int(i))]
    return clips


def slid_majority(labels: np.ndarray, classes: int) -> np.ndarray:
    """A pan clip's labels (T×H×W) made to move with the scene: each scene point gets the label most frames give
    it, and the windows slide over that again. A model's output is not shift-equivariant, so its labels of clean
    frames change under a pan where the scene does not; truth must not."""
    t, h, w = labels.shape
    votes = np.zeros((classes, h, w + PAN_PX * (t - 1)), np.int32)
    for i in range(t):
        for c in range(classes):
            votes[c, :, i * PAN_PX : i * PAN_PX + w] += labels[i] == c
    scene = votes.argmax(0).astype(np.uint8)
    return np.stack([scene[:, i * PAN_PX : i * PAN_PX + w] for i in range(t)])


def portrait_clips(segmenter: Segmenter) -> list[Clip]:
    """Static and pan clips of the portraits; the truth is the model's own output on the clean frames (on a pan,
    the labels most clean frames give each scene point, sliding with the pan)."""
    from liveseg.bench.photos import portraits

    clips = []
    for k, (name, image) in enumerate(portraits().items()):
        blank = np.zeros(image.shape[:2], np.uint8)
        for make in (static_clip, pan_clip):
            clean = make(name, image, blank, segmenter.variant.size, seed=None)
            noisy = make(name, image, blank, segmenter.variant.size, seed=k)
            truth = run_clip(segmenter, clean.frames)[0]
            if noisy.kind == "pan":
                truth = slid_majority(truth, len(segmenter.classes))
            clips.append(Clip(name, noisy.kind, noisy.frames, truth))
    return clips


def run_clip(segmenter: Segmenter, frames: np.ndarray, batch: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The graph's labels and confidences for every frame (already at the variant's size)."""
    outs = [segmenter.run(frames[i : i + batch]) for i in range(0, len(frames), batch)]
    return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])


def python_cost_ms(labels: np.ndarray, confidence: np.ndarray, repeats: int = 3) -> float:
    """Median ms per frame of `stabilise` in numpy over a clip."""
    times = []
    for _ in range(repeats):
        state = None
        for t in range(len(labels)):
            t0 = time.perf_counter()
            state = stabilise(labels[t], confidence[t], state, DEFAULT_STRENGTH)
            times.append(time.perf_counter() - t0)
    return float(np.median(times[1:]) * 1000)


def evaluate_clip(model: str, clip: Clip, labels: np.ndarray, confidence: np.ndarray, classes: int) -> ClipResult:
    """The clip's metrics with each method."""
    rows = {name: metrics(method(labels, confidence), clip.truth, classes) for name, method in METHODS.items()}
    return ClipResult(model, clip.name, clip.kind, rows)


BROWSER_JS = """
(frames) => {
  const { Stabiliser, DEFAULT_STRENGTH } = window.__stabilise;
  const [h, w, block, pan] = [288, 384, 24, 2];
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 255;
  const sceneW = w + pan * frames;
  const scene = new Uint8Array((h / block) * Math.ceil(sceneW / block)).map(() => rand() % 4);
  const s = new Stabiliser();
  const times = [];
  for (let t = 0; t < frames; t++) {
    const labels = new Uint8Array(h * w), confidence = new Uint8Array(h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x, noisy = rand() < 13;
        const id = scene[Math.floor(y / block) * Math.ceil(sceneW / block) + Math.floor((x + t * pan) / block)];
        labels[i] = noisy ? (id + 1) % 4 : id;
        confidence[i] = noisy ? 128 + (rand() >> 2) : 160 + (rand() % 96);
      }
    }
    const t0 = performance.now();
    s.apply(labels, confidence, w, DEFAULT_STRENGTH);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
"""


def browser_cost_ms(repo: Path, frames: int = 300) -> BrowserCost:
    """Median ms per frame of web/src/lib/stabilise.ts in headless Chromium at 288x384 on a pan (the state moves
    every frame) of a 4-class scene of 24 px blocks, 5% of its pixels flipped with low confidence."""
    from playwright.sync_api import sync_playwright

    from liveseg.bench.browser import CHROMIUM, CHROMIUM_FLAGS

    web = repo / "web"
    node, tsc = shutil.which("node"), web / "node_modules" / "typescript" / "bin" / "tsc"
    if node is None or not tsc.is_file() or not CHROMIUM.is_file():
        raise LivesegError(f"Timing in the browser needs node, web/node_modules and {CHROMIUM}; run `make web`.")
    with tempfile.TemporaryDirectory(prefix="liveseg-temporal-") as tmp:
        flags = ["--outDir", tmp, "--module", "es2022", "--target", "es2022", "--strict", "--skipLibCheck"]
        subprocess.run([node, str(tsc), *flags, "src/lib/stabilise.ts"], cwd=web, check=True, capture_output=True)
        code = (Path(tmp) / "stabilise.js").read_text().replace("export ", "")
    script = f"window.__stabilise = (() => {{ {code}; return {{ Stabiliser, DEFAULT_STRENGTH }}; }})();"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.add_script_tag(content=script)
            ms = page.evaluate(BROWSER_JS, frames)
            version = browser.version
        finally:
            browser.close()
    return BrowserCost(ms, "288x384", frames, version)


MEDIAPIPE_JS = """
async (urls) => (await window.segmentImages(urls)).map((m) => m.data)
"""


@contextmanager
def mediapipe_selfie(size: tuple[int, int]) -> Iterator[Callable[[np.ndarray], np.ndarray]]:
    """MediaPipe's selfie segmentation solution as it ships (web/bench/mediapipe-masks.html in headless Chromium,
    its general 256x256 model): yields a function from a clip's frames to its person labels (mask ≥ 0.5), each
    clip in a fresh page, its frames sent in order, so the solution's own smoothing of consecutive frames is on."""
    from playwright.sync_api import sync_playwright

    from liveseg.bench.browser import CHROMIUM, CHROMIUM_FLAGS, serve

    with serve() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)

        def labels(frames: np.ndarray) -> np.ndarray:
            page = browser.new_page()
            try:
                page.goto(f"{url}bench/mediapipe-masks.html?model=0")
                page.wait_for_function("window.ready === true || window.bench.state === 'error'", timeout=120_000)
                if error := page.evaluate("window.bench.error"):
                    raise LivesegError(f"MediaPipe's solution did not load ({error}); rebuild the web app.")
                masks = page.evaluate(MEDIAPIPE_JS, [_data_url(f) for f in frames])
            finally:
                page.close()
            probability = np.frombuffer(b"".join(base64.b64decode(m) for m in masks), np.uint8)
            return (probability.reshape(len(frames), *size) >= 128).astype(np.uint8)

        try:
            yield labels
        finally:
            browser.close()


def _data_url(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def run_temporal(
    camvid: Segmenter,
    person: Segmenter | None,
    count: int,
    root: Path | None,
    progress: Callable[[int], Callable],
    peer: Callable[[np.ndarray], np.ndarray] | None = None,
) -> TemporalResult:
    """Every clip through its model once, then each method over the same outputs; Python's cost per frame. `peer`
    (a clip's frames → its labels), when given, is measured beside them on the person clips as "mediapipe"."""
    jobs = [(camvid, clip, len(camvid.classes)) for clip in camvid_clips(camvid.variant.size, count, root)]
    if person is not None:
        jobs += [(person, clip, len(person.classes)) for clip in portrait_clips(person)]
    advance = progress(len(jobs))
    rows, costs = [], []
    for segmenter, clip, classes in jobs:
        labels, confidence = run_clip(segmenter, clip.frames)
        row = evaluate_clip(segmenter.bundle.name, clip, labels, confidence, classes)
        if peer is not None and segmenter is person:
            row = replace(row, methods=row.methods | {"mediapipe": metrics(peer(clip.frames), clip.truth, classes)})
        rows.append(row)
        if segmenter is camvid and clip.kind == "static":
            costs.append(python_cost_ms(labels, confidence))
        advance()
    h, w = camvid.variant.size
    return TemporalResult(
        strength=DEFAULT_STRENGTH,
        frames=FRAMES,
        pan_px=PAN_PX,
        noise=Noise(NOISE_SIGMA, GAIN_SIGMA, 1),
        clips=rows,
        python_ms=PythonCost(float(np.median(costs)), f"{h}x{w}"),
    )


def _mean(scores: list[ClipScores]) -> Scores:
    return Scores(
        flicker=float(np.mean([s.flicker for s in scores])),
        miou=float(np.mean([s.miou for s in scores])),
        vc8=float(np.mean([s.vc8 for s in scores])),
    )


def summary(results: TemporalResult) -> list[Group]:
    """Per model and clip kind, each method's metrics averaged over the clips (the methods every clip has)."""
    groups: dict[tuple[str, str], list[ClipResult]] = {}
    for row in results.clips:
        groups.setdefault((row.model, row.kind), []).append(row)
    out = []
    for (model, kind), rows in groups.items():
        methods = [m for m in rows[0].methods if all(m in r.methods for r in rows)]
        out.append(Group(model, kind, len(rows), {m: _mean([r.methods[m] for r in rows]) for m in methods}))
    return out
