"""`liveseg serve`: the web app and the bundles over HTTP, cross-origin isolated for WASM threads."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from liveseg.errors import LivesegError
from liveseg.limits import DEFAULT_HEADER_TIMEOUT


def serve(
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="Bundle directory, manifest.json, directory of bundles, a pulled model's NAME or 'default', "
            "served besides the default, person and pulled models; repeat to serve several.",
        ),
    ] = None,
    only: Annotated[
        bool,
        typer.Option("--only", help="Serve the --model bundles alone: not the default, person or pulled models."),
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0 picks a free one).")] = 8000,
    cors: Annotated[
        str | None,
        typer.Option(help="Origins that may fetch the models from other sites: '*' or a comma list of origins."),
    ] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the web app in a browser once it is up.")] = False,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            help="A name clients may use in the Host header besides IP addresses, localhost and this machine's "
            "name (DNS-rebinding defence); repeatable, '*' for any (behind a proxy)."
        ),
    ] = None,
    header_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds a client may take to send a request's headers.")
    ] = DEFAULT_HEADER_TIMEOUT,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request (uvicorn's access log) to standard error.")
    ] = False,
) -> None:
    """Serve the web app and the models on http://HOST:PORT/ until Ctrl-C."""
    import webbrowser

    from liveseg import paths
    from liveseg.runtime.effects import effects_dir
    from liveseg.serve import server
    from liveseg.serve.app import create_app, parse_cors
    from liveseg.serve.bundles import default_bundles, find_bundles

    if only and not model:
        raise LivesegError("--only serves the --model bundles alone; pass at least one --model.")
    console = Console()
    given = find_bundles(model or [])
    bundles = given if only else [*given, *default_bundles(taken={b.name for b in given})]
    watched = None if only else paths.models_dir()  # what is pulled while serving is offered too
    hosts = [host, *(allow_host or [])]
    app = create_app(
        bundles,
        static_dir=paths.STATIC_DIR,
        cors_origins=parse_cors(cors),
        allowed_hosts=hosts,
        models_dir=watched,
        effects_dir=effects_dir(),
    )
    sock = server.bind(host, port)
    url = server.url_for(host, sock)

    for m in app.state.catalogue.models().values():
        where = escape(str(m.bundle.root))
        console.print(f"model [bold]{escape(m.id)}[/] from {where}", highlight=False, soft_wrap=True)
    if watched is not None:
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
    if not server.is_loopback(host):
        console.print(
            f"[yellow]warning:[/] listening on {escape(host)}, the app and the models are exposed to the network: "
            "anyone who can reach this machine may use them (and browsers allow their camera only on localhost or "
            "HTTPS).",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"liveseg serving at [bold cyan]{escape(url)}[/]  (Ctrl-C to stop)", highlight=False, soft_wrap=True)
    if given and not only:  # the page picks a person model for the camera and a street model for files
        for b in given:
            console.print(f"open {escape(b.name)} at {escape(url)}?model={escape(b.name)}", highlight=False)

    on_started = (lambda: webbrowser.open(url)) if open_browser else None
    server.run(app, sock, on_started=on_started, header_timeout=header_timeout, access_log=access_log)
    console.print("stopped", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
