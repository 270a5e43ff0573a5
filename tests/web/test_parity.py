"""The class map computed in the browser through the module API agrees with the Python runtime's."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

import liveseg

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

MIN_AGREEMENT = 0.98

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


@pytest.fixture(scope="module")
def variant(bundle):
    return bundle.variant(precision="fp32")


@pytest.fixture(scope="module")
def image(variant, val_images) -> np.ndarray:
    """A CamVid val frame already at the variant's size, so neither side resamples it."""
    im = Image.open(val_images[-1]).convert("RGB").resize((variant.width, variant.height), Image.BILINEAR)
    return np.asarray(im)


@pytest.fixture(scope="module")
def expected(bundle, variant, image) -> np.ndarray:
    return liveseg.load(bundle, precision="fp32", size=variant.size).segment(image).labels


@pytest.fixture(scope="module")
def page(browser, server, wait_for_hook):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server}?backend=wasm")
    wait_for_hook(page)
    page.evaluate("window.liveseg.ready()")
    yield page
    context.close()


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def segment_in_browser(page, bundle, image: np.ndarray, backend: str) -> tuple[str, np.ndarray]:
    png = base64.b64encode(png_bytes(image)).decode("ascii")
    args = {"model": f"/models/{bundle.name}/", "png": png, "backend": backend, "precision": "fp32"}
    out = page.evaluate(SEGMENT_JS, args)
    labels = np.frombuffer(base64.b64decode(out["labels"]), np.uint8).reshape(out["height"], out["width"])
    return out["backend"], labels


def test_wasm_class_map_matches_python(page, bundle, image, expected) -> None:
    backend, labels = segment_in_browser(page, bundle, image, "wasm")
    assert backend == "wasm"
    assert labels.shape == expected.shape
    agreement = float((labels == expected).mean())
    print(f"wasm vs Python pixel agreement: {agreement:.5f}")
    assert agreement >= MIN_AGREEMENT


def test_webgl_class_map_matches_python(page, bundle, image, expected) -> None:
    from playwright.sync_api import Error as PlaywrightError

    try:
        backend, labels = segment_in_browser(page, bundle, image, "webgl")
    except PlaywrightError as exc:
        reason = next((line for line in str(exc).splitlines() if "webgl:" in line), None)
        if reason is None:
            raise
        # onnxruntime-web's WebGL backend lacks operators of the bundle graph (e.g. ArgMax) or WebGL itself.
        pytest.skip(f"the WebGL backend cannot run this bundle here: {reason.strip()}")
    assert backend == "webgl"
    agreement = float((labels == expected).mean())
    print(f"webgl vs Python pixel agreement: {agreement:.5f}")
    assert agreement >= MIN_AGREEMENT
