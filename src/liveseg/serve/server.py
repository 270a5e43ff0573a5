"""Run an ASGI app under uvicorn on a socket we bind ourselves.

Binding first turns "port in use" into one clear sentence (uvicorn would log and exit 1), and lets port 0
pick a free port whose number we can print.
"""

from __future__ import annotations

import errno
import signal
import socket
import threading
import time
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from liveseg.errors import LivesegError

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


def run(app: ASGIApp, sock: socket.socket, on_started: Callable[[], None] | None = None) -> None:
    """Serve until Ctrl-C or SIGTERM, then shut down gracefully and return normally."""
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=3)
    )
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


def _when_started(server: uvicorn.Server, callback: Callable[[], None]) -> None:
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    callback()
