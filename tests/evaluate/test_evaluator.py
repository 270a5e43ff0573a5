"""`liveseg eval`'s settings: test-time scales are positive numbers, anything else one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveseg.errors import LivesegError
from liveseg.evaluate.evaluator import EvalSettings, parse_scales


def test_scales_are_a_list_of_positive_numbers() -> None:
    assert parse_scales("0.75, 1.0,1.25") == (0.75, 1.0, 1.25)
    for bad in ("", "a,1", "1,-1", "0"):
        with pytest.raises(LivesegError, match="is not a list of positive numbers"):
            parse_scales(bad)


def test_defaults_are_parsed_from_the_text_the_command_line_shows() -> None:
    settings = EvalSettings(model=Path("default"))
    assert settings.scales == (1.0,) and settings.window is None and settings.device == "auto"
