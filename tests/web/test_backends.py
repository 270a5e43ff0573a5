"""The app on every backend this machine has, `auto` in front of a software GPU, and the two view renderers.

There is no GPU here: WebGPU runs on Chromium's SwiftShader adapter and WebGL on SwiftShader's GL, both on the
CPU at a frame every few seconds, so these tests ask for few frames. They check correctness, not speed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg.bench.snapshot import snapshot, when_ready

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

STREET = {"Road", "Sky", "Building"}
# The renderers blend in different arithmetic (GL floats, the 2D canvas's 8-bit compositing): a level or two per
# channel everywhere, more along class boundaries, where "smooth edges" weighs the overlay by the confidence map
# and each renderer filters that map its own way.
MAX_MEAN_LEVELS = 2.0
FAR_LEVELS = 24
MAX_FAR_SHARE = 0.02  # share of pixels that differ by more than FAR_LEVELS in some channel


@pytest.mark.parametrize("backend", ["webgpu", "webgl"])
def test_app_segments_the_camera_on_a_software_gpu_backend(server, open_gpu_page, wait_stats, backend) -> None:
    page, problems = open_gpu_page(f"{server}?backend={backend}&source=camera&autostart=1")
    ready = when_ready(page)
    assert ready["backend"] == backend, ready["fallbacks"]
    stats = wait_stats(page, lambda s: s["frames"] >= 1, timeout_s=240)
    assert {e["name"] for e in stats["legend"]} >= STREET, stats["legend"]
    assert stats["avg"]["inference"] > 0
    assert problems.errors == []


def test_auto_ranks_a_software_webgpu_adapter_below_wasm(server, open_gpu_page) -> None:
    page, problems = open_gpu_page(f"{server}")
    ready = when_ready(page)
    assert ready["requestedBackend"] == "auto"
    assert ready["backend"] == "wasm"
    (note,) = [f for f in ready["fallbacks"] if f.startswith("webgpu:")]
    assert "runs on the CPU here" in note and "swiftshader" in note.lower()
    assert problems.errors == []


def saved_view(open_page, wait_stats, server: str, renderer: str, image: Path) -> np.ndarray:
    """The app's "Save view" PNG of `image` drawn by `renderer` (WASM labels either way)."""
    page, problems = open_page(f"{server}?backend=wasm&renderer={renderer}&mode=overlay&opacity=0.6")
    ready = when_ready(page)
    page.set_input_files("#source-image", str(image))
    wait_stats(page, lambda s: s["source"] == "image" and s["frames"] >= 1)
    assert snapshot(page)["renderer"] == ("webgl" if renderer == "webgl" else "2d"), ready
    with page.expect_download() as download:
        page.click("#save-view")
    assert problems.errors == []
    return np.asarray(Image.open(download.value.path()).convert("RGB"), dtype=np.int16)


def test_software_and_gpu_renderers_draw_the_same_pixels(server, open_page, wait_stats, val_images) -> None:
    canvas = saved_view(open_page, wait_stats, server, "2d", val_images[0])
    gl = saved_view(open_page, wait_stats, server, "webgl", val_images[0])
    assert canvas.shape == gl.shape == (360, 480, 3)
    diff = np.abs(canvas - gl)
    far = float((diff.max(-1) > FAR_LEVELS).mean())
    print(f"renderers: mean {diff.mean():.2f} levels, {far:.2%} of pixels beyond {FAR_LEVELS}")
    assert diff.mean() <= MAX_MEAN_LEVELS
    assert far <= MAX_FAR_SHARE
    # Not trivially equal: the overlay coloured the frame.
    original = np.asarray(Image.open(val_images[0]).convert("RGB"), dtype=np.int16)
    assert np.abs(canvas - original).mean() > 10
