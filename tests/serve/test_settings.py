"""`liveseg serve`'s --cors: exact origins or "*", anything else refused in one sentence."""

from __future__ import annotations

import pytest

from liveseg.errors import LivesegError
from liveseg.serve.settings import parse_cors


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        (None, []),
        ("*", ["*"]),
        ("https://a.example, http://localhost:5173/", ["https://a.example", "http://localhost:5173"]),
    ],
)
def test_parse_cors(value: str | None, origins: list[str]) -> None:
    assert parse_cors(value) == origins


@pytest.mark.parametrize("value", ["example.org", "https://a.example/path", "ftp://a.example", "*,https://a.example"])
def test_parse_cors_refuses_non_origins(value: str) -> None:
    with pytest.raises(LivesegError, match="not an origin"):
        parse_cors(value)
