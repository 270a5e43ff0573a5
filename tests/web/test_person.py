"""The person-first camera in headless Chromium: a fake webcam showing a portrait, the person model chosen by
itself with the background blurred; effects not painted over by class colours; the effect mask's edge a smooth
probability (measured as the width of its 0.1-0.9 band); the street-model note that switches in one click."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

import liveseg
from liveseg.bench.browser import serve
from liveseg.bench.snapshot import snapshot, when_ready
from liveseg.runtime.bundle import open_bundle

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

PERSON = 1  # the person class id of a person bundle (background 0)


@pytest.fixture(scope="module")
def person_server(person_bundle: Path) -> Iterator[str]:
    """`liveseg serve` as `make serve` runs it: the embedded default and the bundled person models."""
    with serve() as url:
        yield url


@pytest.fixture(scope="module")
def person_name(person_bundle: Path) -> str:
    return open_bundle(person_bundle).name


@pytest.fixture(scope="module")
def portrait_png(tmp_path_factory: pytest.TempPathFactory, portrait: np.ndarray) -> Path:
    path = tmp_path_factory.mktemp("portrait") / "portrait.png"
    Image.fromarray(portrait).save(path)
    return path


def _save_view(page) -> np.ndarray:
    """The view as the user saves it ("Save view"): RGB, at the frame's resolution."""
    with page.expect_download() as download:
        page.click("#save-view")
    return np.asarray(Image.open(download.value.path()).convert("RGB")).astype(np.int16)


def _core(mask: np.ndarray, margin: int = 7) -> np.ndarray:
    """`mask` shrunk by `margin` pixels: the region the model is sure of, away from any boundary."""
    image = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MinFilter(2 * margin + 1))
    return np.asarray(image) > 0


def _person_labels(bundle: Path, image: np.ndarray) -> np.ndarray:
    """What the Python runtime finds in `image` (the same model as the page's)."""
    return liveseg.load(open_bundle(bundle), precision="fp32").segment(np.ascontiguousarray(image[..., :3])).labels


def _halves(view: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Side by side: the raw frame on the left, the segmented view on the right."""
    w = view.shape[1] // 2
    return view[:, :w], view[:, w:]


def test_the_camera_gets_the_person_model_and_a_blurred_background_by_itself(
    person_server, open_portrait_page, wait_stats, person_bundle: Path, person_name: str, artifacts: Path
) -> None:
    page, problems = open_portrait_page(person_server, viewport={"width": 1280, "height": 900})
    assert page.locator("#scene-start").is_visible()  # People / Street scenes on the start screen
    page.click("#start-camera")
    stats = wait_stats(
        page,
        lambda s: s["state"] == "ready" and s["source"] == "camera" and s["model"] == person_name and s["frames"] >= 3,
        timeout_s=120,
    )
    assert not stats["modelPicked"]
    assert stats["effect"] == "blur" and stats["overlayOpacity"] == 0
    shares = {e["name"]: e["share"] for e in stats["legend"]}
    assert shares.get("person", 0) >= 0.3, stats["legend"]
    page.wait_for_function("document.querySelector('#legend').innerText.includes('person')")  # redrawn every 250 ms
    assert page.locator("#guidance").is_hidden()
    page.screenshot(path=artifacts / "person-camera.png")

    page.click("#mode button[data-mode='side']")
    wait_stats(page, lambda s: s["frames"] >= stats["frames"] + 2)
    raw, shown = _halves(_save_view(page))
    labels = _person_labels(person_bundle, raw.astype(np.uint8))
    diff = np.abs(shown - raw).mean(axis=2)
    person, background = diff[_core(labels == PERSON)], diff[_core(labels != PERSON)]
    assert person.size > 0.2 * diff.size and background.size > 0.05 * diff.size
    print(f"mean |view - frame|: person {person.mean():.2f}, background {background.mean():.2f}")
    assert person.mean() < 3, "the person is not shown as the camera sees them"
    assert background.mean() > 4 * person.mean() + 5, "the background is not blurred"
    assert problems.errors == []


def test_an_effect_is_not_painted_over_by_the_class_colours(
    person_server, open_portrait_page, wait_stats, person_bundle: Path, person_name: str, portrait_png: Path
) -> None:
    page, problems = open_portrait_page(f"{person_server}?model={person_name}&backend=wasm&mode=side")
    when_ready(page)
    page.set_input_files("#source-image", str(portrait_png))
    wait_stats(page, lambda s: s["source"] == "image" and s["frames"] >= 1)
    page.select_option("#effect", "none")
    raw, coloured = _halves(_save_view(page))
    labels = _person_labels(person_bundle, raw.astype(np.uint8))
    background = _core(labels != PERSON)
    assert np.abs(coloured - raw).mean(axis=2)[background].mean() > 15  # the class colours, at 60%
    assert page.locator("#opacity").is_enabled()

    page.select_option("#effect", "recolor")
    raw, shown = _halves(_save_view(page))
    diff = np.abs(shown - raw).mean(axis=2)
    assert diff[background].mean() < 1, "class colours are painted over the effect"
    assert diff[_core(labels == PERSON)].mean() > 10, "the person is not recoloured"
    assert page.locator("#opacity").is_disabled()
    assert page.locator("#opacity-value").inner_text() == "off"
    assert snapshot(page)["overlayOpacity"] == 0
    note = page.locator("#guidance")  # a person model on a file: say it is a foreground model for selfie scenes
    assert note.is_visible() and "selfies and video calls" in note.inner_text()
    assert problems.errors == []


def _alpha(page) -> np.ndarray:
    """The effect's mask as the user sees it: "replace background: colour" rendered over black and over white;
    view = colour × (1 − α) + frame × α, so α = 1 − (white − black) / 255 whatever the frame."""
    views = []
    for colour in ("#000000", "#ffffff"):
        page.locator("#effect-color").fill(colour)
        views.append(_save_view(page))
    return 1 - (views[1] - views[0]).mean(axis=2) / 255


def _band_width(alpha: np.ndarray) -> float:
    """Mean width in pixels of the 0.1-0.9 band: its area over the length of the 0.5 contour. The length is
    estimated from the contour's row and column crossings (π/4 of their count for curves of any direction)."""
    inside = alpha >= 0.5
    crossings = np.count_nonzero(inside[:, 1:] != inside[:, :-1]) + np.count_nonzero(inside[1:] != inside[:-1])
    band = np.count_nonzero((alpha > 0.1) & (alpha < 0.9))
    return band / (crossings * np.pi / 4)


@pytest.mark.parametrize("renderer", ["2d", "webgl"])
def test_the_mask_edge_is_the_upsampled_probability(
    renderer: str, person_server, open_portrait_page, wait_stats, person_name: str, portrait_png: Path, artifacts: Path
) -> None:
    url = f"{person_server}?model={person_name}&backend=wasm&effect=color&renderer={renderer}"
    page, problems = open_portrait_page(url)
    assert when_ready(page)["renderer"] == renderer
    page.set_input_files("#source-image", str(portrait_png))
    wait_stats(page, lambda s: s["source"] == "image" and s["frames"] >= 1)
    smooth = _alpha(page)
    page.uncheck("#smooth")
    hard = _alpha(page)
    Image.fromarray(np.uint8(np.clip(smooth, 0, 1) * 255)).save(artifacts / f"person-alpha-{renderer}.png")
    widths = {"probability, bilinear": _band_width(smooth), "labels, nearest": _band_width(hard)}
    print(f"{renderer}: 0.1-0.9 band width in px: {widths}")
    assert 0.3 < smooth.mean() < 0.8  # a person-sized mask
    assert widths["labels, nearest"] < 0.5  # hard steps
    assert widths["probability, bilinear"] > 1.5
    assert problems.errors == []


def test_a_street_model_on_the_camera_says_so_and_switches_in_one_click(
    person_server, open_portrait_page, wait_stats, person_name: str, artifacts: Path
) -> None:
    page, problems = open_portrait_page(person_server, viewport={"width": 390, "height": 844}, is_mobile=True)
    page.click("#scene-start button[data-scene='street']")  # the user's own choice, remembered
    page.click("#start-camera")
    wait_stats(
        page,
        lambda s: s["state"] == "ready" and s["source"] == "camera" and s["model"] is not None and s["frames"] >= 1,
    )
    stats = snapshot(page)
    assert stats["model"] != person_name and stats["modelPicked"]
    note = page.locator("#guidance")
    assert note.is_visible() and "person model" in note.inner_text()
    box = note.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.locator("#guidance").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "street-guidance-phone.png")
    page.click("#guidance-use")
    wait_stats(page, lambda s: s["state"] == "ready" and s["model"] == person_name and s["frames"] >= 1, timeout_s=120)
    assert note.is_hidden()
    assert page.evaluate("localStorage.getItem('liveseg.model')") == person_name
    assert problems.errors == []
