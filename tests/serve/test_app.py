"""The real app under uvicorn, spoken to over HTTP: routes, headers, caching, ranges, gzip, CORS, traversal."""

from __future__ import annotations

import gzip
import http.client
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from liveseg.runtime.bundle import open_bundle
from liveseg.serve import bundles
from liveseg.serve.app import create_app

ALLOWED = "https://allowed.example"
DISALLOWED = "https://evil.example"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def base_url(site: dict, running) -> Iterator[str]:
    bundles = [open_bundle(site["bundles"] / n) for n in ("tiny", "linked")]
    app = create_app(bundles, static_dir=site["static"], cors_origins=[ALLOWED])
    with running(app) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    # httpx asks for gzip by default; these tests compare identity bytes unless they say otherwise.
    with httpx.Client(base_url=base_url, headers={"Accept-Encoding": "identity"}) as c:
        yield c


@pytest.fixture(scope="module")
def urls(site: dict) -> dict[str, str]:
    return site["urls"]


def url_of(urls: dict[str, str], path: str) -> str:
    """Parametrized cases name fixture files by key; literal paths start with '/'."""
    return path if path.startswith("/") else urls[path]


def raw_get(base_url: str, target: str) -> tuple[int, bytes]:
    """GET a request target exactly as written: httpx would normalise dot segments and encodings away."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_api_models_lists_each_bundle_with_its_manifest(client: httpx.Client, site: dict) -> None:
    r = client.get("/api/models")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    models = r.json()["models"]
    assert [(m["id"], m["url"]) for m in models] == [("tiny", "/models/tiny/"), ("linked", "/models/linked/")]
    assert models[0]["manifest"] == site["manifest"]
    assert models[1]["manifest"] == site["linked"]


def test_healthz_reports_models_and_web_app(client: httpx.Client) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "models": ["tiny", "linked"], "web_app": True}


def test_index_is_the_web_app(client: httpx.Client, site: dict) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.content == (site["static"] / "index.html").read_bytes()
    assert r.headers["content-type"] == "text/html; charset=utf-8"


def test_model_files_listed_in_the_manifest_are_served(client: httpx.Client, site: dict, urls) -> None:
    bundle = site["bundles"] / "tiny"
    assert client.get(urls["variant"]).content == (bundle / site["manifest"]["variants"][0]["file"]).read_bytes()
    assert client.get("/models/tiny/manifest.json").json() == site["manifest"]
    card = client.get("/models/tiny/MODEL_CARD.md")
    assert card.text == (bundle / "MODEL_CARD.md").read_text()
    assert card.headers["content-type"] == "text/markdown; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    ["/models/tiny/notes.txt", "/models/tiny/", "/models/nope/manifest.json", "/models/linked/MODEL_CARD.md"],
)
def test_other_model_paths_are_404(client: httpx.Client, site: dict, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert site["secret_bytes"] not in r.content


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("js", "text/javascript; charset=utf-8"),
        ("mjs", "text/javascript; charset=utf-8"),
        ("map", "application/json"),
        ("wasm", "application/wasm"),
        ("svg", "image/svg+xml"),
        ("variant", "application/octet-stream"),
        ("/models/tiny/manifest.json", "application/json"),
    ],
)
def test_media_types(client: httpx.Client, urls, path: str, media_type: str) -> None:
    r = client.get(url_of(urls, path))
    assert r.status_code == 200
    assert r.headers["content-type"] == media_type
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "cache_control"),
    [
        ("js", IMMUTABLE),
        ("wasm", IMMUTABLE),
        ("variant", IMMUTABLE),
        ("favicon", "no-cache"),  # a public file without a content hash
        ("/", "no-cache"),
        ("/index.html", "no-cache"),
        ("/models/tiny/manifest.json", "no-cache"),
        ("/models/tiny/MODEL_CARD.md", "no-cache"),
        ("/api/models", "no-cache"),
    ],
)
def test_cache_control(client: httpx.Client, urls, path: str, cache_control: str) -> None:
    r = client.get(url_of(urls, path))
    assert r.status_code == 200
    assert r.headers["cache-control"] == cache_control


@pytest.mark.parametrize(
    "path", ["/", "js", "variant", "/api/models", "/healthz", "/models/tiny/manifest.json", "/missing", "/a/../b"]
)
def test_every_response_is_cross_origin_isolated(base_url: str, client: httpx.Client, urls, path: str) -> None:
    url = httpx.URL(base_url).copy_with(raw_path=url_of(urls, path).encode())  # raw: keeps "/a/../b" as is
    r = client.get(url)
    assert r.headers["cross-origin-opener-policy"] == "same-origin"
    assert r.headers["cross-origin-embedder-policy"] == "require-corp"
    # CORS is on for this server, so other (isolated) sites may embed its resources.
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"


def test_range_request_returns_the_requested_bytes(client: httpx.Client, site: dict, urls) -> None:
    data = (site["bundles"] / "tiny" / site["manifest"]["variants"][0]["file"]).read_bytes()
    r = client.get(urls["variant"], headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.content == data[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = client.get(urls["variant"], headers={"Range": "bytes=-16"})
    assert tail.status_code == 206
    assert tail.content == data[-16:]


def test_range_past_the_end_is_416(client: httpx.Client, site: dict, urls) -> None:
    size = site["manifest"]["variants"][0]["bytes"]
    r = client.get(urls["variant"], headers={"Range": f"bytes={size}-{size + 10}"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"


@pytest.mark.parametrize("path", ["variant", "js", "/", "/models/tiny/manifest.json"])
def test_if_none_match_gives_304(client: httpx.Client, urls, path: str) -> None:
    first = client.get(url_of(urls, path))
    etag = first.headers["etag"]
    again = client.get(url_of(urls, path), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert client.get(url_of(urls, path), headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize("path", ["js", "mjs", "/models/tiny/manifest.json", "/api/models"])
def test_text_is_gzipped_with_a_weak_etag(base_url: str, client: httpx.Client, urls, path: str) -> None:
    identity = client.get(url_of(urls, path))
    with httpx.stream("GET", base_url + url_of(urls, path), headers={"Accept-Encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
    assert r.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in r.headers["vary"].lower()
    assert len(raw) < len(identity.content)
    assert gzip.decompress(raw) == identity.content
    if "etag" in identity.headers:
        assert r.headers["etag"] == "W/" + identity.headers["etag"]
        # A browser revalidates with the weak tag it got; that still means "not modified".
        again = httpx.get(base_url + url_of(urls, path), headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304


@pytest.mark.parametrize("path", ["wasm", "variant"])
def test_binaries_are_not_gzipped(base_url: str, urls, path: str) -> None:
    with httpx.stream("GET", base_url + urls[path], headers={"Accept-Encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
    assert "content-encoding" not in r.headers
    assert int(r.headers["content-length"]) == len(raw)


def test_ranges_of_text_are_sent_as_identity_bytes(base_url: str, site: dict, urls) -> None:
    data = (site["static"] / urls["js"].lstrip("/")).read_bytes()
    headers = {"Accept-Encoding": "gzip", "Range": "bytes=0-599"}
    with httpx.stream("GET", base_url + urls["js"], headers=headers) as r:
        raw = b"".join(r.iter_raw())
    assert r.status_code == 206
    assert "content-encoding" not in r.headers
    assert raw == data[:600]


def test_cors_preflight_allowed_origin(client: httpx.Client, urls) -> None:
    r = client.options(
        urls["variant"],
        headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"},
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert "GET" in r.headers["access-control-allow-methods"]
    assert "range" in r.headers["access-control-allow-headers"].lower()
    assert r.headers["cross-origin-embedder-policy"] == "require-corp"


def test_cors_preflight_disallowed_origin(client: httpx.Client, urls) -> None:
    r = client.options(urls["variant"], headers={"Origin": DISALLOWED, "Access-Control-Request-Method": "GET"})
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers


def test_cors_simple_request(client: httpx.Client) -> None:
    allowed = client.get("/api/models", headers={"Origin": ALLOWED})
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "content-range" in allowed.headers["access-control-expose-headers"].lower()
    assert "origin" in allowed.headers["vary"].lower()
    disallowed = client.get("/api/models", headers={"Origin": DISALLOWED})
    assert disallowed.status_code == 200  # the browser, not the server, withholds the body
    assert "access-control-allow-origin" not in disallowed.headers


def test_without_cors_resources_are_same_origin_only(site: dict, running) -> None:
    app = create_app([open_bundle(site["bundles"] / "tiny")], static_dir=site["static"])
    with running(app) as url:
        r = httpx.get(f"{url}/api/models", headers={"Origin": ALLOWED})
    assert r.headers["cross-origin-resource-policy"] == "same-origin"
    assert "access-control-allow-origin" not in r.headers


def test_cors_star_allows_any_origin(site: dict, running) -> None:
    app = create_app([open_bundle(site["bundles"] / "tiny")], static_dir=site["static"], cors_origins=["*"])
    with running(app) as url:
        r = httpx.get(f"{url}/models/tiny/manifest.json", headers={"Origin": DISALLOWED})
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"


def test_unbuilt_web_app_gets_a_503_page_but_models_still_work(site: dict, running, tmp_path) -> None:
    app = create_app([open_bundle(site["bundles"] / "tiny")], static_dir=tmp_path / "static")
    with running(app) as url:
        index = httpx.get(f"{url}/")
        models = httpx.get(f"{url}/api/models")
        manifest = httpx.get(f"{url}/models/tiny/manifest.json")
        health = httpx.get(f"{url}/healthz")
    assert index.status_code == 503
    assert "make web" in index.text
    assert index.headers["content-type"].startswith("text/html")
    assert models.status_code == 200
    assert manifest.status_code == 200
    assert health.json()["web_app"] is False


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/%252e%252e%252fsecret.txt",
        "/%252e%252e/secret.txt",
        "/..%5csecret.txt",
        "/assets\\..\\..\\secret.txt",
        "/%2f{secret}",
        "//{secret}",
        "/{secret}",
        "/models/tiny/..%2f..%2fsecret.txt",
        "/models/tiny/%2e%2e/%2e%2e/secret.txt",
        "/models/tiny/notes.txt",
        "/models/linked/{linked}",  # listed in the manifest, but a symlink to outside the bundle
        "{leak}",  # a symlink in the static directory pointing outside it
    ],
)
def test_traversal_attempts_never_reach_files_outside(base_url: str, site: dict, urls, target: str) -> None:
    target = target.format(
        secret=str(site["secret"]).lstrip("/"), linked=site["linked"]["variants"][0]["file"], leak=urls["leak"]
    )
    status, body = raw_get(base_url, target)
    assert status in (400, 403, 404)
    assert site["secret_bytes"] not in body


def test_head_requests_get_headers_only(client: httpx.Client, urls) -> None:
    r = client.head(urls["variant"])
    assert r.status_code == 200
    assert r.content == b""
    assert int(r.headers["content-length"]) == len(client.get(urls["variant"]).content)


def test_effect_models_are_listed_and_only_their_files_served(site: dict, running, tmp_path, style_onnx) -> None:
    from liveseg.runtime.effects import Effect

    folder = tmp_path / "style-test"
    data = style_onnx(folder / "model.0123abcd.onnx").read_bytes()
    (folder / "notes.txt").write_text("not an effect file")
    effect = Effect("style-test", "model.0123abcd.onnx", "0123abcd" + "0" * 56, len(data), 255, "BSD-3-Clause", "tests")
    effect.dump(folder)
    app = create_app([open_bundle(site["bundles"] / "tiny")], static_dir=site["static"], effects=[(folder, effect)])
    with running(app) as url:
        listed = httpx.get(f"{url}/api/effects").json()["effects"]
        assert listed == [
            {
                "id": "style-test",
                "url": "/effects/style-test/model.0123abcd.onnx",
                "scale": 255,
                "license": "BSD-3-Clause",
                "origin": "tests",
            }
        ]
        served = httpx.get(url + listed[0]["url"])
        assert served.status_code == 200 and served.content == data
        assert served.headers["cache-control"] == IMMUTABLE
        for path in ("/effects/style-test/notes.txt", "/effects/style-test/effect.json", "/effects/other/x.onnx"):
            assert httpx.get(url + path).status_code == 404


def _install(folder: Path, source: Path, name: str, check: Callable[[], None] = lambda: None) -> None:
    """A copy of the bundle `source` named `name`, installed as `liveseg pull` installs one: written in a hidden
    folder (`check` runs then), then renamed into place whole."""
    work = folder / f".{name}.0123abcd.partial"
    shutil.copytree(source, work)
    manifest = json.loads((work / "manifest.json").read_text())
    manifest["name"] = name
    (work / "manifest.json").write_text(json.dumps(manifest))
    check()
    work.rename(folder / name)


def test_models_pulled_while_serving_are_offered_without_a_restart(
    site: dict, running, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder, tiny = tmp_path / "models", site["bundles"] / "tiny"
    folder.mkdir()
    _install(folder, tiny, "pulled-a")
    app = create_app([open_bundle(tiny)], static_dir=site["static"], models_dir=folder)
    verified: list[str] = []  # what the server opened and hashed since it started
    real = bundles.serve_bundle
    monkeypatch.setattr(bundles, "serve_bundle", lambda bundle: verified.append(bundle.name) or real(bundle))
    variant = site["manifest"]["variants"][0]["file"]
    with running(app) as url:

        def ids() -> list[str]:
            return [m["id"] for m in httpx.get(f"{url}/api/models").json()["models"]]

        assert ids() == ids() == ["tiny", "pulled-a"] and verified == []  # an unchanged folder is not re-read
        _install(folder, tiny, "pulled-b", check=lambda: ids() == ["tiny", "pulled-a"] or pytest.fail("half-pulled"))
        assert ids() == ["tiny", "pulled-a", "pulled-b"] and verified == ["pulled-b"]  # only what changed
        assert httpx.get(f"{url}/models/pulled-b/{variant}").status_code == 200
        shutil.rmtree(folder / "pulled-a")
        assert ids() == ["tiny", "pulled-b"] and httpx.get(f"{url}/models/pulled-a/{variant}").status_code == 404
        # One that cannot be served is left out with a warning, and the server goes on.
        with caplog.at_level(logging.WARNING, logger=bundles.__name__):
            _install(folder, tiny, "tiny")
            assert ids() == ["tiny", "pulled-b"] and httpx.get(f"{url}/healthz").json()["models"] == ids()
        assert "both named 'tiny'" in caplog.text


def test_effects_pulled_while_serving_are_offered(site: dict, running, tmp_path, style_onnx) -> None:
    """/api/effects re-reads the effects folder when it changes, as /api/models re-reads the models folder."""
    import shutil

    from liveseg.runtime.effects import Effect

    shelf = tmp_path / "effects"
    app = create_app([open_bundle(site["bundles"] / "tiny")], static_dir=site["static"], effects_dir=shelf)
    with running(app) as url:
        assert httpx.get(f"{url}/api/effects").json()["effects"] == []
        folder = shelf / "style-late"
        data = style_onnx(folder / "model.89abcdef.onnx").read_bytes()
        Effect("style-late", "model.89abcdef.onnx", "89abcdef" + "0" * 56, len(data), 255, "MIT", "tests").dump(folder)
        (shelf / "broken").mkdir()
        (shelf / "broken" / "effect.json").write_text("{")  # unreadable: left out, the server keeps going
        [listed] = httpx.get(f"{url}/api/effects").json()["effects"]
        assert listed["id"] == "style-late" and httpx.get(url + listed["url"]).content == data
        shutil.rmtree(folder)
        assert httpx.get(f"{url}/api/effects").json()["effects"] == []
        assert httpx.get(url + listed["url"]).status_code == 404


def test_a_range_in_an_unknown_unit_is_ignored(client: httpx.Client, site: dict, urls) -> None:
    data = (site["bundles"] / "tiny" / site["manifest"]["variants"][0]["file"]).read_bytes()
    r = client.get(urls["variant"], headers={"Range": "items=0-5"})  # RFC 9110: ignored, the whole file sent
    assert r.status_code == 200 and r.content == data
    assert client.get(urls["variant"], headers={"Range": "Bytes=0-5"}).status_code == 206  # units are case-blind


def test_a_variant_changed_after_start_up_is_checked_again(site: dict, running, tmp_path, caplog) -> None:
    bundle = tmp_path / "tiny"
    shutil.copytree(site["bundles"] / "tiny", bundle)
    variant = bundle / site["manifest"]["variants"][0]["file"]
    original, mtime = variant.read_bytes(), variant.stat().st_mtime_ns
    with running(create_app([open_bundle(bundle)], static_dir=site["static"])) as url:
        file_url = f"{url}/models/tiny/{variant.name}"
        variant.write_bytes(original)  # rewritten with the same bytes: a new mtime, hashed again, still served
        os.utime(variant, ns=(mtime, mtime + 10**9))  # explicit: file systems' clocks tick coarsely
        same = httpx.get(file_url, headers={"Accept-Encoding": "identity"})
        variant.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))  # same size, other content
        os.utime(variant, ns=(mtime, mtime + 2 * 10**9))
        with caplog.at_level(logging.WARNING, logger="liveseg.serve.files"):
            changed = httpx.get(file_url, headers={"Accept-Encoding": "identity"})
    assert same.status_code == 200 and same.content == original and same.headers["cache-control"] == IMMUTABLE
    assert changed.status_code == 409 and "immutable" not in changed.headers.get("cache-control", "")
    assert changed.text.endswith("re-export or pull the model again, then restart liveseg serve.")
    assert "changed on disk after the server verified it" in caplog.text


def test_precompressed_files_are_sent_by_accept_encoding(tmp_path: Path, running) -> None:
    """The build's NAME.br / NAME.gz (web/vite.config.ts) go to clients that accept them, each encoding with its
    own ETag and `Vary: Accept-Encoding`; a Range request and a stale sibling get the identity bytes."""
    wasm = b"\0asm\x01\0\0\0" + bytes(1000) * 40
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>x</title>")
    path = static / "assets" / "ort-D8e9F0a1.wasm"
    path.write_bytes(wasm)
    (static / "assets" / "ort-D8e9F0a1.wasm.gz").write_bytes(gzip.compress(wasm))
    (static / "assets" / "ort-D8e9F0a1.wasm.br").write_bytes(b"brotli bytes")  # only the header matters here
    url = "/assets/ort-D8e9F0a1.wasm"
    with running(create_app([], static_dir=static)) as base:

        def get(**headers: str) -> httpx.Response:
            with httpx.stream("GET", base + url, headers=headers) as r:
                r.raw = b"".join(r.iter_raw())  # type: ignore[attr-defined]
                return r

        plain, gz, br = get(**{"Accept-Encoding": "identity"}), get(**{"Accept-Encoding": "gzip, deflate"}), get()
        best = get(**{"Accept-Encoding": "gzip;q=0.5, br"})
        ranged = get(**{"Accept-Encoding": "gzip, br", "Range": "bytes=0-99"})
        assert "content-encoding" not in plain.headers and plain.raw == wasm
        assert gz.headers["content-encoding"] == "gzip" and gzip.decompress(gz.raw) == wasm
        assert best.headers["content-encoding"] == "br" and best.raw == b"brotli bytes"
        assert br.headers.get("content-encoding") in {"gzip", "br"}  # httpx's default asks for both
        for r in (plain, gz, best):
            assert r.headers["vary"].lower() == "accept-encoding"
            assert r.headers["content-type"] == "application/wasm"
            assert r.headers["cache-control"] == IMMUTABLE
        assert len({plain.headers["etag"], gz.headers["etag"], best.headers["etag"]}) == 3
        assert (
            httpx.get(base + url, headers={"Accept-Encoding": "gzip", "If-None-Match": gz.headers["etag"]}).status_code
            == 304
        )
        assert ranged.status_code == 206 and "content-encoding" not in ranged.headers and ranged.raw == wasm[:100]
        os.utime(path.with_name(path.name + ".gz"), (0, 0))  # older than the file: a stale build's
        os.utime(path.with_name(path.name + ".br"), (0, 0))
        assert "content-encoding" not in get(**{"Accept-Encoding": "gzip, br"}).headers
