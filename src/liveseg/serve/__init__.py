"""`liveseg serve`: the built web app, the bundles and a small JSON API over HTTP (torch-free).

See docs/ARCHITECTURE.md ("Serving") for the routes.
"""

from liveseg.serve.app import create_app

__all__ = ["create_app"]
