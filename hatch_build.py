"""Build hook: the sdist and the wheel carry the built web app (src/liveseg/serve/static/) and the bundled person
models (src/liveseg/assets/bundled/).

`liveseg serve` from a wheel must serve the page without Node, so the app is built here, before packaging, when
static/ is missing or was built from other sources than web/ holds now. A fingerprint of those sources, written
next to the build (STAMP), records what static/ was built from. The sdist carries web/, static/ and the stamp, so
a wheel built from it (as `python -m build` does) needs no Node. Editable installs skip the hook: they serve the
checkout's static/ directly. `python hatch_build.py` runs the same check and build for a checkout
(scripts/setup.sh uses it).

The wheel carries what `liveseg serve` needs of static/: everything but the files that only the benchmark pages
reach (`bench_only`: the pages, TF.js, MediaPipe's solution and its wasm), which `liveseg bench browser` serves from
a checkout. The sdist carries all of static/.

The person models are MediaPipe's selfie segmentation files from the npm package the web build installs
(Apache-2.0, not committed), converted to bundles by `liveseg.export.mediapipe`; a fingerprint of those files
and of the converter's sources (BUNDLED_STAMP) records what the bundles were made from.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent
WEB = ROOT / "web"
STATIC = ROOT / "src" / "liveseg" / "serve" / "static"
STAMP = STATIC / ".web-sources.sha256"  # hidden: `liveseg serve` does not serve dot files
# What `npm run build` reads (web/vite.config.ts builds index.html and the bench pages from these).
WEB_SOURCES = (
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
    "src",
    "bench",
    "public",
)

BUNDLED = ROOT / "src" / "liveseg" / "assets" / "bundled"
BUNDLED_STAMP = BUNDLED / ".sources.sha256"
PERSON_PACKAGE = WEB / "node_modules" / "@mediapipe" / "selfie_segmentation"
# What the bundled models are made from besides the package's .tflite files.
CONVERTER_SOURCES = tuple(
    ROOT / "src" / "liveseg" / name
    for name in (
        "export/tflite.py",
        "export/tflite_metadata.py",
        "export/mediapipe.py",
        "export/imported.py",
        "export/wrap.py",
        "export/variants.py",
        "export/writer.py",
        "export/optimize.py",
        "runtime/manifest.py",
    )
)

NO_NPM = (
    "The web app in src/liveseg/serve/static/ is missing or was built from other sources than web/ holds, and "
    "building it needs Node.js 20+ and npm: install them (e.g. apt-get install nodejs npm) and build again."
)


def source_files() -> Iterator[Path]:
    """The files of WEB_SOURCES in a fixed order."""
    for name in WEB_SOURCES:
        path = WEB / name
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())


def fingerprint() -> str:
    """sha256 over the web sources' relative paths and contents: the same for a checkout and its sdist."""
    digest = hashlib.sha256()
    for path in source_files():
        digest.update(path.relative_to(WEB).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def is_fresh(expected: str) -> bool:
    return (STATIC / "index.html").is_file() and STAMP.is_file() and STAMP.read_text().strip() == expected


def _atomic():
    """liveseg.atomic from the checkout's src/: the build environment has no liveseg installed, and the module and
    what it imports (liveseg.paths, liveseg.errors) need only the standard library."""
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    from liveseg import atomic

    return atomic


def ensure_web_app(log=print) -> None:
    """Build the web app into static/ unless it was built from the current web/ sources."""
    expected = fingerprint()
    if is_fresh(expected):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(NO_NPM)
    # A fresh clone gets exactly the lockfile (npm ci); an existing node_modules is brought up to it in place
    # (npm install), not deleted under a developer's running tools.
    install = "install" if (WEB / "node_modules").is_dir() else "ci"
    log(f"building the web app (npm {install} && npm run build in web/)")
    subprocess.run([npm, install, "--no-audit", "--no-fund", "--loglevel=error"], cwd=WEB, check=True)
    subprocess.run([npm, "run", "build", "--silent"], cwd=WEB, check=True)
    if not (STATIC / "index.html").is_file():
        raise RuntimeError("`npm run build` in web/ wrote no src/liveseg/serve/static/index.html; see its output.")
    _atomic().write_text(STAMP, expected + "\n")


TEXT_SUFFIXES = (".html", ".js", ".mjs", ".css")


def _reached(start: Path, names: dict[str, Path]) -> set[Path]:
    """The files of static/ that `start` reaches through the file names written in it and in what it reaches
    (Vite writes each import, worker and asset URL with the file's hashed name)."""
    seen, todo = {start}, [start]
    while todo:
        path = todo.pop()
        if path.suffix not in TEXT_SUFFIXES:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for found in (f for name, f in names.items() if name in text and f not in seen):
            seen.add(found)
            todo.append(found)
    return seen


def bench_only() -> list[str]:
    """Paths (relative to static/) of the files only the benchmark pages reach: a file the app's index.html reaches,
    or that no page reaches, stays in the wheel."""
    files = [p for p in STATIC.rglob("*") if p.is_file() and not p.name.startswith(".")]
    names = {p.name: p for p in files}
    app = _reached(STATIC / "index.html", names)
    bench = set().union(*(_reached(page, names) for page in (STATIC / "bench").glob("*.html")))
    only = [p.relative_to(STATIC).as_posix() for p in bench - app]
    # Their precompressed copies (NAME.br, NAME.gz: web/vite.config.ts) go with them.
    return sorted(
        only + [f"{rel}.{ext}" for rel in only for ext in ("br", "gz") if (STATIC / f"{rel}.{ext}").is_file()]
    )


def wheel_artifacts() -> list[str]:
    """hatchling's artifact patterns of static/ for the wheel: all of it, less `bench_only` (gitignore syntax)."""
    static = STATIC.relative_to(ROOT).as_posix()
    return [f"/{static}/**", *(f"!/{static}/{rel}" for rel in bench_only())]


def bundled_fingerprint() -> str:
    """sha256 over the npm package's .tflite files and the converter's sources."""
    digest = hashlib.sha256()
    for path in [*sorted(PERSON_PACKAGE.glob("*.tflite")), *CONVERTER_SOURCES]:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def ensure_bundled_models(log=print) -> None:
    """Convert the person models into assets/bundled/ unless they were made from the current files. Without the
    npm package (an sdist), bundles already there are kept as they are: the sdist was made with them."""
    if not PERSON_PACKAGE.is_dir():
        if BUNDLED_STAMP.is_file():
            return
        raise RuntimeError(
            "The person models in src/liveseg/assets/bundled/ are missing and web/node_modules lacks "
            "@mediapipe/selfie_segmentation to make them from: run npm ci in web/ and build again."
        )
    expected = bundled_fingerprint()
    if BUNDLED_STAMP.is_file() and BUNDLED_STAMP.read_text().strip() == expected:
        return
    sys.path.insert(0, str(ROOT / "src"))
    try:
        from liveseg.export.mediapipe import build_bundled
    except ImportError as exc:
        raise RuntimeError(
            f"Converting the person models needs liveseg's dependencies ({exc.name} is missing): run "
            "scripts/setup.sh, or pip install the project, then build again."
        ) from None
    log("converting the person models (MediaPipe selfie segmentation → src/liveseg/assets/bundled/)")
    for result in build_bundled(PERSON_PACKAGE, BUNDLED):
        if result.out is None or result.failed:
            problems = "; ".join(v.problem for v in result.failed) or "no variant passed its parity check"
            raise RuntimeError(f"Converting the person models failed: {problems}")
    _atomic().write_text(BUNDLED_STAMP, expected + "\n")


if __name__ == "__main__":
    try:
        ensure_web_app()
        ensure_bundled_models()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
else:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface

    class WebAppHook(BuildHookInterface):
        """Runs before the sdist and the wheel are assembled; pyproject.toml lists static/ as an artifact of the
        sdist, this hook lists it for the wheel (less the benchmark-only files)."""

        PLUGIN_NAME = "custom"

        def initialize(self, version: str, build_data: dict) -> None:
            if version != "editable":
                ensure_web_app(log=self.app.display_info)
                ensure_bundled_models(log=self.app.display_info)
            if self.target_name == "wheel" and version != "editable":
                build_data["artifacts"].extend(wheel_artifacts())
