"""The class map computed in the browser through the module API agrees with the Python runtime's, on every
backend this machine has: WASM, WebGL (SwiftShader GL, the bundle's logits variant) and WebGPU (Chromium's
SwiftShader adapter)."""

from __future__ import annotations

import numpy as np
import pytest

from liveseg.bench.snapshot import when_ready

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

MIN_AGREEMENT = 0.98


def open_module_page(browser, server: str, wait_for_hook):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server}?backend=wasm")
    wait_for_hook(page)
    when_ready(page)
    return context, page


@pytest.mark.parametrize("backend", ["wasm", "webgl"])
def test_class_map_matches_python(
    browser, server, wait_for_hook, segment_in_browser, bundle, parity_image, python_labels, backend: str
) -> None:
    context, page = open_module_page(browser, server, wait_for_hook)
    try:
        ran_on, labels = segment_in_browser(page, bundle, parity_image, backend)
    finally:
        context.close()
    assert ran_on == backend
    assert labels.shape == python_labels.shape
    agreement = float((labels == python_labels).mean())
    print(f"{backend} vs Python pixel agreement: {agreement:.5f}")
    assert agreement >= MIN_AGREEMENT


def test_webgpu_class_map_matches_python(
    gpu_browser, server, wait_for_hook, segment_in_browser, bundle, parity_image, python_labels
) -> None:
    context, page = open_module_page(gpu_browser, server, wait_for_hook)
    try:
        ran_on, labels = segment_in_browser(page, bundle, parity_image, "webgpu")
    finally:
        context.close()
    assert ran_on == "webgpu"
    agreement = float((labels == python_labels).mean())
    print(f"webgpu vs Python pixel agreement: {agreement:.5f}")
    assert agreement >= MIN_AGREEMENT
    assert np.unique(labels).size > 3
