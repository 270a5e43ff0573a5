"""A setting declared once: its default as typed, parsed for the dataclass; flags read back; the shared parsers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from liveseg.errors import LivesegError
from liveseg.settings import counts, flagged, option, options, parse_precisions, parse_sizes


@dataclass
class Example:
    threads: list[int] = option("1,2", "Thread counts.", parse=counts("threads"), recipe=True)
    sizes: list[tuple[int, int]] | None = option(None, "Sizes.", parse=parse_sizes)
    pairs: dict = option(None, "KEY=VALUE.", parse=lambda items: dict(i.split("=") for i in items), repeat=True)
    internal: int = option(1, recipe=True)


def test_a_default_written_as_typed_is_parsed_for_each_instance() -> None:
    a, b = Example(), Example()
    assert a.threads == [1, 2] and a.sizes is None and a.pairs == {}
    a.threads.append(3)
    assert b.threads == [1, 2]  # a fresh value each time, never a shared list


def test_options_are_the_fields_with_help_and_flags_read_back() -> None:
    assert [f.name for f in options(Example)] == ["threads", "sizes", "pairs"]
    assert [f.metadata.get("text") for f in options(Example)] == ["1,2", None, None]
    assert flagged(Example, "recipe") == ("threads", "internal")


def test_parsers_say_what_is_wrong() -> None:
    assert parse_sizes("360x480, 180X240") == [(360, 480), (180, 240)]
    assert parse_precisions("fp32, FP16,fp32") == ["fp32", "fp16"]
    with pytest.raises(LivesegError, match="--batch 'x' is not a comma list"):
        counts("batch")("x")
    with pytest.raises(LivesegError, match="--batch needs whole numbers of at least 1"):
        counts("batch")("0,2")
