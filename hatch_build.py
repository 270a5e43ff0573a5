"""Build hook: the sdist and the wheel carry the built web app (src/liveseg/serve/static/).

`liveseg serve` from a wheel must serve the page without Node, so the app is built here, before packaging, when
static/ is missing or was built from other sources than web/ holds now. A fingerprint of those sources, written
next to the build (STAMP), records what static/ was built from. The sdist carries web/, static/ and the stamp, so
a wheel built from it (as `python -m build` does) needs no Node. Editable installs skip the hook: they serve the
checkout's static/ directly. `python hatch_build.py` runs the same check and build for a checkout
(scripts/setup.sh uses it).
"""

from __future__ import annotations

import hashlib
import importlib.util
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
    """liveseg.atomic, loaded from its file: the build environment has no liveseg installed, and the module is
    stdlib-only."""
    spec = importlib.util.spec_from_file_location("_liveseg_atomic", ROOT / "src" / "liveseg" / "atomic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


if __name__ == "__main__":
    try:
        ensure_web_app()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
else:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface

    class WebAppHook(BuildHookInterface):
        """Runs before the sdist and the wheel are assembled; pyproject.toml lists static/ as an artifact."""

        PLUGIN_NAME = "custom"

        def initialize(self, version: str, build_data: dict) -> None:
            if version != "editable":
                ensure_web_app(log=self.app.display_info)
