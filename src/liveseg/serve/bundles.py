"""Which bundles a server offers, and exactly which of their files it may hand out."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from liveseg.errors import LivesegError
from liveseg.runtime.bundle import Bundle, bundled_bundles, open_bundle
from liveseg.runtime.effects import EFFECT_FILE, Effect
from liveseg.runtime.manifest import MODEL_CARD, check_name
from liveseg.serve import files
from liveseg.serve.files import Files

_log = logging.getLogger(__name__)


def find_bundles(specs: Sequence[str]) -> list[Bundle]:
    """Open each `--model` value: `default`, a bundle directory, a manifest path, a directory of bundles or
    a pulled model's name."""
    return [bundle for spec in specs for bundle in _expand(spec)]


def default_bundles(taken: Collection[str] = ()) -> list[Bundle]:
    """What a server offers besides the `--model` bundles: the default and the bundled person models, less those
    whose names `taken` holds (the `--model` bundle of that name is served instead). A server adds the models
    folder's bundles (`Catalogue`)."""
    found = [open_bundle("default"), *(open_bundle(p) for p in bundled_bundles())]
    return [bundle for bundle in found if bundle.name not in taken]


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


def serve_bundle(bundle: Bundle) -> ServedModel:
    """Check `bundle` once (URL-safe name, every file's sha256) and list the files it may serve: they are then
    served with immutable caching."""
    name = check_name(bundle.name, f"re-export {bundle.root}")
    # Stamped before hashing: a file changed during verify() has another stamp, so it is hashed again when asked for.
    verified = {v.file: (v.sha256, _file_stamp(v.path)) for v in bundle.all_variants}
    bundle.verify()
    # Variant files carry the first 8 hex digits of their sha256 in their name: safe to cache forever.
    immutable = frozenset(v.file for v in bundle.all_variants if v.sha256[:8] in v.file)
    allowed = {"manifest.json", *(v.file for v in bundle.all_variants)}
    if (bundle.root / MODEL_CARD).is_file():
        allowed.add(MODEL_CARD)
    served = Files(bundle.root, immutable=immutable.__contains__, verified=verified)
    return ServedModel(id=name, bundle=bundle, files=served, allowed=frozenset(allowed))


def _file_stamp(path: Path) -> files.Stamp:
    """The file's stamp, or one no file has when it is missing (verify() then says so)."""
    try:
        return files.stamp(os.stat(path))
    except OSError:
        return (-1, -1, -1)


def served_models(bundles: Iterable[Bundle]) -> dict[str, ServedModel]:
    """Map ids to models; ids must be unique and URL-safe, since they become the `/models/<id>/` path."""
    served: dict[str, ServedModel] = {}
    for bundle in bundles:
        model = serve_bundle(bundle)
        if model.id in served:
            raise _clash(served[model.id], model)
        served[model.id] = model
    return served


def _clash(first: ServedModel, second: ServedModel) -> LivesegError:
    return LivesegError(
        f"Bundles {first.bundle.root} and {second.bundle.root} are both named {first.id!r}; serve only one of them."
    )


Stamp = tuple[int, int]  # a manifest's inode and modification time


def _stamps(folder: Path, file: str = "manifest.json") -> dict[str, Stamp]:
    """Each bundle (or effect) folder of `folder` by name, with the stamp of its `file`: one listing and one stat
    per folder, cheap enough for every request. A pull replaces a folder whole, so its stamp changes."""
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no models folder (yet)
        return {}
    stamps: dict[str, Stamp] = {}
    for entry in entries:
        if entry.name.startswith("."):  # work in progress (liveseg.atomic)
            continue
        try:
            stat = os.stat(os.path.join(entry.path, file))
        except OSError:
            continue
        stamps[entry.name] = (stat.st_ino, stat.st_mtime_ns)
    return stamps


class Catalogue:
    """The models a server offers: `bundles`, and every bundle in `folder` (the models folder), re-read when a
    bundle there is added, replaced or removed, so that a model pulled while the server runs is offered at once.

    The bundles found at start-up must all be servable, as `bundles` must; one that appears later and is not
    (a clashing name, a file that fails its sha256) is left out with a warning, and the server keeps running.
    """

    def __init__(self, bundles: Iterable[Bundle], folder: Path | None = None) -> None:
        self._fixed = served_models(bundles)
        self._folder = folder
        self._lock = threading.Lock()
        self._stamps: dict[str, Stamp] = {}
        self._found: dict[str, ServedModel] = {}  # by folder name
        self._models = self._fixed
        if folder is not None:
            self._reread(folder, _stamps(folder), strict=True)

    def models(self) -> dict[str, ServedModel]:
        """The models by id, the folder re-read first if it changed (only what changed is opened and verified)."""
        if self._folder is not None:
            stamps = _stamps(self._folder)
            with self._lock:
                if stamps != self._stamps:
                    self._reread(self._folder, stamps, strict=False)
        return self._models

    def _reread(self, folder: Path, stamps: dict[str, Stamp], strict: bool) -> None:
        found: dict[str, ServedModel] = {}
        models = dict(self._fixed)
        served = {os.path.realpath(m.bundle.root) for m in self._fixed.values()}
        for name, stamp in sorted(stamps.items()):
            if os.path.realpath(folder / name) in served:  # a pulled model also named by --model
                continue
            try:
                model = self._found.get(name) if self._stamps.get(name) == stamp else None
                model = model or serve_bundle(open_bundle(folder / name))
                if model.id in models:
                    raise _clash(models[model.id], model)
            except LivesegError as exc:
                if strict:
                    raise
                _log.warning("not serving %s: %s", folder / name, exc)
                continue
            found[name] = models[model.id] = model
        self._stamps, self._found, self._models = stamps, found, models


class EffectShelf:
    """The effect models a server offers: `effects` ((folder, effect) pairs), and every effect installed in
    `folder` (`runtime.effects.effects_dir()`), re-read when one there is added, replaced or removed, as `Catalogue`
    re-reads bundles; an unreadable one is left out with a warning."""

    def __init__(self, effects: Iterable[tuple[Path, Effect]], folder: Path | None = None) -> None:
        self._fixed = {e.name: (Files(path, immutable=lambda _: True), e) for path, e in effects}
        self._folder = folder
        self._lock = threading.Lock()
        self._stamps: dict[str, Stamp] | None = None
        self._effects = self._fixed

    def effects(self) -> dict[str, tuple[Files, Effect]]:
        """The effects by name, the folder re-read first if it changed."""
        if self._folder is not None:
            stamps = _stamps(self._folder, EFFECT_FILE)
            with self._lock:
                if stamps != self._stamps:
                    self._effects = self._fixed | self._read(self._folder, stamps)
                    self._stamps = stamps
        return self._effects

    @staticmethod
    def _read(folder: Path, stamps: dict[str, Stamp]) -> dict[str, tuple[Files, Effect]]:
        found = {}
        for name in sorted(stamps):
            try:
                effect = Effect.load(folder / name)
            except LivesegError as exc:
                _log.warning("not serving the effect %s: %s", folder / name, exc)
                continue
            found[effect.name] = (Files(folder / name, immutable=lambda _: True), effect)
        return found
