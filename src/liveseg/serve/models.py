"""Which bundles a server offers, and exactly which of their files it may hand out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from liveseg.errors import LivesegError
from liveseg.runtime.bundle import Bundle, installed_bundles, open_bundle
from liveseg.runtime.manifest import MODEL_CARD
from liveseg.serve.files import Files

_URL_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_bundle_name(name: object, fix: str) -> str:
    """A bundle's name becomes its `/models/<name>/` URL segment; `fix` says how to give it another one."""
    if not isinstance(name, str) or not _URL_SAFE_ID.fullmatch(name):
        raise LivesegError(
            f"The bundle name {name!r} cannot be a URL path segment; {fix} with a name of letters, digits, "
            "'.', '_' and '-' that starts with a letter or digit."
        )
    return name


def find_bundles(specs: Sequence[str]) -> list[Bundle]:
    """Open each `--model` value: `default`, a bundle directory, a manifest path, a directory of bundles or
    a pulled model's name. Without any, the default and every pulled or imported bundle."""
    if not specs:
        return [open_bundle("default"), *(open_bundle(p) for p in installed_bundles())]
    bundles: list[Bundle] = []
    for spec in specs:
        bundles.extend(_expand(spec))
    return bundles


def _expand(spec: str) -> list[Bundle]:
    path = Path(spec).expanduser()
    if not path.exists() and Path(spec).name == spec:
        return [open_bundle(spec)]  # "default" or a pulled model's name
    if path.is_dir() and not (path / "manifest.json").is_file():
        children = sorted(p for p in path.iterdir() if (p / "manifest.json").is_file())
        if not children:
            raise LivesegError(
                f"{spec} holds no bundle (no manifest.json in it or its sub-directories); "
                "pass a directory made by `liveseg export`."
            )
        return [open_bundle(child) for child in children]
    # Absolute, so that a local directory called "default" is not mistaken for the embedded bundle.
    return [open_bundle(path.absolute())]


@dataclass(frozen=True)
class ServedModel:
    """A bundle as the server sees it: its URL id and an allow-list of the file names it may serve."""

    id: str
    bundle: Bundle
    files: Files
    allowed: frozenset[str]

    @property
    def url(self) -> str:
        return f"/models/{self.id}/"


def served_models(bundles: Iterable[Bundle]) -> dict[str, ServedModel]:
    """Map ids to models; ids must be unique and URL-safe, since they become the `/models/<id>/` path."""
    served: dict[str, ServedModel] = {}
    for bundle in bundles:
        name = check_bundle_name(bundle.name, f"re-export {bundle.root}")
        bundle.verify()  # once, at start-up: files are then served with immutable caching
        if name in served:
            raise LivesegError(
                f"Bundles {served[name].bundle.root} and {bundle.root} are both named {name!r}; serve only one of them."
            )
        # Variant files carry the first 8 hex digits of their sha256 in their name: safe to cache forever.
        immutable = frozenset(v.file for v in bundle.all_variants if v.sha256[:8] in v.file)
        allowed = {"manifest.json", *(v.file for v in bundle.all_variants)}
        if (bundle.root / MODEL_CARD).is_file():
            allowed.add(MODEL_CARD)
        served[name] = ServedModel(
            id=name,
            bundle=bundle,
            files=Files(bundle.root, immutable=immutable.__contains__),
            allowed=frozenset(allowed),
        )
    return served
