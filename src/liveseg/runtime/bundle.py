"""Open and verify browser bundles (a directory with `manifest.json` and one ONNX file per variant).

Torch-free on purpose: the runtime, the server and the benchmarks all read bundles through this module, so
a malformed bundle fails the same way everywhere, with one sentence that says what to fix. The manifest's
schema is `liveseg.runtime.manifest`. Logits variants (WebGL only) are kept apart from `Bundle.variants`, so
no Python caller can pick one for inference, but they are verified and served like the others.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liveseg import paths
from liveseg.errors import LivesegError
from liveseg.runtime.manifest import FORMAT, PRECISIONS, Manifest, VariantEntry
from liveseg.sources import sha256_file

__all__ = ["FORMAT", "PRECISIONS", "Bundle", "Variant", "open_bundle", "sha256_file"]


@dataclass(frozen=True, kw_only=True)
class Variant(VariantEntry):
    """A manifest's variant entry and where its file is."""

    path: Path

    def verify(self) -> None:
        """Hash the file, so a truncated download or a tampered file is caught before inference."""
        if not self.path.is_file():
            raise LivesegError(f"Bundle file {self.path} is missing; re-export the bundle or copy it again.")
        digest = sha256_file(self.path)
        if digest != self.sha256:
            raise LivesegError(
                f"Bundle file {self.path} has sha256 {digest[:12]}… but the manifest says {self.sha256[:12]}…; "
                "re-export the bundle or copy it again."
            )


@dataclass(frozen=True)
class Bundle:
    """A parsed, validated manifest and where its files are.

    `variants` are the labels variants, the only ones Python runs; `logits` are the WebGL ones.
    """

    root: Path
    manifest: Manifest
    variants: list[Variant]
    logits: list[Variant] = field(default_factory=list)

    @property
    def all_variants(self) -> list[Variant]:
        """Every variant file of the bundle: what `verify` checks and the server serves."""
        return [*self.variants, *self.logits]

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def classes(self) -> list[dict[str, Any]]:
        return self.manifest.classes

    @property
    def sizes(self) -> list[tuple[int, int]]:
        return sorted({v.size for v in self.variants})

    @property
    def precisions(self) -> list[str]:
        return [p for p in PRECISIONS if any(v.precision == p for v in self.variants)]

    def variant(self, precision: str | None = None, size: tuple[int, int] | None = None) -> Variant:
        """The labels variant of `precision` (None: the default variant's) at `size`; with no size, the one at the
        default variant's size, else the largest of that precision.

        The web app picks with the same rules (`pickVariant`, web/src/lib/manifest.ts), so a bundle opens on the same
        variant in Python and in the browser; tests/vectors/variants.json holds both to them.
        """
        if precision is None:
            precision = self.manifest.default_variant["precision"]
        if precision not in self.precisions:
            raise LivesegError(
                f"Bundle {self.name!r} has no {precision!r} variant; choose one of {', '.join(self.precisions)}."
            )
        candidates = [v for v in self.variants if v.precision == precision]
        wanted = self.manifest.default_size if size is None else tuple(size)
        for v in candidates:
            if v.size == wanted:
                return v
        if size is None:
            return max(candidates, key=lambda v: v.height * v.width)
        have = ", ".join(f"{v.height}x{v.width}" for v in candidates)
        raise LivesegError(
            f"Bundle {self.name!r} has no {precision} variant of size {size[0]}x{size[1]}; choose one of {have}."
        )

    def verify(self) -> None:
        """Check every variant file (logits ones included) against its sha256; raises on the first mismatch."""
        for v in self.all_variants:
            v.verify()


def open_bundle(bundle: str | os.PathLike = "default") -> Bundle:
    """Open `"default"` (the embedded bundle), a bundle directory, its `manifest.json` path, or the name of a
    bundle `liveseg pull` or `liveseg import` made (a path that exists wins over a name)."""
    manifest_path = _manifest_path(bundle)
    manifest = Manifest.load(manifest_path)
    root = manifest_path.parent
    parsed = [Variant(**vars(v), path=root / v.file) for v in manifest.variants]
    return Bundle(
        root=root,
        manifest=manifest,
        variants=[v for v in parsed if v.graph == "labels"],
        logits=[v for v in parsed if v.graph == "logits"],
    )


def _manifest_path(bundle: str | os.PathLike) -> Path:
    if str(bundle) == "default":
        path = paths.DEFAULT_BUNDLE_DIR / "manifest.json"
        if not path.is_file():
            raise LivesegError(
                "No default model is installed in this copy of liveseg; pass --model BUNDLE_DIR "
                "(a bundle made by `liveseg export`)."
            )
        return path
    path = Path(bundle).expanduser()
    is_name = not path.exists() and Path(str(bundle)).name == str(bundle)
    named = paths.models_dir() / str(bundle) / "manifest.json"
    if is_name and named.is_file():
        return named
    if is_name:
        _refuse_unpulled(str(bundle))
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        raise LivesegError(
            f"No bundle at {bundle!s} (no manifest.json found); pass a directory made by `liveseg export`, or the "
            "name of a model from `liveseg pull --list` after pulling it."
        )
    return path


def _refuse_unpulled(name: str) -> None:
    """A registered pretrained model that is not pulled yet: say how to pull it rather than "no bundle"."""
    from liveseg.export.pretrained import pull_command  # the registry is torch-free

    command = pull_command(name)
    if command is not None:
        raise LivesegError(f"The model {name!r} is not pulled yet; run `{command}` first.")
