"""Read and verify browser bundles (a directory with `manifest.json` and one ONNX file per variant).

Torch-free on purpose: the runtime, the server and the benchmarks all read bundles through this module, so
a malformed bundle fails the same way everywhere, with one sentence that says what to fix.

A variant holds one of two graphs: "labels" (uint8 pixels in, class ids out; what Python runs) or "logits"
(float32 pixels in, low-resolution logits out; only for onnxruntime-web's WebGL backend, which has neither
ArgMax nor uint8). Logits variants are kept apart from `Bundle.variants`, so no Python caller can pick one
for inference, but they are verified and served like the others.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liveseg import paths
from liveseg.errors import LivesegError
from liveseg.sources import sha256_file

FORMAT = "liveseg-bundle/1"
PRECISIONS = ("fp32", "fp16", "int8")
GRAPHS = ("labels", "logits")  # a variant's `graph`; absent means "labels"
_REQUIRED = ("format", "name", "classes", "normalization", "input", "outputs", "variants", "default_variant")
_VARIANT_FIELDS = {"precision": str, "height": int, "width": int, "file": str, "bytes": int, "sha256": str}


@dataclass(frozen=True)
class Variant:
    """One ONNX file of a bundle: a precision at a fixed input size."""

    precision: str
    height: int
    width: int
    file: str
    path: Path
    bytes: int
    sha256: str
    val_miou: float | None = None
    parity: dict[str, Any] | None = None
    gflops: float | None = None  # per frame at this size, counted by the zoo's FLOP counter at export
    graph: str = "labels"

    @property
    def size(self) -> tuple[int, int]:
        return (self.height, self.width)

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
    manifest: dict[str, Any]
    variants: list[Variant]
    logits: list[Variant] = field(default_factory=list)

    @property
    def all_variants(self) -> list[Variant]:
        """Every variant file of the bundle: what `verify` checks and the server serves."""
        return [*self.variants, *self.logits]

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def classes(self) -> list[dict[str, Any]]:
        return self.manifest["classes"]

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
        default = self.manifest["default_variant"]
        if precision is None:
            precision = default["precision"]
        if precision not in self.precisions:
            raise LivesegError(
                f"Bundle {self.name!r} has no {precision!r} variant; choose one of {', '.join(self.precisions)}."
            )
        candidates = [v for v in self.variants if v.precision == precision]
        wanted = (default["height"], default["width"]) if size is None else tuple(size)
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
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LivesegError(
            f"Bundle manifest {manifest_path} is unreadable or not JSON ({exc}); re-export the bundle."
        ) from None
    parsed = _validate(manifest, manifest_path)
    return Bundle(
        root=manifest_path.parent,
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
    named = paths.models_dir() / str(bundle) / "manifest.json"
    if not path.exists() and Path(str(bundle)).name == str(bundle) and named.is_file():
        return named
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        raise LivesegError(
            f"No bundle at {bundle!s} (no manifest.json found); pass a directory made by `liveseg export`, or the "
            "name of a model from `liveseg pull --list` after pulling it."
        )
    return path


def installed_bundles() -> list[Path]:
    """The folders of the bundles `liveseg pull` and `liveseg import` made, by name."""
    root = paths.models_dir()
    return sorted(p for p in root.iterdir() if (p / "manifest.json").is_file()) if root.is_dir() else []


def _validate(manifest: Any, where: Path) -> list[Variant]:
    def bad(what: str) -> LivesegError:
        return LivesegError(f"Bundle manifest {where} is malformed: {what}; re-export the bundle.")

    if not isinstance(manifest, dict):
        raise bad("it is not a JSON object")
    missing = [k for k in _REQUIRED if k not in manifest]
    if missing:
        raise bad(f"missing {', '.join(missing)}")
    if manifest["format"] != FORMAT:
        raise bad(f"format is {manifest['format']!r}, expected {FORMAT!r}")
    _validate_classes(manifest["classes"], bad)
    variants = manifest["variants"]
    if not isinstance(variants, list) or not variants:
        raise bad("'variants' must be a non-empty list")
    parsed = [_parse_variant(v, where.parent, bad) for v in variants]
    keys = [(v.graph, v.precision, v.size) for v in parsed]
    if len(set(keys)) != len(keys):
        raise bad("two variants share a graph, precision and size")
    default = manifest["default_variant"]
    if not isinstance(default, dict) or not any(
        (v.precision, v.height, v.width) == (default.get("precision"), default.get("height"), default.get("width"))
        for v in parsed
        if v.graph == "labels"
    ):
        raise bad("'default_variant' names no listed labels variant")
    return parsed


def _validate_classes(classes: Any, bad) -> None:
    if not isinstance(classes, list) or not classes:
        raise bad("'classes' must be a non-empty list")
    for i, c in enumerate(classes):
        ok = (
            isinstance(c, dict)
            and c.get("id") == i
            and isinstance(c.get("name"), str)
            and isinstance(c.get("color"), list)
            and len(c["color"]) == 3
            and all(isinstance(x, int) and 0 <= x <= 255 for x in c["color"])
        )
        if not ok:
            raise bad(f"class entry {i} must be {{'id': {i}, 'name': str, 'color': [r, g, b]}}")
    if len(classes) > 255:
        raise bad("more than 255 classes do not fit the uint8 label output")


def _parse_variant(entry: Any, root: Path, bad) -> Variant:
    if not isinstance(entry, dict):
        raise bad("a variant is not an object")
    for key, typ in _VARIANT_FIELDS.items():
        if not isinstance(entry.get(key), typ) or isinstance(entry.get(key), bool):
            raise bad(f"variant field {key!r} is missing or not a {typ.__name__}")
    if entry.get("graph", "labels") not in GRAPHS:
        raise bad(f"unknown variant graph {entry['graph']!r} (expected one of {', '.join(GRAPHS)})")
    if entry["precision"] not in PRECISIONS:
        raise bad(f"unknown precision {entry['precision']!r} (expected one of {', '.join(PRECISIONS)})")
    if entry["height"] <= 0 or entry["width"] <= 0:
        raise bad(f"variant size {entry['height']}x{entry['width']} is not positive")
    file = entry["file"]
    if Path(file).name != file:
        raise bad(f"variant file {file!r} must be a plain file name inside the bundle")
    return Variant(
        precision=entry["precision"],
        height=entry["height"],
        width=entry["width"],
        file=file,
        path=root / file,
        bytes=entry["bytes"],
        sha256=entry["sha256"].lower(),
        val_miou=entry.get("val_miou"),
        parity=entry.get("parity"),
        gflops=entry.get("gflops"),
        graph=entry.get("graph", "labels"),
    )
