"""File responses with the MIME types, cache policy and conditional/range handling the web app relies on.

Starlette's StaticFiles already resolves real paths (so symlinks cannot leave the served directory), answers
If-None-Match with 304 and Range with 206/416; this subclass adds an explicit MIME table (the system's
/etc/mime.types differs between machines, and a wrong type for .wasm or .mjs breaks the browser), the cache
policy, precompressed files, and a re-check of the files it was told are verified: a file served with immutable
caching that changes on disk afterwards must not reach a browser, which would keep it forever. The web build
writes `NAME.br` and `NAME.gz` beside its outputs (web/vite.config.ts), sent in place of NAME to a client that
accepts that encoding: onnxruntime's 28 MB .wasm is then 4.6 MB (brotli) or 6.7 MB (gzip) on the wire,
compressed once at build time instead of on every request.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from liveseg.sources import sha256_file

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# Sibling suffixes of precompressed files, in order of preference (brotli is the smaller).
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))

Stamp = tuple[int, int, int]  # a file's size, modification time (ns) and inode: what a change of it changes
_log = logging.getLogger(__name__)

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


def stamp(st: os.stat_result) -> Stamp:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


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
    """Files of one directory; `immutable(relative_path)` says which of them carry a content hash. `verified` maps
    relative paths to (sha256, stamp the file had when that digest was checked): such a file whose stamp differs
    when asked for is hashed again, then served if it still has that digest and refused (409) otherwise."""

    def __init__(
        self,
        directory: str | os.PathLike,
        immutable: Callable[[str], bool],
        verified: Mapping[str, tuple[str, Stamp]] | None = None,
    ) -> None:
        # check_dir=False: the web app may be built while the server runs.
        super().__init__(directory=directory, check_dir=False)
        self.root = Path(os.path.realpath(directory))
        self.immutable = immutable
        self.verified = dict(verified or {})

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
        if stat_result is not None and path in self.verified:
            self._recheck(path, full_path, stat_result)
        return full_path, stat_result

    def _recheck(self, path: str, full_path: str, stat_result: os.stat_result) -> None:
        """Hash `path` again if it changed since it was verified (runs in a worker thread, as lookup_path does).
        The stamp is taken before hashing, so a change during the hash is caught by the next request."""
        sha256, verified = self.verified[path]
        if stamp(stat_result) == verified:
            return
        if sha256_file(Path(full_path)) != sha256:
            _log.warning("not serving %s: it changed on disk after the server verified it", full_path)
            raise HTTPException(
                status_code=409,
                detail=f"{path} changed on disk after the server verified it and no longer matches its manifest's "
                "sha256; re-export or pull the model again, then restart liveseg serve.",
            )
        self.verified[path] = (sha256, stamp(stat_result))

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
