"""Where liveseg keeps things on disk; every location can be overridden by an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
DEFAULT_BUNDLE_DIR = ASSETS_DIR / "default"
# Bundles converted at set-up or wheel build from third-party files a package ships (not committed): the person
# models from MediaPipe's npm package. Found by name, like pulled ones.
BUNDLED_DIR = ASSETS_DIR / "bundled"
STATIC_DIR = PACKAGE_DIR / "serve" / "static"


def cache_dir() -> Path:
    """Downloads and fetched datasets live here (LIVESEG_CACHE, else XDG cache, else ~/.cache)."""
    if env := os.environ.get("LIVESEG_CACHE"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "liveseg"


def data_dir() -> Path:
    """Default root under which datasets are looked up by name (LIVESEG_DATA overrides)."""
    if env := os.environ.get("LIVESEG_DATA"):
        return Path(env).expanduser()
    return cache_dir() / "datasets"


def models_dir() -> Path:
    """Bundles `liveseg pull` and `liveseg import` make, one folder per name (LIVESEG_MODELS overrides)."""
    if env := os.environ.get("LIVESEG_MODELS"):
        return Path(env).expanduser()
    return cache_dir() / "models"
