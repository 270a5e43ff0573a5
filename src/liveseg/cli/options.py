"""Parsing shared by several sub-commands."""

from __future__ import annotations

import re

from liveseg.errors import LivesegError


def parse_size(text: str) -> tuple[int, int]:
    """'360x480' → (360, 480): height first, as everywhere in liveseg."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or int(m[1]) < 16 or int(m[2]) < 16:
        raise LivesegError(f"Size {text!r} is not HEIGHTxWIDTH with both at least 16, e.g. 360x480.")
    return int(m[1]), int(m[2])


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """'360x480,180x240' → [(360, 480), (180, 240)]."""
    return [parse_size(part) for part in text.split(",") if part.strip()]
