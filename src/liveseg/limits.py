"""Limits that keep hostile or accidental inputs from exhausting memory or connections; each is settable.

Kept free of heavy imports so that the CLI can show the defaults in --help without loading numpy or Pillow.
"""

from __future__ import annotations

import os

from liveseg.errors import LivesegError

MAX_PIXELS_ENV = "LIVESEG_MAX_PIXELS"
# An image above this is refused from its header, before decoding: a 64-megapixel photo already takes about
# 1 GB to segment and render, and a tiny file can claim far more (a decompression bomb). Pillow's own limits
# (a warning at 89 MP, an error at 179 MP) are looser and would decode the sizes in between at gigabytes.
DEFAULT_MAX_PIXELS = 64_000_000

# Seconds a client may take to send a request's headers before `liveseg serve` drops the connection
# (slow-header "slowloris" clients would otherwise hold connections open forever).
DEFAULT_HEADER_TIMEOUT = 10.0


def max_image_pixels() -> int:
    """The largest image (width x height) liveseg decodes: LIVESEG_MAX_PIXELS, else DEFAULT_MAX_PIXELS."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    if not text.isdigit() or int(text) < 1:
        raise LivesegError(f"{MAX_PIXELS_ENV}={text!r} is not a positive number of pixels, e.g. 64000000.")
    return int(text)


def above_pixel_limit(height: int, width: int) -> str | None:
    """Why an input of `height`x`width` is refused before anything is allocated, or None when it is within
    `max_image_pixels()`: a network's input tensors at that size would exhaust memory."""
    limit = max_image_pixels()
    if height * width <= limit:
        return None
    return f"{height}x{width} is {height * width:,} pixels, above liveseg's limit of {limit:,} ({MAX_PIXELS_ENV})"
