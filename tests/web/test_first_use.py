"""The web app as a first-time user meets it (issue 26): keyboard and touch, saving, backend and thread choices,
effect-model errors, the layout at 1280x800, and what the page says before, during and after a source."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg.bench.snapshot import snapshot, when_ready
from liveseg.runtime.io import resize_nearest
from liveseg.runtime.result import SegmentationResult, decode_map

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

FOCUSED_ID = "document.activeElement && document.activeElement.dataset.id"


def test_keyboard_opens_files_and_legend_keeps_focus_on_live_video(server, open_page, bundle, wait_stats) -> None:
    page, problems = open_page(f"{server}?backend=wasm&model={bundle.name}")
    when_ready(page)
    chosen: list[str] = []  # a listener turns on Playwright's file-chooser interception before the first one
    page.on("filechooser", lambda chooser: chosen.append(chooser.element.get_attribute("id")))
    # Tab reaches the file buttons, and Enter opens the file chooser.
    for before, name in (("#start-camera", "Open image or video"), ("#source-camera", "Video")):
        page.focus(before)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == name
        with page.expect_file_chooser():
            page.keyboard.press("Enter")
    assert chosen == ["open-file", "source-video"]

    page.click("#start-camera")
    stats = wait_stats(page, lambda s: s["frames"] >= 2 and len(s["legend"]) >= 3)
    item = page.locator("#legend [data-id]").nth(1)
    item.focus()
    focused = page.evaluate(FOCUSED_ID)
    wait_stats(page, lambda s: s["frames"] >= stats["frames"] + 8)
    assert page.evaluate(FOCUSED_ID) == focused  # the legend was redrawn around it, not rebuilt
    page.keyboard.press("Enter")
    assert "is-hidden" in item.get_attribute("class")
    # Highlighting without Shift/Alt (touch, keyboard): the Hide/Highlight switch.
    page.click("#legend-action [data-action='highlight']")
    item.focus()
    page.keyboard.press(" ")
    classes = item.get_attribute("class")
    assert "is-highlighted" in classes and "is-hidden" not in classes
    assert problems.errors == []


def test_mask_is_saved_at_the_source_size_as_the_cli_writes_it(
    server, open_page, wait_stats, bundle, portrait, segment_in_browser, tmp_path: Path
) -> None:
    """A 512x600 portrait: colours, class ids (`segment --save labels`) and JSON (`--save json`) at 512x600,
    the ids nearest-resized as the Python runtime does, the JSON equal to `SegmentationResult.to_dict()`."""
    path = tmp_path / "portrait.png"
    Image.fromarray(portrait).save(path)
    page, problems = open_page(f"{server}?backend=wasm&precision=fp32&model={bundle.name}")
    when_ready(page)
    page.set_input_files("#source-image", str(path))
    wait_stats(page, lambda s: s["source"] == "image" and s["frames"] >= 1)
    saved = {}
    for form in ("color", "labels", "json"):
        page.select_option("#mask-format", form)
        with page.expect_download() as download:
            page.click("#save-mask")
        saved[form] = Path(download.value.path())

    ids = Image.open(saved["labels"])
    assert ids.mode == "L" and ids.size == (512, 600)
    ids = np.asarray(ids)
    _, model_labels = segment_in_browser(page, bundle, portrait, "wasm")
    assert np.array_equal(ids, resize_nearest(model_labels, 600, 512))
    colours = np.asarray(Image.open(saved["color"]).convert("RGB"))
    assert np.array_equal(colours, SegmentationResult(labels=ids, classes=bundle.classes).palette()[ids])
    written = json.loads(saved["json"].read_text())
    expected = SegmentationResult(labels=ids, classes=bundle.classes).to_dict()
    assert np.array_equal(decode_map(written), ids)
    assert {**written, "segmentationMap": None} == {**expected, "segmentationMap": None}
    assert problems.errors == []


def test_backend_and_thread_choices_say_what_to_expect(server, open_page, wait_stats) -> None:
    """Headless Chromium here has no WebGPU adapter and software (SwiftShader) WebGL."""
    page, problems = open_page(f"{server}?backend=webgpu")
    wait_stats(page, lambda s: s["state"] == "error")
    assert "switch to Auto" in page.locator("#message-text").inner_text()
    assert page.locator("#status-backend").inner_text() == "—"  # nothing runs: no stale "WASM · 2 threads"
    page.click("#message-details summary")
    assert "no adapter" in page.locator("#message-details-text").inner_text()
    page.click("#message-action")
    ready = wait_stats(page, lambda s: s["state"] == "ready")
    assert (ready["requestedBackend"], ready["backend"]) == ("auto", "wasm")
    assert "WASM" in page.locator("#status-backend").inner_text()

    # WebGL on a software renderer: said at the picker, and nothing reloads until the user confirms.
    page.locator("#runtime-section summary").click()
    assert "slow here" in page.locator("#backend option[value='webgl']").inner_text()
    page.select_option("#backend", "webgl")
    assert "runs on the CPU here" in page.locator("#backend-warning").inner_text()
    assert snapshot(page)["requestedBackend"] == "auto"

    cores = page.evaluate("Math.min(32, navigator.hardwareConcurrency)")
    page.fill("#threads", "99")
    page.press("#threads", "Tab")
    assert page.locator("#threads").input_value() == str(cores)
    assert f"set to {cores}" in page.locator("#threads-note").inner_text()
    wait_stats(page, lambda s: s["state"] == "ready" and s["threads"] == cores)
    assert problems.errors == []


def test_a_bad_effect_model_is_one_sentence_with_details(server, open_page, val_images, tmp_path: Path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07" + bytes(range(256)) * 8)
    page, problems = open_page(f"{server}?backend=wasm&effect=model")
    when_ready(page)
    page.set_input_files("#source-image", str(val_images[0]))
    page.set_input_files("#effect-model", str(path))
    note = page.locator("#effect-note")
    note.locator("details").wait_for(state="attached")
    sentence = note.locator("span").inner_text()
    assert sentence.startswith("broken.onnx could not be loaded as an effect model; use an ONNX")
    assert sentence.count(".") == 1 + sentence.count("broken.onnx")  # one sentence
    assert not note.locator("pre").is_visible()  # the runtime's text waits behind Details
    note.locator("summary").click()
    assert "Could not load the image model" in note.locator("pre").inner_text()
    assert problems.errors == []


def test_layout_at_1280x800_keeps_the_stage_and_effects_in_view(server, open_page, wait_stats, val_images) -> None:
    page, problems = open_page(f"{server}?backend=wasm", viewport={"width": 1280, "height": 800})
    when_ready(page)
    page.set_input_files("#source-image", str(val_images[0]))
    wait_stats(page, lambda s: s["frames"] >= 1 and len(s["legend"]) >= 8)
    # the list is redrawn at most every 250 ms (legend.ts), so it may trail the snapshot's entries
    page.wait_for_function("document.querySelectorAll('#legend li').length >= 8")
    rows = page.evaluate("new Set([...document.querySelectorAll('#legend li')].map((li) => li.offsetTop)).size")
    visible = page.evaluate(
        "[...document.querySelectorAll('#legend li')].filter((li) => li.getBoundingClientRect().bottom <= 800).length"
    )
    assert rows >= 2 and visible >= 5, (rows, visible)  # more than one row of the legend shows
    order = page.locator(".panel summary").all_inner_texts()
    assert order.index("Effects") < order.index("Runtime")
    opened = page.evaluate("[...document.querySelectorAll('.panel details')].map((d) => d.open)")
    assert dict(zip(order, opened, strict=True)) == {
        "Source": True,
        "Model": True,
        "Effects": True,
        "Runtime": False,
        "Performance": False,
    }
    assert page.locator("#effect").bounding_box()["y"] < 800  # above the fold
    # Changing an effect low in the panel leaves the stage on screen.
    page.locator("#performance-section summary").click()
    page.locator("#runtime-section summary").click()
    page.select_option("#effect", "blur")
    page.locator("#blur").scroll_into_view_if_needed()
    page.mouse.wheel(0, 2000)
    page.wait_for_function("window.scrollY > 0")
    stage = page.locator("#stage").bounding_box()
    assert stage["y"] >= 0 and stage["y"] + stage["height"] <= 800, stage
    assert problems.errors == []


def _webm(path: Path, images: list[Path]) -> Path:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libvpx", rate=5)
        stream.width, stream.height, stream.pix_fmt = 480, 360, "yuv420p"
        for image in images * 3:
            frame = av.VideoFrame.from_image(Image.open(image).convert("RGB").resize((480, 360)))
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_before_during_and_after_a_video(server, open_page, wait_stats, val_images, tmp_path: Path) -> None:
    page, problems = open_page(f"{server}?backend=wasm")
    when_ready(page)
    assert page.locator("#status-fps").inner_text() == "—"  # not "0.0 fps" before anything ran
    assert "No source" in page.locator("#legend").get_attribute("data-empty")
    page.set_input_files("#source-video", str(_webm(tmp_path / "clip.webm", val_images)))
    stats = wait_stats(page, lambda s: s["source"] == "video" and s["frames"] >= 2)
    assert "Video frames" in page.locator("#stats").text_content()
    assert "Camera frames" not in page.locator("#stats").text_content()
    # Pause, then seek: the frame sought is segmented.
    page.click("#video-play")
    # The label follows the video's pause event, a task after the click: wait for it, do not race it.
    page.wait_for_function("document.getElementById('video-play').textContent === 'Play'", timeout=10_000)
    frames = snapshot(page)["frames"]
    page.evaluate(
        "(() => { const s = document.getElementById('video-seek'); s.value = '0.5';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    wait_stats(page, lambda s: s["frames"] > frames)
    page.click("#source-stop")
    assert page.locator("#placeholder").is_visible()
    assert page.evaluate("getComputedStyle(document.getElementById('view')).visibility") == "hidden"
    assert not page.locator("#video-controls").is_visible()
    assert page.locator("#legend li").count() == 0 and "No source" in page.locator("#legend").get_attribute(
        "data-empty"
    )
    page.wait_for_function("document.getElementById('status-fps').textContent === '—'")
    assert stats["sourceSize"] == [480, 360]
    assert problems.errors == []


def test_phone_layout_names_the_model_and_asks_for_no_keys(server, open_page) -> None:
    page, problems = open_page(
        f"{server}?backend=wasm", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    ready = when_ready(page)
    assert page.locator("#status-model").is_visible()
    assert (
        ready["model"]
        in page.locator("#status-model").get_attribute("title") + page.locator("#status-model").inner_text()
    )
    assert not page.locator("text=Ctrl/⌘ V").is_visible()
    assert problems.errors == []
