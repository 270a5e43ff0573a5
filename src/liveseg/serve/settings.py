"""What `liveseg serve` is asked (`ServeSettings`), declared once for the command and `app.app_for`, and the
parser of --cors. Starlette-free, so that the CLI builds its options without loading the server."""

from __future__ import annotations

import re
from dataclasses import dataclass

from liveseg.errors import LivesegError
from liveseg.limits import DEFAULT_HEADER_TIMEOUT
from liveseg.settings import option

_ORIGIN = re.compile(r"https?://[^/\s,*]+")


def parse_cors(value: str | None) -> list[str]:
    """`--cors` value → origins: "*" or a comma list of exact origins such as https://example.org:8443."""
    if not value or not value.strip():
        return []
    origins = [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
    if origins == ["*"]:
        return origins
    bad = [o for o in origins if not _ORIGIN.fullmatch(o)]
    if bad:
        raise LivesegError(
            f"--cors {bad[0]!r} is not an origin; give '*' or a comma list like "
            "'https://example.org,http://localhost:5173' (scheme, host and optional port, no path)."
        )
    return origins


@dataclass
class ServeSettings:
    model: list[str] = option(
        help="Bundle directory, manifest.json, directory of bundles, a pulled model's NAME or 'default', served "
        "besides the default, person and pulled models; repeat to serve several.",
        repeat=True,
        decls=("--model", "-m"),
    )
    only: bool = option(
        False, "Serve the --model bundles alone: not the default, person or pulled models.", decls=("--only",)
    )
    host: str = option("127.0.0.1", "Interface to listen on (0.0.0.0 for every interface).")
    port: int = option(8000, "TCP port (0 picks a free one).", min=0, max=65535)
    cors: list[str] | None = option(
        None, "Origins that may fetch the models from other sites: '*' or a comma list of origins.", parse=parse_cors
    )
    open_browser: bool = option(False, "Open the web app in a browser once it is up.", decls=("--open",))
    allow_host: list[str] = option(
        help="A name clients may use in the Host header besides IP addresses, localhost and this machine's name "
        "(DNS-rebinding defence); repeatable, '*' for any (behind a proxy).",
        repeat=True,
    )
    header_timeout: float = option(
        DEFAULT_HEADER_TIMEOUT, "Seconds a client may take to send a request's headers.", min=0.1
    )
    access_log: bool = option(
        False, "Log every request (uvicorn's access log) to standard error.", decls=("--access-log",)
    )
