"""The bundle manifest (`manifest.json`): one typed schema that `liveseg export`/`pull`/`import` write and that the
runtime, the server and the benchmarks read, so a field is added or checked in one place.

A variant holds one of two graphs: "labels" (uint8 pixels in, class ids out; what Python runs) or "logits"
(float32 pixels in, low-resolution logits out; only for onnxruntime-web's WebGL backend, which has neither
ArgMax nor uint8). The TypeScript reader (web/src/lib/manifest.ts) follows the same rules, held to them by
the shared vectors in tests/vectors/.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liveseg import atomic
from liveseg.errors import LivesegError

FORMAT = "liveseg-bundle/1"
PRECISIONS = ("fp32", "fp16", "int8")
GRAPHS = ("labels", "logits")  # a variant's `graph`; absent means "labels"
MODEL_CARD = "MODEL_CARD.md"  # a bundle's optional description, beside its manifest; served with the bundle
_REQUIRED = ("format", "name", "classes", "normalization", "input", "outputs", "variants", "default_variant")
_VARIANT_FIELDS = {"precision": str, "height": int, "width": int, "file": str, "bytes": int, "sha256": str}
_OPTIONAL = ("version", "task", "model", "dataset", "ignore_index", "training", "source", "created", "liveseg_version")

Bad = Callable[[str], LivesegError]


@dataclass(frozen=True, kw_only=True)
class VariantEntry:
    """One ONNX file of a bundle, as the manifest lists it: a graph and precision at a fixed input size."""

    precision: str
    height: int
    width: int
    file: str
    bytes: int
    sha256: str
    graph: str = "labels"
    gflops: float | None = None  # per frame at this size, counted by the zoo's FLOP counter at export
    val_miou: float | None = None
    parity: dict[str, Any] | None = None

    @property
    def size(self) -> tuple[int, int]:
        return (self.height, self.width)

    def to_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"precision": self.precision}
        if self.graph != "labels":
            entry["graph"] = self.graph  # absent means "labels", which readers before logits variants assume
        entry |= {"height": self.height, "width": self.width, "file": self.file, "bytes": self.bytes}
        entry["sha256"] = self.sha256
        optional = {"gflops": self.gflops, "val_miou": self.val_miou, "parity": self.parity}
        return entry | {k: v for k, v in optional.items() if v is not None}

    @classmethod
    def from_dict(cls, entry: Any, bad: Bad) -> VariantEntry:
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
        if Path(entry["file"]).name != entry["file"]:
            raise bad(f"variant file {entry['file']!r} must be a plain file name inside the bundle")
        return cls(
            **{k: entry[k] for k in _VARIANT_FIELDS} | {"sha256": entry["sha256"].lower()},
            graph=entry.get("graph", "labels"),
            gflops=entry.get("gflops"),
            val_miou=entry.get("val_miou"),
            parity=entry.get("parity"),
        )


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """A bundle's `manifest.json`, validated. `variants` lists labels and logits variants alike."""

    name: str
    classes: list[dict[str, Any]]  # {"id", "name", "color": [r, g, b]}, ids 0..n-1 in order
    normalization: dict[str, list[float]]  # {"mean", "std"} on 0..1 RGB
    input: dict[str, Any]  # {"name", "dtype", "layout", "channels"}
    outputs: dict[str, dict[str, str]]  # "labels", "confidence" and, with logits variants, "logits": {"name", "dtype"}
    variants: list[VariantEntry]
    default_variant: dict[str, Any]  # {"precision", "height", "width"} of a labels variant
    version: str | None = None
    task: str | None = None
    model: dict[str, Any] = field(default_factory=dict)  # {"name", "kwargs", "params", "gflops"}
    dataset: str | None = None
    ignore_index: int | None = None
    training: dict[str, Any] | None = None  # {"epoch", "best_miou"} of a checkpoint liveseg trained
    source: dict[str, Any] | None = None  # {"origin", "license", ...} of a pulled or imported model
    created: str | None = None
    liveseg_version: str | None = None
    format: str = FORMAT

    @property
    def default_size(self) -> tuple[int, int]:
        return (self.default_variant["height"], self.default_variant["width"])

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in the order people read them (format and name first, provenance last)."""
        head = {"format": self.format, "name": self.name, "version": self.version, "task": self.task}
        body = {
            "model": self.model or None,
            "dataset": self.dataset,
            "classes": self.classes,
            "ignore_index": self.ignore_index,
            "normalization": self.normalization,
            "input": self.input,
            "outputs": self.outputs,
            "variants": [v.to_dict() for v in self.variants],
            "default_variant": self.default_variant,
        }
        tail = {"training": self.training, "source": self.source, "created": self.created}
        merged = head | body | tail | {"liveseg_version": self.liveseg_version}
        return {k: v for k, v in merged.items() if v is not None or k in _REQUIRED}

    def dump(self, path: str | Path) -> Path:
        """Write `manifest.json` atomically (after validating, so a writer cannot produce what readers reject)."""
        data = self.to_dict()
        Manifest.from_dict(data, Path(path))
        return atomic.write_text(path, json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            reason = f"Bundle manifest {path} is unreadable or not JSON ({exc}); re-export the bundle."
            raise LivesegError(reason) from None
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: Any, where: Path) -> Manifest:
        """Validate a parsed manifest; every failure is one sentence naming the file and the field."""

        def bad(what: str) -> LivesegError:
            return LivesegError(f"Bundle manifest {where} is malformed: {what}; re-export the bundle.")

        if not isinstance(data, dict):
            raise bad("it is not a JSON object")
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            raise bad(f"missing {', '.join(missing)}")
        if data["format"] != FORMAT:
            raise bad(f"format is {data['format']!r}, expected {FORMAT!r}")
        _check_classes(data["classes"], bad)
        if not isinstance(data["variants"], list) or not data["variants"]:
            raise bad("'variants' must be a non-empty list")
        variants = [VariantEntry.from_dict(v, bad) for v in data["variants"]]
        keys = [(v.graph, v.precision, v.size) for v in variants]
        if len(set(keys)) != len(keys):
            raise bad("two variants share a graph, precision and size")
        default = data["default_variant"]
        if not isinstance(default, dict) or not any(
            (v.precision, v.height, v.width) == (default.get("precision"), default.get("height"), default.get("width"))
            for v in variants
            if v.graph == "labels"
        ):
            raise bad("'default_variant' names no listed labels variant")
        optional = {k: data[k] for k in _OPTIONAL if data.get(k) is not None}
        required = {k: data[k] for k in _REQUIRED if k not in ("format", "variants")}
        return cls(**required, **optional, variants=variants)


def _check_classes(classes: Any, bad: Bad) -> None:
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
