"""Open and verify browser bundles (a directory with `manifest.json` and one ONNX file per variant).

Torch-free on purpose: the runtime, the server and the benchmarks all read bundles through this module, so
a malformed bundle fails the same way everywhere, with one sentence that says what to fix. The manifest's
schema is `liveseg.runtime.manifest`. Logits variants (WebGL only) are kept apart from `Bundle.variants`, so
no Python caller can pick one for inference, but they are verified and served like the others.

Verifying a variant hashes its bytes and then checks its graph against the manifest (`liveseg.runtime.graph`
reads it): the input's name, type and size, the outputs' names and types, no tensor kept outside the hashed file,
and the class count. A labels graph's class count is the set of class-id constants its decoder writes (ids
0..n-1 for n listed classes); a logits graph's is its output's channel dimension. Running a graph on a blank
frame would not do: it shows the ids that frame produced, not the ones the graph can produce.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from liveseg import paths
from liveseg.errors import LivesegError
from liveseg.runtime.graph import FLOAT, UINT8, Value, read_graph
from liveseg.runtime.manifest import FORMAT, PRECISIONS, ClassInfo, Manifest, VariantEntry
from liveseg.sources import sha256_file

__all__ = ["FORMAT", "PRECISIONS", "Bundle", "Variant", "open_bundle", "sha256_file"]


@dataclass(frozen=True, kw_only=True)
class Variant(VariantEntry):
    """A manifest's variant entry and where its file is."""

    path: Path

    def read(self) -> bytes:
        """The file's bytes once they hash to the manifest's sha256, so a truncated download or a tampered file is
        caught before inference, and what runs is exactly what was hashed."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise LivesegError(f"Bundle file {self.path} is missing; re-export the bundle or copy it again.") from None
        except OSError as exc:
            raise LivesegError(f"Bundle file {self.path} is unreadable ({exc.strerror}); copy it again.") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise LivesegError(
                f"Bundle file {self.path} has sha256 {digest[:12]}… but the manifest says {self.sha256[:12]}…; "
                "re-export the bundle or copy it again."
            )
        return data


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
    def classes(self) -> list[ClassInfo]:
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

    def read(self, variant: Variant) -> bytes:
        """`variant`'s bytes, verified (sha256) and its graph checked against the manifest (module docstring)."""
        data = variant.read()
        check_graph(variant, data, self.manifest)
        return data

    def verify(self) -> None:
        """Check every variant file (logits ones included); raises on the first that does not match the manifest."""
        for v in self.all_variants:
            self.read(v)


def check_graph(variant: Variant, data: bytes, manifest: Manifest) -> None:
    """Raise one LivesegError naming the file and the manifest field unless `data` is the graph the manifest
    describes for `variant`."""
    try:
        info = read_graph(data)
    except ValueError as exc:
        reason = f"Bundle file {variant.path} is not a readable ONNX model ({exc}); re-export the bundle."
        raise LivesegError(reason) from None
    if info.external:
        raise LivesegError(
            f"Bundle file {variant.path} keeps tensor {info.external[0]!r} in a separate file, which the manifest's "
            "sha256 does not cover; re-export the bundle with every tensor inside the .onnx file."
        )

    def mismatch(field: str, what: str) -> LivesegError:
        return LivesegError(
            f"Bundle file {variant.path} does not match its manifest's {field}: {what}; re-export the bundle."
        )

    logits = variant.graph == "logits"
    elem, kind = (FLOAT, "float32") if logits else (UINT8, "uint8")
    name = manifest.input["name"]
    if [i.name for i in info.inputs] != [name]:
        raise mismatch("input.name", f"the graph takes {[i.name for i in info.inputs]}, not just {name!r}")
    (image,) = info.inputs
    shape = (1, *variant.size, 4) if logits else (None, *variant.size, tuple(manifest.input.get("channels", [3])))
    if image.elem_type != elem:
        raise mismatch("input.dtype", f"the graph's input is {_describe(image)}, not {kind}")
    if not _fits(image, shape):
        raise mismatch("variant height and width", f"the graph's input is {_describe(image)}")
    outputs = {o.name: o for o in info.outputs}
    keys: tuple[Literal["labels", "confidence", "logits"], ...] = ("logits",) if logits else ("labels", "confidence")
    for key in keys:
        out = manifest.outputs[key]["name"]
        if out not in outputs or outputs[out].elem_type != elem:
            raise mismatch(f"outputs.{key}.name", f"the graph has no {kind} output {out!r} (it has {sorted(outputs)})")
    classes = len(manifest.classes)
    if logits:
        dims = outputs[manifest.outputs["logits"]["name"]].dims
        found = dims[1] if dims is not None and len(dims) == 4 else None
        if found != classes:
            raise mismatch("classes", f"it lists {classes} classes but the graph outputs {found} class logits")
    elif sorted(info.class_ids) != list(range(classes)):
        found = (
            f"writes class ids up to {max(info.class_ids)}"
            if info.class_ids
            else "has no liveseg class-id constants (liveseg/post/id<k>) to check them against"
        )
        raise mismatch("classes", f"it lists {classes} classes but the graph {found}")


def _fits(value: Value, shape: tuple) -> bool:
    """`value`'s dims against `shape`: an int must equal, a tuple must hold a fixed dim, None allows anything;
    a symbolic dim fits anything."""
    if value.dims is None or len(value.dims) != len(shape):
        return False
    for dim, want in zip(value.dims, shape, strict=True):
        if not isinstance(dim, int) or want is None:
            continue
        if dim not in (want if isinstance(want, tuple) else (want,)):
            return False
    return True


def _describe(value: Value) -> str:
    kind = {FLOAT: "float32", UINT8: "uint8"}.get(value.elem_type, f"type {value.elem_type}")
    dims = "x".join("?" if not isinstance(d, int) else str(d) for d in value.dims or ())
    return f"{kind} {dims or 'of unknown shape'}"


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
    if is_name:
        for root in (paths.models_dir(), paths.BUNDLED_DIR):
            if (named := root / str(bundle) / "manifest.json").is_file():
                return named
        _refuse_unpulled(str(bundle))
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        raise LivesegError(
            f"No bundle at {bundle!s} (no manifest.json found); pass a directory made by `liveseg export`, or the "
            "name of a model from `liveseg pull --list` after pulling it."
        )
    return path


def bundled_bundles() -> list[Path]:
    """The folders of the models set-up converted into the package (the person models), by name; one that the
    models folder also holds is left out, as `open_bundle(NAME)` prefers the models folder's."""
    if not paths.BUNDLED_DIR.is_dir():
        return []
    own = paths.models_dir()
    return [
        p
        for p in sorted(paths.BUNDLED_DIR.iterdir())
        if (p / "manifest.json").is_file() and not (own / p.name / "manifest.json").is_file()
    ]


def _refuse_unpulled(name: str) -> None:
    """A registered pretrained model that is not pulled yet: say how to pull it rather than "no bundle"."""
    from liveseg.export.pretrained import pull_command  # the registry is torch-free

    command = pull_command(name)
    if command is not None:
        raise LivesegError(f"The model {name!r} is not pulled yet; run `{command}` first.")
