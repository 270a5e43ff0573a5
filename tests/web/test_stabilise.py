"""The stabiliser in the browser: on by default for the fake webcam, off for an image, and its toggle changes
nothing but itself; through the module API, `segment()` stays stateless and `segmentForVideo` follows `reset()`."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg.bench.snapshot import when_ready

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

# Figures that move with every frame; everything else in `stats()` must stay as it was when the toggle flips.
LIVE = {"frames", "sourceFrames", "dropped", "fps", "avg", "stages", "legend", "memory", "stabilise", "effectMs"}


def _settled(stats: dict) -> dict:
    return {k: v for k, v in stats.items() if k not in LIVE}


def test_on_for_the_camera_off_for_an_image_and_the_toggle_changes_nothing_else(
    server, open_page, wait_stats, val_images: list[Path]
) -> None:
    page, problems = open_page(f"{server}?source=camera&autostart=1&backend=wasm")
    when_ready(page)
    on = wait_stats(page, lambda s: s["source"] == "camera" and s["frames"] >= 5)
    assert on["stabilise"]["on"] and on["stabilise"]["strength"] == 0.75
    assert on["stabilise"]["ms"] > 0

    page.click("#runtime-section > summary")  # the Runtime panel starts collapsed
    page.click("#stabilise")
    off = wait_stats(page, lambda s: not s["stabilise"]["on"] and s["frames"] >= on["frames"] + 5)
    assert not off["stabilise"]["on"] and off["stabilise"]["strength"] == 0
    assert _settled(off) == _settled(on)
    page.click("#stabilise")
    again = wait_stats(page, lambda s: s["stabilise"]["on"] and s["frames"] >= off["frames"] + 3)
    assert _settled(again) == _settled(on)

    page.set_input_files("#source-image", str(val_images[0]))
    image = wait_stats(page, lambda s: s["source"] == "image" and s["frames"] >= 1)
    assert image["stabilise"] == {"on": False, "strength": 0, "ms": 0}
    assert page.locator("#stabilise").is_disabled()
    assert problems.errors == []


# Runs in the page: one image as three video frames and as a still, with and without the stabiliser.
MODULE_JS = """
async ({ model, png }) => {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const image = () => createImageBitmap(new Blob([bytes], { type: "image/png" }));
  const segmenter = await window.liveseg.createSegmenter({ model, backend: "wasm" });
  try {
    const still = (await segmenter.segment(await image())).labels.slice();
    const first = await segmenter.segmentForVideo(await image(), 10);
    const second = await segmenter.segmentForVideo(await image(), 20);
    const stale = await segmenter.segmentForVideo(await image(), 5).then(() => "", (e) => e.message);
    segmenter.reset();
    segmenter.setOptions({ stabilise: false });
    const plain = await segmenter.segmentForVideo(await image(), 5);
    const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
    let bad = "";
    try { segmenter.setOptions({ stabilise: 2 }); } catch (e) { bad = e.message; }
    return {
      strength: segmenter.stabilise,
      firstIsStill: same(first.labels, still),
      plainIsStill: same(plain.labels, still),
      timed: [first, second, plain].every((r) => r.timings.stabilise >= 0 && r.timings.stabilise <= r.timings.total),
      stale,
      bad,
    };
  } finally {
    segmenter.close();
  }
}
"""


def test_segment_for_video_is_stateful_and_reset_starts_a_new_stream(
    server, open_page, bundle, parity_image: np.ndarray
) -> None:
    buf = io.BytesIO()
    Image.fromarray(parity_image).save(buf, format="PNG")
    page, problems = open_page(f"{server}?backend=wasm")
    args = {"model": f"/models/{bundle.name}/", "png": base64.b64encode(buf.getvalue()).decode("ascii")}
    out = page.evaluate(MODULE_JS, args)
    assert out["strength"] == 0
    assert out["firstIsStill"] and out["plainIsStill"] and out["timed"]
    assert "is not after the previous frame's" in out["stale"]
    assert "is not between 0 (off) and 1" in out["bad"]
    assert problems.errors == []
