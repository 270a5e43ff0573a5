"""The Starlette app behind `liveseg serve`: the built web app, the bundles, and a small JSON API.

Routes (docs/ARCHITECTURE.md, "Serving"): `/` and the static assets, `/api/models`, `/models/<id>/<file>`,
`/api/effects`, `/effects/<id>/<file>`, `/healthz`. Every response is cross-origin isolated so that onnxruntime-web
can use WASM threads.
"""

from __future__ import annotations

import html
import os
import socket
from collections.abc import Iterable, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from liveseg import paths
from liveseg.errors import LivesegError
from liveseg.runtime import effects as installed
from liveseg.runtime.bundle import Bundle
from liveseg.runtime.effects import Effect
from liveseg.serve.bundles import Catalogue, EffectShelf, ServedModel, default_bundles, find_bundles
from liveseg.serve.files import Files, is_vite_hashed
from liveseg.serve.middleware import ForeignRanges, HostGuard, IsolationHeaders, PathGuard
from liveseg.serve.settings import ServeSettings

# Binary formats that barely compress; compressing them would also hide Content-Length, which the web app
# uses for download progress.
_NO_GZIP = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/wasm", "application/octet-stream")

_NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>liveseg: web app not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The liveseg web app is not built</h1>
<p>No <code>index.html</code> in <code>{static_dir}</code>. Build it from the repository root with
<code>make web</code> (needs Node.js 20 and npm), then reload this page.</p>
<p>The model API already works: <a href="/api/models">/api/models</a>.</p>
</body></html>
"""


def app_for(settings: ServeSettings) -> tuple[Starlette, list[Bundle]]:
    """`liveseg serve`'s app and its --model bundles: those first, then, unless --only, the default and person
    models and the models folder, watched so that what is pulled while serving is offered too."""
    s = settings
    if s.only and not s.model:
        raise LivesegError("--only serves the --model bundles alone; pass at least one --model.")
    given = find_bundles(s.model)
    bundles = given if s.only else [*given, *default_bundles(taken={b.name for b in given})]
    app = create_app(
        bundles,
        static_dir=paths.STATIC_DIR,
        cors_origins=s.cors or (),
        allowed_hosts=[s.host, *s.allow_host],
        models_dir=None if s.only else paths.models_dir(),
        effects_dir=installed.effects_dir(),
    )
    return app, given


def create_app(
    bundles: Iterable[Bundle],
    static_dir: str | os.PathLike = paths.STATIC_DIR,
    cors_origins: Sequence[str] = (),
    allowed_hosts: Sequence[str] = (),
    effects: Iterable[tuple[Path, Effect]] = (),
    models_dir: Path | None = None,
    effects_dir: Path | None = None,
) -> Starlette:
    """Serve `bundles`, every bundle in `models_dir` (re-read when it changes: see `Catalogue`), the effect models
    `effects` ((folder, effect) pairs) and those in `effects_dir` (re-read likewise: `EffectShelf`) and the web app
    in `static_dir`; `cors_origins` ("*" or exact origins) may fetch them. `app.state.catalogue` holds the models,
    `app.state.effects` the effects, `app.state.models_dir` the folder watched.

    Requests must name the server by an IP address, localhost, this machine's host name or one of
    `allowed_hosts` ("*": any) in their Host header. Every variant file is checked against its sha256 here.
    """
    catalogue = Catalogue(bundles, models_dir)
    shelf = EffectShelf(effects, effects_dir)
    static_dir = Path(static_dir)
    static = Files(static_dir, immutable=is_vite_hashed)

    async def index(request: Request) -> Response:
        if not (static_dir / "index.html").is_file():
            page = _NOT_BUILT_PAGE.format(static_dir=html.escape(str(static_dir)))
            return HTMLResponse(page, status_code=503)
        return await static.get_response("index.html", request.scope)

    async def api_models(request: Request) -> Response:
        models = await run_in_threadpool(catalogue.models)  # a changed folder is re-read: disk I/O and hashing
        return JSONResponse({"models": [_describe(m) for m in models.values()]})

    async def model_file(request: Request) -> Response:
        model = (await run_in_threadpool(catalogue.models)).get(request.path_params["id"])
        name = request.path_params["file"]
        if model is None or name not in model.allowed:
            raise HTTPException(status_code=404)
        return await model.files.get_response(name, request.scope)

    async def api_effects(request: Request) -> Response:
        listed = [
            {"id": name, "url": f"/effects/{name}/{e.file}", "scale": e.scale, "license": e.license, "origin": e.origin}
            for name, (_, e) in (await run_in_threadpool(shelf.effects)).items()
        ]
        return JSONResponse({"effects": listed})

    async def effect_file(request: Request) -> Response:
        found = (await run_in_threadpool(shelf.effects)).get(request.path_params["id"])
        if found is None or request.path_params["file"] != found[1].file:
            raise HTTPException(status_code=404)
        return await found[0].get_response(found[1].file, request.scope)

    async def healthz(request: Request) -> Response:
        models = await run_in_threadpool(catalogue.models)
        return JSONResponse({"status": "ok", "models": list(models), "web_app": (static_dir / "index.html").is_file()})

    routes = [
        Route("/", index),
        Route("/api/models", api_models),
        Route("/models/{id}/{file:path}", model_file),
        Route("/api/effects", api_effects),
        Route("/effects/{id}/{file}", effect_file),
        Route("/healthz", healthz),
        Mount("/", app=static),
    ]
    middleware = [
        Middleware(IsolationHeaders, cross_origin_resources=bool(cors_origins)),
        Middleware(HostGuard, names=["localhost", socket.gethostname(), *allowed_hosts]),
        Middleware(PathGuard),
        Middleware(ForeignRanges),
    ]
    if cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "HEAD", "OPTIONS"],
                allow_headers=["Range", "If-None-Match", "If-Modified-Since", "If-Range", "Cache-Control"],
                expose_headers=["Content-Length", "Content-Range", "Accept-Ranges", "ETag"],
            )
        )
    middleware.append(Middleware(GZipMiddleware, compresslevel=6, exclude_content_types=_NO_GZIP))
    app = Starlette(routes=routes, middleware=middleware)
    app.state.catalogue = catalogue
    app.state.effects = shelf
    app.state.models_dir = models_dir
    return app


def _describe(model: ServedModel) -> dict:
    return {"id": model.id, "url": model.url, "manifest": model.bundle.manifest.to_dict()}
