"""Request paths that never name a real file are refused before any lookup."""

from __future__ import annotations

import pytest

from liveseg.serve.middleware import is_safe_path


@pytest.mark.parametrize("path", ["/", "/index.html", "/assets/index-Bq3xZ9a1.js", "/models/tiny/", "/a/b.c/d"])
def test_safe_paths(path: str) -> None:
    assert is_safe_path(path)


@pytest.mark.parametrize(
    "path", ["", "a", "/..", "/../x", "/a/../x", "/a/./x", "/a/.", "//etc/passwd", "/a//b", "/a\\b", "/a\x00b"]
)
def test_unsafe_paths(path: str) -> None:
    assert not is_safe_path(path)
