"""Fixtures for the real-browser tests: a trained bundle, `liveseg serve` on a free port, a fake webcam fed
from CamVid frames, and headless Chromium driven by Playwright.

The bundle is the embedded default (src/liveseg/assets/default/); LIVESEG_TEST_BUNDLE points at another
CamVid-trained bundle directory instead. The web app must be built (`make web`).
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import liveseg
from liveseg import paths
from liveseg.bench.browser import CHROMIUM, CHROMIUM_FLAGS, WEBGPU_FLAGS, serve
from liveseg.bench.photos import portraits
from liveseg.bench.snapshot import Snapshot, snapshot
from liveseg.bench.y4m import camvid_webcam, write_y4m
from liveseg.runtime.bundle import Bundle, open_bundle

CAMERA_FRAMES = 6  # distinct CamVid val frames in the fake webcam's loop
STATS_POLL_MS = 250


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.is_file():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (CI installs Debian's chromium package)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def artifacts(repo_root: Path) -> Path:
    """Screenshots go to artifacts/web/ at the repository root (git-ignored)."""
    path = repo_root / "artifacts" / "web"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def bundle(bundle_dir: Path) -> Bundle:
    return open_bundle(bundle_dir)


@pytest.fixture(scope="session")
def server(bundle: Bundle) -> Iterator[str]:
    """`liveseg serve` as users run it, on a free port; yields the base URL (with a trailing slash)."""
    with serve(bundle) as url:
        yield url


@pytest.fixture(scope="session")
def val_images(camvid_root: Path) -> list[Path]:
    return sorted((camvid_root / "val").iterdir())[:CAMERA_FRAMES]


@pytest.fixture(scope="session")
def webcam(tmp_path_factory: pytest.TempPathFactory, val_images: list[Path]) -> Path:
    """A .y4m of a few CamVid val frames at 480x360 for --use-file-for-fake-video-capture."""
    return camvid_webcam(val_images, tmp_path_factory.mktemp("webcam") / "camvid.y4m")


@pytest.fixture(scope="session")
def person_bundle() -> Path:
    """The bundled person model (MediaPipe selfie segmentation, converted by the set-up step: background, person),
    which `liveseg serve` lists beside the embedded default."""
    path = paths.BUNDLED_DIR / "person-selfie"
    assert (path / "manifest.json").is_file(), "the person models are missing: run python hatch_build.py (set-up)"
    return path


@pytest.fixture(scope="session")
def portrait() -> np.ndarray:
    """matplotlib's public-domain photo of Grace Hopper (600x512 RGB): a person in front of a flag."""
    return portraits()["hopper"]


@pytest.fixture(scope="session")
def portrait_webcam(tmp_path_factory: pytest.TempPathFactory, portrait: np.ndarray) -> Path:
    """A fake webcam that shows the portrait (one frame, looped)."""
    path = tmp_path_factory.mktemp("webcam") / "portrait.y4m"
    write_y4m(path, [portrait])
    return path


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def launch(playwright) -> Callable:
    """`launch(*extra_flags)`: headless Debian Chromium with the flags every test needs; the caller closes it."""
    return lambda *flags: playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_FLAGS, *flags])


def _with_webcam(launch, webcam: Path, *flags: str) -> Iterator:
    """A Chromium with `flags`, a fake webcam that plays CamVid frames and auto-granted access; closed after."""
    chromium = launch(
        *flags,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={webcam}",
    )
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def browser(launch, webcam: Path):
    """One Chromium per test module with the fake webcam."""
    yield from _with_webcam(launch, webcam)


class PageProblems:
    """Uncaught exceptions and console errors of a page; a test ends by asserting there were none."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))


def _wait_for_hook(page) -> None:
    """Fail with the page's problems when the app's script never set `window.liveseg` (e.g. a broken build)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function("() => window.liveseg !== undefined", timeout=30_000)
    except PlaywrightTimeout:
        pytest.fail(f"{page.url} never set window.liveseg; its HTML starts: {page.content()[:300]!r}")


@pytest.fixture(scope="session")
def wait_for_hook() -> Callable[..., None]:
    return _wait_for_hook


@pytest.fixture(scope="module")
def gpu_browser(launch, webcam: Path):
    """Chromium that also has a WebGPU adapter, on SwiftShader (the CPU), and the same fake webcam."""
    yield from _with_webcam(launch, webcam, *WEBGPU_FLAGS)


def _opener(browser) -> Iterator[Callable]:
    contexts = []

    def _open(url: str, **context_options):
        context = browser.new_context(**context_options)
        contexts.append(context)
        page = context.new_page()
        problems = PageProblems(page)
        page.goto(url)
        _wait_for_hook(page)
        return page, problems

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def open_page(browser) -> Iterator[Callable]:
    """`page, problems = open_page(url)`: a fresh page (own context) that is closed after the test."""
    yield from _opener(browser)


@pytest.fixture(scope="module")
def portrait_browser(launch, portrait_webcam: Path):
    """Chromium whose fake webcam shows the portrait."""
    yield from _with_webcam(launch, portrait_webcam)


@pytest.fixture
def open_portrait_page(portrait_browser) -> Iterator[Callable]:
    """`open_page` in the Chromium whose webcam shows the portrait."""
    yield from _opener(portrait_browser)


@pytest.fixture
def open_gpu_page(gpu_browser) -> Iterator[Callable]:
    """`open_page` in the Chromium with a (software) WebGPU adapter."""
    yield from _opener(gpu_browser)


# Runs in the page: segment a PNG with a fresh segmenter on `backend`; class ids come back base64-encoded.
SEGMENT_JS = """
async ({ model, png, backend, precision }) => {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const segmenter = await window.liveseg.createSegmenter({ model, backend, precision });
  try {
    const result = await segmenter.segment(new Blob([bytes], { type: "image/png" }));
    let text = "";
    for (let i = 0; i < result.labels.length; i += 8192) {
      text += String.fromCharCode(...result.labels.subarray(i, i + 8192));
    }
    return { backend: segmenter.backend, width: result.width, height: result.height, labels: btoa(text) };
  } finally {
    segmenter.close();
  }
}
"""


def _segment_in_browser(page, bundle: Bundle, image: np.ndarray, backend: str) -> tuple[str, np.ndarray]:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    args = {"model": f"/models/{bundle.name}/", "png": png, "backend": backend, "precision": "fp32"}
    out = page.evaluate(SEGMENT_JS, args)
    labels = np.frombuffer(base64.b64decode(out["labels"]), np.uint8).reshape(out["height"], out["width"])
    return out["backend"], labels


@pytest.fixture(scope="session")
def segment_in_browser() -> Callable[..., tuple[str, np.ndarray]]:
    """`backend, labels = segment_in_browser(page, bundle, image, backend)` through the page's module API."""
    return _segment_in_browser


@pytest.fixture(scope="session")
def parity_image(bundle: Bundle, val_images: list[Path]) -> np.ndarray:
    """A CamVid val frame already at the default variant's size, so neither side resamples it."""
    variant = bundle.variant(precision="fp32")
    im = Image.open(val_images[-1]).convert("RGB").resize((variant.width, variant.height), Image.BILINEAR)
    return np.asarray(im)


@pytest.fixture(scope="session")
def python_labels(bundle: Bundle, parity_image: np.ndarray) -> np.ndarray:
    """What the Python runtime computes for `parity_image`."""
    return (
        liveseg.load(bundle, precision="fp32", size=bundle.variant(precision="fp32").size).segment(parity_image).labels
    )


@pytest.fixture(scope="session")
def wait_stats() -> Callable[..., Snapshot]:
    """`wait_stats(page, lambda s: s["frames"] >= 30)` polls the app's snapshot until the condition on it holds,
    and returns the snapshot then."""

    def _wait(page, done: Callable[[Snapshot], bool], timeout_s: float = 60) -> Snapshot:
        deadline = time.monotonic() + timeout_s
        while not done(stats := snapshot(page)):
            if time.monotonic() > deadline:
                pytest.fail(f"waited {timeout_s} s; the page's stats are {stats}")
            page.wait_for_timeout(STATS_POLL_MS)
        return stats

    return _wait
