"""File responses with the MIME types, cache policy and conditional/range handling the web app relies on.

Starlette's StaticFiles already resolves real paths (so symlinks cannot leave the served directory), answers
If-None-Match with 304 and Range with 206/416; this subclass adds an explicit MIME table (the system's
/etc/mime.types differs between machines, and a wrong type for .wasm or .mjs breaks the browser), the cache
policy, and precompressed files: the web build writes `NAME.br` and `NAME.gz` beside its outputs
(web/vite.config.ts), sent in place of NAME to a client that accepts that encoding. onnxruntime's 28 MB .wasm is
then 4.6 MB (brotli) or 6.7 MB (gzip) on the wire, compressed once at build time instead of on every request.
"""

from __future__ import annotations

import mimetypes
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# Sibling suffixes of precompressed files, in order of preference (brotli is the smaller).
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))

MEDIA_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".svg": "image/svg+xml",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}

# Vite names emitted files `assets/[name]-[hash][extname]`, the hash being 8 base64url characters. Requiring
# an upper-case letter or a digit keeps unhashed names such as `ort-wasm-simd-threaded.wasm` out.
_VITE_HASHED = re.compile(r"assets/(?:[^/]+/)*[^/]+-(?=[A-Za-z0-9_-]*[A-Z0-9])[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+")


def media_type(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(str(path))[0] or "application/octet-stream"


def is_hidden(relative_path: str) -> bool:
    """True when any component of the path starts with a dot (the Unix convention for hidden files)."""
    return any(part.startswith(".") for part in Path(relative_path).parts)


def accepted_encodings(accept_encoding: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (q > 0); `*` stands for any."""
    accepted: set[str] = set()
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        q = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
        try:
            allowed = float(q) > 0
        except ValueError:
            allowed = False
        if name.strip() and allowed:
            accepted.add(name.strip().lower())
    return accepted


def precompressed(full_path: str, stat_result: os.stat_result, headers: Headers) -> tuple[str, str] | None:
    """(encoding, sibling path) of the precompressed copy of `full_path` to send, if any. Not for Range requests
    (a resumed download keeps counting identity bytes), nor for a sibling older than the file (a stale build)."""
    if "range" in headers:
        return None
    accepted = accepted_encodings(headers.get("accept-encoding", ""))
    for encoding, suffix in PRECOMPRESSED:
        if encoding not in accepted and "*" not in accepted:
            continue
        sibling = full_path + suffix
        try:
            sibling_stat = os.lstat(sibling)  # a link could lead out of the served directory: not followed
        except OSError:
            continue
        if stat.S_ISREG(sibling_stat.st_mode) and sibling_stat.st_mtime >= stat_result.st_mtime:
            return encoding, sibling
    return None


def has_precompressed(full_path: str) -> bool:
    """Whether the response depends on Accept-Encoding (then it says so in Vary)."""
    return any(os.path.isfile(full_path + suffix) for _, suffix in PRECOMPRESSED)


def is_vite_hashed(relative_path: str) -> bool:
    """True for Vite's content-hashed build outputs, which can therefore be cached forever."""
    return _VITE_HASHED.fullmatch(relative_path) is not None


class Files(StaticFiles):
    """Files of one directory; `immutable(relative_path)` says which of them carry a content hash."""

    def __init__(self, directory: str | os.PathLike, immutable: Callable[[str], bool]) -> None:
        # check_dir=False: the web app may be built while the server runs.
        super().__init__(directory=directory, check_dir=False)
        self.root = Path(os.path.realpath(directory))
        self.immutable = immutable

    async def check_config(self) -> None:
        """A missing directory just means 404s (the web app is not built yet), not a crash."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        """Starlette's lookup, minus hidden files: `.git/`, `.env` and the like are never served (404),
        whether asked for by name or reached through a symlink."""
        if is_hidden(path):
            return "", None
        full_path, stat_result = super().lookup_path(path)
        if stat_result is not None and is_hidden(os.path.relpath(os.path.realpath(full_path), self.root)):
            return "", None
        return full_path, stat_result

    def file_response(
        self, full_path: str | os.PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        relative = Path(full_path).relative_to(self.root).as_posix()
        headers = {"cache-control": IMMUTABLE if self.immutable(relative) else NO_CACHE}
        request_headers = Headers(scope=scope)
        send_path, send_stat = full_path, stat_result
        chosen = precompressed(str(full_path), stat_result, request_headers)
        if chosen:
            encoding, send_path = chosen
            send_stat = os.lstat(send_path)
            headers["content-encoding"] = encoding
        if chosen or has_precompressed(str(full_path)):
            headers["vary"] = "Accept-Encoding"
        # The ETag comes from the file sent (its size and mtime), so each encoding has its own.
        response = FileResponse(
            send_path,
            status_code=status_code,
            headers=headers,
            media_type=media_type(full_path),
            stat_result=send_stat,
        )
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        return response
