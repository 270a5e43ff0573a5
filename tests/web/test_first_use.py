"""The web app as a first-time user meets it (issue 26): keyboard and touch, saving, backend and thread choices,
effect-model errors, the layout at 1280x800, and what the page says before, during and after a source."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

FOCUSED_ID = "document.activeElement && document.activeElement.dataset.id"


def test_keyboard_opens_files_and_legend_keeps_focus_on_live_video(server, open_page, bundle, wait_stats) -> None:
    page, problems = open_page(f"{server}?backend=wasm&model={bundle.name}")
    page.evaluate("window.liveseg.ready()")
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
    stats = wait_stats(page, "s.frames >= 2 && s.legend.length >= 3")
    item = page.locator("#legend [data-id]").nth(1)
    item.focus()
    focused = page.evaluate(FOCUSED_ID)
    wait_stats(page, f"s.frames >= {stats['frames'] + 8}")
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
