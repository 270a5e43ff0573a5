"""Which static files count as content-hashed (cached forever) and which MIME types they get."""

from __future__ import annotations

import pytest

from liveseg.serve.files import is_vite_hashed, media_type


@pytest.mark.parametrize(
    "path",
    [
        "assets/index-Bq3xZ9a1.js",
        "assets/ort-wasm-simd-threaded.jsep-D8e9F0a1.wasm",
        "assets/index-a_b-C9d1.css",
        "assets/workers/segment-worker-0a1b2c3d.js",
    ],
)
def test_vite_hashed_names(path: str) -> None:
    assert is_vite_hashed(path)


@pytest.mark.parametrize(
    "path",
    [
        "index.html",
        "favicon-Bq3xZ9a1.svg",  # outside assets/: a public file copied verbatim
        "assets/ort-wasm-simd-threaded.wasm",
        "assets/ort-wasm-simd-threaded.jsep.mjs",
        "assets/onnxruntime-threaded.wasm",  # "threaded" looks like a hash but is all lower case
        "assets/index-Bq3xZ9a1",
    ],
)
def test_unhashed_names(path: str) -> None:
    assert not is_vite_hashed(path)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.wasm", "application/wasm"),
        ("a.onnx", "application/octet-stream"),
        ("a.mjs", "text/javascript"),
        ("a.JS", "text/javascript"),
        ("a.js.map", "application/json"),
        ("a.svg", "image/svg+xml"),
        ("a.unknown-extension", "application/octet-stream"),
    ],
)
def test_media_type(path: str, expected: str) -> None:
    assert media_type(path) == expected
