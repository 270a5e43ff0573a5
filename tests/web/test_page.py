"""The web app in headless Chromium: a fake webcam of CamVid frames, image upload, precision switch, backend
fallback, the image-model effect hook, saving, and a clear message for a bad model id."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg.bench.snapshot import snapshot, when_ready

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

BACKEND_LABELS = {"wasm": "WASM", "webgl": "WebGL", "webgpu": "WebGPU"}


def test_fake_webcam_is_segmented_live_after_falling_back_from_webgpu(
    server, open_page, wait_stats, artifacts: Path
) -> None:
    page, problems = open_page(f"{server}?source=camera&autostart=1", viewport={"width": 1400, "height": 950})
    ready = when_ready(page)
    # Headless Chromium has no WebGPU adapter here and its WebGL is SwiftShader (software, ranked below WASM):
    # `auto` must end on WASM and say in the UI what it passed over.
    assert ready["requestedBackend"] == "auto"
    assert ready["backend"] == "wasm"
    assert any(f.startswith("webgpu:") for f in ready["fallbacks"])
    assert page.locator("#active-backend").text_content().startswith(BACKEND_LABELS[ready["backend"]])
    assert BACKEND_LABELS[ready["backend"]] in page.locator("#status-backend").inner_text()
    assert "passed over: webgpu" in page.locator("#fallback-note").text_content()
    # No GPU here: the view draws on a 2D canvas, not through software WebGL.
    assert ready["renderer"] == "2d"

    stats = wait_stats(page, lambda s: s["frames"] >= 30, timeout_s=120)
    assert stats["source"] == "camera"
    assert stats["sourceSize"] == [480, 360]
    names = {entry["name"] for entry in stats["legend"]}
    assert {"Road", "Sky", "Building"} <= names, stats["legend"]
    legend = page.locator("#legend").inner_text()
    assert all(name in legend for name in ("Road", "Sky", "Building"))
    avg = stats["avg"]
    assert avg["inference"] > 0 and avg["total"] >= avg["inference"] and avg["render"] > 0
    assert stats["fps"] > 0

    later = wait_stats(page, lambda s: s["frames"] > stats["frames"])
    assert later["avg"] != stats["avg"] or later["fps"] != stats["fps"]
    assert "Inference" in page.locator("#stats").text_content()

    shot = artifacts / "camera.png"
    page.screenshot(path=shot)
    print(f"screenshot: {shot}")
    assert problems.errors == []


def test_image_upload_precision_switch_and_mask_download(
    server, open_page, wait_stats, bundle, val_images: list[Path], artifacts: Path
) -> None:
    assert len(bundle.precisions) >= 2, f"{bundle.root} needs two precisions to test switching"
    page, problems = open_page(f"{server}?backend=wasm")
    first = when_ready(page)
    assert first["backend"] == "wasm" and first["fallbacks"] == []

    page.set_input_files("#source-image", str(val_images[0]))
    stats = wait_stats(page, lambda s: s["source"] == "image" and s["frames"] >= 1)
    assert stats["sourceSize"] == [480, 360]
    assert {"Road", "Building"} <= {e["name"] for e in stats["legend"]}
    page.click("#mode button[data-mode='side']")
    page.wait_for_function("document.getElementById('view').width === 2 * 480")
    page.click("#mode button[data-mode='overlay']")

    options = page.locator("#precision option").all_inner_texts()
    assert len(options) == len(bundle.precisions) and all(" MB" in o for o in options), options
    for other in [p for p in bundle.precisions if p != first["precision"]]:
        page.select_option("#precision", other)
        switched = wait_stats(
            page, lambda s, p=other: s["state"] == "ready" and s["precision"] == p and s["frames"] >= 1
        )
        assert other in page.locator("#status-model").inner_text()
        assert switched["legend"][0]["name"] == stats["legend"][0]["name"]

    # Clicking a legend entry hides that class, in the view and in the saved mask (transparent there).
    top = switched["legend"][0]
    page.click(f"#legend [data-id='{top['id']}']")
    assert "is-hidden" in page.locator(f"#legend [data-id='{top['id']}']").get_attribute("class")
    with page.expect_download() as download:
        page.click("#save-mask")
    mask = np.asarray(Image.open(download.value.path()).convert("RGBA"))
    assert mask.shape[:2] == (360, 480)  # the source's size, not the model's
    visible = mask[mask[..., 3] == 255][:, :3]
    colours = {tuple(c) for c in visible}
    assert colours <= {tuple(c["color"]) for c in bundle.classes if c["id"] != top["id"]}
    assert (mask[..., 3] == 0).mean() == pytest.approx(top["share"], abs=0.01)
    page.screenshot(path=artifacts / "image.png")
    assert problems.errors == []


def test_image_model_effect_is_blended_through_the_mask(
    server, open_page, wait_stats, val_images: list[Path], tmp_path: Path
) -> None:
    """The hook for any image-to-image ONNX model: here a colour inversion, float NCHW 0..1 in and out."""
    import onnx
    from onnx import TensorProto, helper

    shape = ["N", 3, "H", "W"]
    graph = helper.make_graph(
        [helper.make_node("Sub", ["one", "image"], ["styled"])],
        "invert",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("styled", TensorProto.FLOAT, shape)],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])],
    )
    # IR version 8 (ONNX 1.12): onnxruntime-web reads only IR versions up to its own release's.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    path = tmp_path / "invert.onnx"
    path.write_bytes(model.SerializeToString())

    page, problems = open_page(f"{server}?backend=wasm&effect=model&opacity=0")
    when_ready(page)
    page.set_input_files("#source-image", str(val_images[0]))
    wait_stats(page, lambda s: s["frames"] >= 1)
    page.set_input_files("#effect-model", str(path))
    stats = wait_stats(page, lambda s: s["effectMs"] is not None and s["frames"] >= 2)
    assert stats["effectMs"] > 0
    assert "NCHW-float" in page.locator("#effect-note").inner_text()
    assert problems.errors == []


def test_unknown_model_id_shows_a_clear_message(server, open_page, wait_stats) -> None:
    page, problems = open_page(f"{server}?model=no-such-model")
    stats = wait_stats(page, lambda s: s["state"] == "error", timeout_s=20)
    message = page.locator("#message")
    assert message.is_visible()
    assert 'no model "no-such-model"' in message.inner_text()
    assert stats["error"] == page.locator("#message-text").inner_text()
    assert problems.errors == []


def test_video_file_is_segmented(server, open_page, wait_stats, val_images: list[Path], tmp_path: Path) -> None:
    import av

    path = tmp_path / "camvid.webm"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libvpx", rate=15)
        stream.width, stream.height, stream.pix_fmt = 480, 360, "yuv420p"
        for image in val_images * 2:
            frame = av.VideoFrame.from_image(Image.open(image).convert("RGB").resize((480, 360)))
            container.mux(stream.encode(frame))
        container.mux(stream.encode())

    page, problems = open_page(f"{server}?backend=wasm")
    when_ready(page)
    page.set_input_files("#source-video", str(path))
    stats = wait_stats(page, lambda s: s["source"] == "video" and s["frames"] >= 3)
    assert stats["sourceSize"] == [480, 360]
    assert "Road" in {e["name"] for e in stats["legend"]}
    assert problems.errors == []


def test_denied_camera_shows_a_clear_message(server, launch, wait_stats) -> None:
    """Without the fake UI that grants access, Playwright's context denies the camera as a user would."""
    chromium = launch("--use-fake-device-for-media-stream")
    try:
        page = chromium.new_page()
        page.goto(f"{server}?backend=wasm&source=camera&autostart=1")
        page.locator("#message").wait_for(state="visible", timeout=30_000)
        assert "Camera access was denied" in page.locator("#message-text").inner_text()
        assert wait_stats(page, lambda s: s["state"] == "ready")["source"] is None
    finally:
        chromium.close()


def test_the_model_list_is_read_again_when_the_picker_is_opened(server, open_page) -> None:
    """A model pulled while the page is open appears when the user opens the picker, without a reload."""
    import json

    page, problems = open_page(f"{server}?backend=wasm")
    running = when_ready(page)["model"]
    listed = page.evaluate("fetch('api/models').then((r) => r.json())")
    pulled = {**listed["models"][0], "id": "just-pulled"}
    body = json.dumps({"models": [*listed["models"], pulled]})
    page.route("**/api/models", lambda route: route.fulfill(body=body, content_type="application/json"))
    page.click("#model")
    page.wait_for_function("[...document.querySelectorAll('#model option')].some((o) => o.value === 'just-pulled')")
    page.keyboard.press("Escape")
    stats = snapshot(page)
    assert stats["model"] == running and stats["state"] == "ready"  # listed, not loaded
    assert page.locator("#model").input_value() == running
    assert problems.errors == []
