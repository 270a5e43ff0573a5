"""Fixtures for the real-browser tests: a trained bundle, `liveseg serve` on a free port, a fake webcam fed
from CamVid frames, and headless Chromium driven by Playwright.

The bundle is the embedded default (src/liveseg/assets/default/); LIVESEG_TEST_BUNDLE points at another
CamVid-trained bundle directory instead. The web app must be built (`make web`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg import paths
from liveseg.runtime.bundle import Bundle, open_bundle

CHROMIUM = Path("/usr/bin/chromium")
LIVESEG = str(Path(sys.executable).with_name("liveseg"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebGL without a GPU goes through SwiftShader, which Chromium only allows when asked.
    "--enable-unsafe-swiftshader",
]
CAMERA_FRAMES = 6  # distinct CamVid val frames in the fake webcam's loop


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
def bundle() -> Bundle:
    override = os.environ.get("LIVESEG_TEST_BUNDLE")
    root = Path(override) if override else paths.DEFAULT_BUNDLE_DIR
    if not (root / "manifest.json").is_file():
        pytest.fail(
            f"No trained bundle at {root}: the browser tests need the default CamVid bundle "
            "(src/liveseg/assets/default/) or LIVESEG_TEST_BUNDLE set to a CamVid bundle directory."
        )
    return open_bundle(root.absolute())


@pytest.fixture(scope="session")
def server(bundle: Bundle) -> Iterator[str]:
    """`liveseg serve` as users run it, on a free port; yields the base URL (with a trailing slash)."""
    if not (paths.STATIC_DIR / "index.html").is_file():
        pytest.fail(f"The web app is not built ({paths.STATIC_DIR} has no index.html); run `make web`.")
    proc = subprocess.Popen(
        [LIVESEG, "serve", "--model", str(bundle.root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    url = None
    for line in proc.stdout:
        lines.append(line)
        if match := re.search(r"serving at (http://\S+)", line):
            url = match.group(1)
            break
    if url is None:
        proc.wait()
        pytest.fail(f"liveseg serve exited with {proc.returncode}:\n{''.join(lines)}")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> None:
    """Raw 4:2:0 video (limited-range BT.601), the format Chromium's fake capture device plays in a loop."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420mpeg2\n".encode())
        for rgb in frames:
            r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
            y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
            u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
            v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
            f.write(b"FRAME\n")
            for plane, step in ((y, 1), (u, 2), (v, 2)):
                if step == 2:
                    plane = plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
                f.write(np.clip(np.rint(plane), 0, 255).astype(np.uint8).tobytes())


@pytest.fixture(scope="session")
def val_images(camvid_root: Path) -> list[Path]:
    return sorted((camvid_root / "val").iterdir())[:CAMERA_FRAMES]


@pytest.fixture(scope="session")
def webcam(tmp_path_factory: pytest.TempPathFactory, val_images: list[Path]) -> Path:
    """A .y4m of a few CamVid val frames at 480x360 for --use-file-for-fake-video-capture."""
    frames = [np.asarray(Image.open(p).convert("RGB").resize((480, 360))) for p in val_images]
    path = tmp_path_factory.mktemp("webcam") / "camvid.y4m"
    write_y4m(path, frames)
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


@pytest.fixture(scope="module")
def browser(launch, webcam: Path):
    """One Chromium per test module, with a fake webcam that plays CamVid frames and auto-granted access."""
    chromium = launch(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={webcam}",
    )
    try:
        yield chromium
    finally:
        chromium.close()


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


@pytest.fixture
def open_page(browser) -> Iterator[Callable]:
    """`page, problems = open_page(url)`: a fresh page (own context) that is closed after the test."""
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


@pytest.fixture(scope="session")
def wait_stats() -> Callable[..., dict]:
    """`wait_stats(page, "s.frames >= 30")` polls `window.liveseg.stats()` until the JS condition on `s`
    holds, and returns the stats then."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def _wait(page, condition: str, timeout_s: float = 60) -> dict:
        try:
            page.wait_for_function(
                f"() => {{ const s = window.liveseg && window.liveseg.stats(); return s && ({condition}); }}",
                timeout=timeout_s * 1000,
                polling=250,
            )
        except PlaywrightTimeout:
            stats = page.evaluate("window.liveseg && window.liveseg.stats()")
            pytest.fail(f"waited {timeout_s} s for `{condition}`; the page's stats are {stats}")
        return page.evaluate("window.liveseg.stats()")

    return _wait
