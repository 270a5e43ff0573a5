"""`liveseg serve`: the built web app, the bundles and a small JSON API over HTTP (torch-free).

See docs/ARCHITECTURE.md ("Serving") for the routes.
"""

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """`create_app` (Starlette and the server) on first use: the CLI reads `settings.ServeSettings` without them."""
    if name == "create_app":
        from liveseg.serve.app import create_app

        return create_app
    raise AttributeError(f"module 'liveseg.serve' has no attribute {name!r}")
