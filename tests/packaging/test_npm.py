"""The npm package: `npm run pack:lib` packs the module API (web/src/lib) with its workers, declarations and
onnxruntime-web's WebAssembly runtime. A page of its own (page/, not the app) installed next to the packed module
type-checks against it and, served by a plain static server with COOP/COEP, segments a CamVid val image in headless
Chromium through segment, segmentForVideo, masks at the input's size, recycle and close, agreeing with the Python
runtime; then from a logits file's bytes, with confidence masks and onnxruntime's files from another folder
(`wasmPaths`). So does a Vite build of the same page."""

from __future__ import annotations

import base64
import functools
import json
import re
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

import liveseg
from liveseg.bench.browser import CHROMIUM, CHROMIUM_FLAGS
from liveseg.runtime.bundle import Bundle, open_bundle
from liveseg.runtime.io import resize_nearest

MIN_AGREEMENT = 0.98
PAGE = Path(__file__).parent / "page"
THREADS = 2  # the page asks for two: onnxruntime-web's pthread workers must load from the package too
WASM_FILES = ("ort-wasm-simd-threaded.jsep.wasm", "ort-wasm-simd-threaded.jsep.mjs")


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, (
        f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    )
    return proc


def npm() -> str:
    path = shutil.which("npm")
    if path is None:
        pytest.fail("npm is missing; install Node.js 20+ and npm (scripts/setup.sh needs them for the web build too).")
    return path


def test_npm_version_is_the_python_version(repo_root: Path) -> None:
    manifest = json.loads((repo_root / "web" / "package" / "package.json").read_text())
    assert manifest["version"] == liveseg.__version__, "bump web/package/package.json with src/liveseg/__init__.py"


@pytest.fixture(scope="module")
def tarball(repo_root: Path) -> Path:
    """`npm run pack:lib`: the library build, its declarations and `npm pack` of web/package/."""
    web = repo_root / "web"
    run([npm(), "run", "--silent", "pack:lib"], web)
    return web / "package" / f"liveseg-{liveseg.__version__}.tgz"


@pytest.fixture(scope="module")
def site(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A web developer's project: the page, and the packed module installed with npm as users install it."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(PAGE, site, dirs_exist_ok=True)
    (site / "package.json").write_text(json.dumps({"name": "page", "private": True, "type": "module"}))
    run([npm(), "install", "--no-audit", "--no-fund", "--offline", str(tarball)], site)
    return site


@pytest.mark.slow
def test_packed_files(tarball: Path) -> None:
    with tarfile.open(tarball) as tar:
        names = {m.name.removeprefix("package/") for m in tar.getmembers()}
        manifest = json.load(tar.extractfile("package/package.json"))
    wanted = {"liveseg.js", "liveseg.d.ts", "worker.js", "ort-wasm-simd-threaded.jsep.wasm"}
    wanted |= {"liveseg.js.map", "worker.js.map", "image-model-worker.js.map"}
    assert {f"dist/{n}" for n in wanted} | {"package.json", "README.md"} <= names
    assert all(n.startswith("dist/") or n in ("package.json", "README.md") for n in names)
    assert manifest["exports"]["."]["types"] == "./dist/liveseg.d.ts"
    assert manifest["engines"]["node"] and manifest["repository"]["directory"] == "web/package"


def test_a_copy_prebundled_by_vites_dev_server_says_what_to_add(repo_root: Path, tmp_path: Path) -> None:
    """Vite's dev server moves pre-bundled dependencies to node_modules/.vite/deps/, away from the workers."""
    web = repo_root / "web"
    tsc = web / "node_modules" / "typescript" / "bin" / "tsc"
    flags = ["--outDir", str(tmp_path), "--module", "commonjs", "--target", "es2022", "--strict"]
    run(["node", str(tsc), *flags, "src/lib/prebundled.ts"], web)
    probe = f"""const {{ refusePrebundled }} = require({json.dumps(str(tmp_path / "prebundled.js"))});
refusePrebundled("http://localhost:5173/node_modules/liveseg/dist/liveseg.js");
try {{ refusePrebundled("http://localhost:5173/node_modules/.vite/deps/liveseg.js?v=0a1b2c3d"); }}
catch (error) {{ console.log(error.message); }}"""
    said = run(["node", "-e", probe], tmp_path).stdout.strip()
    assert said.startswith("Vite's dev server pre-bundled liveseg") and 'exclude: ["liveseg"]' in said


@pytest.mark.slow
def test_page_resolves_and_type_checks_against_the_package(site: Path, repo_root: Path) -> None:
    resolved = run(["node", "--input-type=module", "-e", "console.log(import.meta.resolve('liveseg'))"], site).stdout
    imports = json.loads(
        re.search(r'<script type="importmap">(.*?)</script>', (site / "index.html").read_text(), re.S)[1]
    )
    assert Path(urlsplit(resolved.strip()).path) == (site / imports["imports"]["liveseg"]).resolve()
    tsc = repo_root / "web" / "node_modules" / ".bin" / "tsc"
    flags = ["--noEmit", "--allowJs", "--checkJs", "--strict", "--target", "es2022", "--module", "esnext"]
    flags += ["--moduleResolution", "bundler", "--lib", "es2023,dom,dom.iterable", "main.js"]
    run([str(tsc), *flags], site)


class IsolatedFiles(SimpleHTTPRequestHandler):
    """A plain static file server with what the module needs: COOP/COEP (threads) and JavaScript/wasm types."""

    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
    }

    def end_headers(self) -> None:
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture(scope="module")
def bundle(bundle_dir: Path) -> Bundle:
    return open_bundle(bundle_dir)


@pytest.fixture(scope="module")
def big(camvid_root: Path) -> np.ndarray:
    """A CamVid val frame at its own size (480x360), which is not the model's: masks at the input's size."""
    return np.asarray(Image.open(sorted((camvid_root / "val").iterdir())[-1]).convert("RGB"))


@pytest.fixture(scope="module")
def image(bundle: Bundle, big: np.ndarray) -> np.ndarray:
    """The same frame at the fp32 variant's size, so neither side resamples it."""
    variant = bundle.variant(precision="fp32")
    return np.asarray(Image.fromarray(big).resize((variant.width, variant.height), Image.BILINEAR))


@pytest.fixture(scope="module", params=["as-published", "bundled-by-vite"])
def root(request: pytest.FixtureRequest, site: Path, repo_root: Path) -> Path:
    """What the server serves: the page and the installed package as they are, or a Vite build of the page
    (which must carry the package's workers and .wasm along, as README.md says)."""
    if request.param == "as-published":
        return site
    vite = repo_root / "web" / "node_modules" / "vite" / "bin" / "vite.js"
    run(["node", str(vite), "build", "--logLevel", "warn", "--outDir", "dist"], site)
    return site / "dist"


@pytest.fixture(scope="module")
def served(root: Path, site: Path, bundle: Bundle, image: np.ndarray, big: np.ndarray) -> Iterator[str]:
    """The page, the bundle under /models/ (where names are looked up), the images, and onnxruntime-web's runtime
    files in /runtime/, a folder of their own for `wasmPaths`."""
    (root / "models").mkdir()
    (root / "models" / bundle.name).symlink_to(bundle.root, target_is_directory=True)
    (root / "runtime").mkdir()
    for name in WASM_FILES:
        shutil.copy(site / "node_modules" / "liveseg" / "dist" / name, root / "runtime" / name)
    Image.fromarray(image).save(root / "image.png")
    Image.fromarray(big).save(root / "big.png")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(IsolatedFiles, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def decode(text: str, outcome: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), np.uint8).reshape(outcome["height"], outcome["width"])


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.timeout(300)
@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} is missing (CI installs Debian's chromium package)")
def test_page_with_only_the_package_segments_like_python(
    served: str, root: Path, site: Path, bundle: Bundle, image: np.ndarray, big: np.ndarray
) -> None:
    """Both builds of the page segment by name and at the input's size; the package as published also from a
    logits file's bytes with `wasmPaths` (what a bundler does to the package's own files is no part of those)."""
    from playwright.sync_api import sync_playwright

    as_published = root == site
    segmenter = liveseg.load(bundle, precision="fp32", size=bundle.variant(precision="fp32").size)
    expected, expected_big = segmenter.segment(image), segmenter.segment(big)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            query = f"name={bundle.name}&image=/image.png&big=/big.png&threads={THREADS}"
            query += "&runtime=/runtime/" if as_published else ""
            page.goto(f"{served}/index.html?{query}")
            page.wait_for_function("() => window.outcome !== undefined", timeout=240_000)
            outcome = page.evaluate("window.outcome")
        finally:
            browser.close()
    assert "error" not in outcome, outcome.get("error")
    assert not errors
    assert all(url.startswith(served) for url in requests), "the page fetched something from elsewhere"
    assert outcome["isolated"] and outcome["backend"] == "wasm" and outcome["threads"] == THREADS

    labels = decode(outcome["labels"], outcome)
    assert labels.shape == expected.labels.shape
    agreement = float((labels == expected.labels).mean())
    print(f"npm package page vs Python pixel agreement: {agreement:.5f}")
    assert agreement >= MIN_AGREEMENT
    np.testing.assert_array_equal(decode(outcome["videoLabels"], outcome), labels)
    assert outcome["videoTimestamp"] == 1000
    assert outcome["confidence"] == labels.size
    names = {c["id"]: c["name"] for c in bundle.classes}
    assert sorted(outcome["legend"]) == sorted(names[i] for i in np.unique(labels))
    assert "closed" in outcome["afterClose"]
    masks_at_the_input_size(outcome, expected_big.labels)
    if as_published:
        with_confidence_masks(outcome["fromBytes"], expected_big.labels, len(bundle.classes))
        for name in WASM_FILES:  # the bytes' segmenter loaded onnxruntime's files from wasmPaths
            assert f"{served}/runtime/{name}" in requests


def masks_at_the_input_size(outcome: dict, expected: np.ndarray) -> None:
    """`maskSize: "input"` is the model-size mask resized by Python's nearest rule, and agrees with Python."""
    at_model, at_input = decode(outcome["bigAtModel"]["labels"], outcome["bigAtModel"]), outcome["bigAtInput"]
    labels = decode(at_input["labels"], at_input)
    assert at_model.shape == (outcome["height"], outcome["width"]) and labels.shape == expected.shape
    np.testing.assert_array_equal(labels, resize_nearest(at_model, *expected.shape))
    agreement = float((labels == expected).mean())
    print(f"npm package page vs Python pixel agreement at the input's size: {agreement:.5f}")
    assert agreement >= MIN_AGREEMENT


def with_confidence_masks(outcome: dict, expected: np.ndarray, classes: int) -> None:
    """The logits file's bytes: one probability plane per class at the input's size, summing to 1 per pixel,
    whose arg-max is the labels; the masks' buffers are detached once recycled and taken back."""
    assert outcome["graph"] == "logits" and outcome["bytesKept"] and outcome["detachedAfterRecycle"]
    assert outcome["classes"] == classes
    labels = decode(outcome["labels"], outcome)
    masks = np.frombuffer(base64.b64decode(outcome["masks"]), np.uint8)
    masks = masks.reshape(outcome["classes"], *labels.shape)
    assert labels.shape == expected.shape and outcome["worstSum"] < 1e-4
    on_argmax = float((masks.argmax(axis=0) == labels).mean())
    agreement = float((labels == expected).mean())
    print(f"confidence masks' arg-max vs labels: {on_argmax:.5f}; vs Python: {agreement:.5f}")
    assert on_argmax >= MIN_AGREEMENT and agreement >= MIN_AGREEMENT
