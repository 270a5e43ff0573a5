"""`liveseg serve`: the web app and the bundles over HTTP, cross-origin isolated for WASM threads."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from liveseg.cli.options import command
from liveseg.serve.settings import ServeSettings


def serve(settings: ServeSettings) -> None:
    """Serve the web app and the models on http://HOST:PORT/ until Ctrl-C."""
    import webbrowser

    from liveseg import paths
    from liveseg.serve import server
    from liveseg.serve.app import app_for

    s = settings
    app, given = app_for(s)
    console = Console()
    sock = server.bind(s.host, s.port)
    url = server.url_for(s.host, sock)

    for m in app.state.catalogue.models().values():
        where = escape(str(m.bundle.root))
        console.print(f"model [bold]{escape(m.id)}[/] from {where}", highlight=False, soft_wrap=True)
    if (watched := app.state.models_dir) is not None:
        console.print(
            f"models pulled into {escape(str(watched))} are offered as they appear", highlight=False, soft_wrap=True
        )
    for _, e in app.state.effects.effects().values():
        console.print(f"effect model [bold]{escape(e.name)}[/]", highlight=False, soft_wrap=True)
    if not (paths.STATIC_DIR / "index.html").is_file():
        console.print(
            f"[yellow]warning:[/] the web app is not built (no index.html in {escape(str(paths.STATIC_DIR))}); "
            "run `make web`. /api/models and /models/ work meanwhile.",
            highlight=False,
            soft_wrap=True,
        )
    if not server.is_loopback(s.host):
        console.print(
            f"[yellow]warning:[/] listening on {escape(s.host)}, the app and the models are exposed to the network: "
            "anyone who can reach this machine may use them (and browsers allow their camera only on localhost or "
            "HTTPS).",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"liveseg serving at [bold cyan]{escape(url)}[/]  (Ctrl-C to stop)", highlight=False, soft_wrap=True)
    if given and not s.only:  # the page picks a person model for the camera and a street model for files
        for b in given:
            console.print(f"open {escape(b.name)} at {escape(url)}?model={escape(b.name)}", highlight=False)

    on_started = (lambda: webbrowser.open(url)) if s.open_browser else None
    server.run(app, sock, on_started=on_started, header_timeout=s.header_timeout, access_log=s.access_log)
    console.print("stopped", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(command(serve))
