"""Two small ASGI middlewares: request-path hygiene and the headers every response must carry."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
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
