"""Small ASGI middlewares: Host checking, request-path hygiene and the headers every response must carry."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liveseg.serve.files import NO_CACHE


def is_safe_path(path: str) -> bool:
    """Refuse what no browser sends for a real file: dot segments, empty segments, backslashes, NUL.

    The file lookups below are safe on their own (allow-lists and resolved real paths); rejecting these
    shapes up front makes traversal attempts fail loudly with 400 instead of relying on normalisation.
    """
    if not path.startswith("/") or "\\" in path or "\x00" in path:
        return False
    segments = path[1:].split("/")
    # A trailing slash leaves one empty last segment, which is fine ("/models/<id>/").
    return all(s not in ("", ".", "..") for s in segments[:-1]) and segments[-1] not in (".", "..")


class PathGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # scope["path"] is already percent-decoded, so %2e%2e and %2f arrive here as ".." and "/".
        if scope["type"] == "http" and not is_safe_path(scope["path"]):
            await PlainTextResponse("Bad request path.", status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class ForeignRanges:
    """Drop a Range header whose unit is not `bytes`, the one unit served: RFC 9110 (section 14.2) says to ignore
    it and answer with the whole file, where Starlette would answer 400."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            kept = [(k, v) for k, v in headers if k != b"range" or v.partition(b"=")[0].strip().lower() == b"bytes"]
            if len(kept) != len(headers):
                scope = {**scope, "headers": kept}
        await self.app(scope, receive, send)


class IsolationHeaders:
    """Cross-origin isolation (so onnxruntime-web may use WASM threads), nosniff, and a default cache policy.

    Sits outside GZip so it can weaken the ETag of compressed responses: the gzip bytes are a different
    representation, and a strong ETag shared with the identity bytes would let If-Range mix the two.
    """

    def __init__(self, app: ASGIApp, cross_origin_resources: bool) -> None:
        self.app = app
        self.corp = "cross-origin" if cross_origin_resources else "same-origin"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Cross-Origin-Embedder-Policy"] = "require-corp"
                headers["Cross-Origin-Resource-Policy"] = self.corp
                headers["X-Content-Type-Options"] = "nosniff"
                headers.setdefault("Cache-Control", NO_CACHE)
                etag = headers.get("etag")
                if etag and "content-encoding" in headers and not etag.startswith("W/"):
                    headers["ETag"] = "W/" + etag
            await send(message)

        await self.app(scope, receive, send_with_headers)


def host_name(host_header: str) -> str:
    """The name in a Host header, without port, brackets or trailing dot, lower-cased."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rpartition(":")[0].rstrip(".") if ":" in host else host.rstrip(".")


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostGuard:
    """Answer 400 to requests whose Host header names neither an IP address nor one of `names`.

    DNS rebinding points an attacker's domain at 127.0.0.1 so that their page may read a local server; the
    browser then sends that domain as Host. IP addresses cannot be rebound, so they always pass; "*" in
    `names` turns the check off (e.g. behind a proxy that rewrites Host). Requests without Host (HTTP/1.0,
    never a browser) pass too.
    """

    def __init__(self, app: ASGIApp, names: Iterable[str]) -> None:
        self.app = app
        self.names = frozenset(host_name(n) for n in names)

    def allows(self, host_header: str | None) -> bool:
        if host_header is None or "*" in self.names:
            return True
        name = host_name(host_header)
        return name in self.names or is_ip_address(name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.allows(Headers(scope=scope).get("host")):
            response = PlainTextResponse(
                "Unknown Host header: open this server by its address, or start it with --allow-host NAME.",
                status_code=400,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
