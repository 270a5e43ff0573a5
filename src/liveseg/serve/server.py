"""Run an ASGI app under uvicorn on a socket we bind ourselves, with a deadline for request headers.

Binding first turns "port in use" into one clear sentence (uvicorn would log and exit 1), lets port 0
pick a free port whose number we can print, and listens before the URL is printed.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from liveseg.errors import LivesegError
from liveseg.limits import DEFAULT_HEADER_TIMEOUT

_ALL_INTERFACES = ("", "0.0.0.0", "::")


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (uvicorn listens on it), or a LivesegError that says what to change."""
    try:
        family, _, _, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise LivesegError(f"Cannot listen on host {host!r} ({exc.strerror}); pass another --host.") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise LivesegError(
                f"Port {port} on {host} is already in use; stop the other server or pass another --port."
            ) from None
        raise LivesegError(f"Cannot listen on {host}:{port} ({exc.strerror}); pass another --host or --port.") from None
    # Listening now, not when uvicorn starts, so that a client told the URL may connect at once: its
    # connection waits in the backlog instead of being refused while the app is still starting.
    sock.listen(2048)
    return sock


def url_for(host: str, sock: socket.socket) -> str:
    """The URL to open: localhost for wildcard binds, brackets for IPv6 literals."""
    port = sock.getsockname()[1]
    shown = "localhost" if host in _ALL_INTERFACES else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


class HeaderDeadline(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for each request's headers.

    uvicorn has none: a client that sends a header byte now and then ("slowloris") holds its connection, and
    a file descriptor, forever. The clock starts when a connection opens or a new request's first bytes
    arrive, and stops once the headers are complete; at the deadline the connection is closed.
    """

    header_timeout = DEFAULT_HEADER_TIMEOUT
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def with_header_timeout(seconds: float) -> type[HeaderDeadline]:
    """The protocol class to give uvicorn (`Config(http=...)`) for a header deadline of `seconds`."""
    return type("HeaderDeadline", (HeaderDeadline,), {"header_timeout": seconds})


def run(
    app: ASGIApp,
    sock: socket.socket,
    on_started: Callable[[], object] | None = None,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    access_log: bool = False,
) -> None:
    """Serve until Ctrl-C or SIGTERM, then shut down gracefully and return normally; `access_log`: uvicorn's
    line per request, while its other messages stay at warnings."""
    config = uvicorn.Config(
        app,
        http=with_header_timeout(header_timeout),
        log_level="warning",
        access_log=access_log,
        lifespan="off",
        timeout_graceful_shutdown=3,
    )
    if access_log:  # the Config set every uvicorn logger to log_level; access lines are logged at info
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    server = uvicorn.Server(config)
    if on_started is not None:
        threading.Thread(target=_when_started, args=(server, on_started), daemon=True).start()
    # uvicorn shuts down gracefully on both signals, then re-raises the signal under the handler it found;
    # making that handler raise KeyboardInterrupt for SIGTERM too gives one quiet exit path with status 0.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()


def _when_started(server: uvicorn.Server, callback: Callable[[], object]) -> None:
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    callback()
