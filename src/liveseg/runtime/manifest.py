"""The bundle manifest (`manifest.json`): one typed schema that `liveseg export`/`pull`/`import` write and that the
runtime, the server and the benchmarks read, so a field is added or checked in one place.

A variant holds one of two graphs: "labels" (uint8 pixels in, class ids out; what Python runs) or "logits"
(float32 pixels in, low-resolution logits out; only for onnxruntime-web's WebGL backend, which has neither
ArgMax nor uint8). The TypeScript reader (web/src/lib/manifest.ts) follows the same rules, held to them by
the shared vectors in tests/vectors/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired, TypedDict, get_args

from liveseg import atomic
from liveseg.errors import LivesegError

Format = Literal["liveseg-bundle/1"]
FORMAT: Format = "liveseg-bundle/1"
Precision = Literal["fp32", "fp16", "int8"]
Graph = Literal["labels", "logits"]  # a variant's `graph`; absent means "labels"
PRECISIONS: tuple[Precision, ...] = get_args(Precision)
GRAPHS: tuple[Graph, ...] = get_args(Graph)
MODEL_CARD = "MODEL_CARD.md"  # a bundle's optional description, beside its manifest; served with the bundle
_REQUIRED = ("format", "name", "classes", "normalization", "input", "outputs", "variants", "default_variant")
_VARIANT_FIELDS = {"precision": str, "height": int, "width": int, "file": str, "bytes": int, "sha256": str}
_OPTIONAL = {  # field: its JSON type, when present and not null
    "version": str,
    "task": str,
    "model": dict,
    "dataset": str,
    "ignore_index": int,
    "training": dict,
    "source": dict,
    "created": str,
    "liveseg_version": str,
}
_VARIANT_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "gflops": (int, float),
    "val_miou": (int, float),
    "parity": dict,
}
_JSON_TYPES = {str: "a string", int: "an integer", dict: "an object"}
MAX_MANIFEST_BYTES = 4 << 20  # a 255-class manifest is about 30 kB; anything near this is not one

Bad = Callable[[str], LivesegError]
# A bundle's name becomes its `/models/<name>/` URL segment (and its folder under the models directory).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_name(name: object, fix: str) -> str:
    """The one bundle-name rule, for every writer (`dump`, the CLI before it starts) and the server, so no API
    writes a bundle that `serve` refuses; `fix` says how to give it another name."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise LivesegError(
            f"The bundle name {name!r} cannot be a URL path segment; {fix} with a name of letters, digits, "
            "'.', '_' and '-' that starts with a letter or digit."
        )
    return name


@dataclass(frozen=True)
class Length:
    """JSON Schema's minItems = maxItems for an annotated list (liveseg.runtime.schema reads it)."""

    items: int


RGB = Annotated[list[int], Length(3)]  # 0..255 each


# The nested objects, typed for readers and for the JSON Schema (docs/manifest.schema.json) that the web app's
# types are generated from. They are TypedDicts, so the JSON is read and written as it is.
class ClassInfo(TypedDict):
    id: int  # 0..n-1 in order
    name: str
    color: RGB


class Normalization(TypedDict):
    """On 0..1 RGB."""

    mean: Annotated[list[float], Length(3)]
    std: Annotated[list[float], Length(3)]


class InputSpec(TypedDict):
    name: str
    dtype: NotRequired[str]
    layout: NotRequired[str]
    channels: NotRequired[list[int]]  # the channel counts the graph takes, 3 and/or 4; absent means [3]


class TensorSpec(TypedDict):
    name: str
    dtype: NotRequired[str]


class Outputs(TypedDict):
    labels: TensorSpec
    confidence: TensorSpec
    logits: NotRequired[TensorSpec]  # with WebGL logits variants


class VariantKey(TypedDict):
    """A labels variant, as `default_variant` names it."""

    precision: Precision
    height: int
    width: int


class ModelInfo(TypedDict, total=False):
    """Every writer gives all four; readers accept any (an empty one is not written)."""

    name: str
    kwargs: dict[str, Any]
    params: int
    gflops: float  # at the default variant's size


class Parity(TypedDict):
    """How a variant was judged against its reference (PyTorch, the original file, or the fp32 labels graph)."""

    images: int
    inputs: str
    pixel_agreement: float
    reference: NotRequired[str]  # a logits variant's: "fp32 labels graph"
    miou: NotRequired[float]  # int8 variants: measured mIoU, the reference's, the drop and on what
    reference_miou: NotRequired[float]
    miou_drop: NotRequired[float]
    miou_on: NotRequired[str]


class TrainingInfo(TypedDict):
    """Of a checkpoint liveseg trained."""

    epoch: int
    best_miou: float


class SourceInfo(TypedDict, total=False):
    """Where a pulled, imported or bundled model came from."""

    pulled: str  # the registry name
    imported: str  # the file name
    origin: str
    license: str
    license_url: str
    citation: str
    accuracy: str  # as the upstream reports it
    sha256: str | None
    notes: str
    description: str
    converted: str
    format: str
    layout: str


@dataclass(frozen=True, kw_only=True)
class VariantEntry:
    """One ONNX file of a bundle, as the manifest lists it: a graph and precision at a fixed input size."""

    precision: Precision
    height: int
    width: int
    file: str
    bytes: int
    sha256: str
    graph: Graph = "labels"
    gflops: float | None = None  # per frame at this size, counted by the zoo's FLOP counter at export
    val_miou: float | None = None
    parity: Parity | None = None

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
        for key, types in _VARIANT_OPTIONAL.items():
            if entry.get(key) is not None and (not isinstance(entry[key], types) or isinstance(entry[key], bool)):
                raise bad(f"variant field {key!r} of {entry['file']} has the wrong type")
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
    classes: list[ClassInfo]
    normalization: Normalization
    input: InputSpec
    outputs: Outputs
    variants: list[VariantEntry]
    default_variant: VariantKey
    version: str | None = None
    task: str | None = None
    model: ModelInfo = field(default_factory=ModelInfo)
    dataset: str | None = None
    ignore_index: int | None = None
    training: TrainingInfo | None = None
    source: SourceInfo | None = None
    created: str | None = None
    liveseg_version: str | None = None
    format: Format = FORMAT

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
        check_name(self.name, "give the bundle another name")
        data = self.to_dict()
        Manifest.from_dict(data, Path(path))
        return atomic.write_text(path, json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            with open(path, "rb") as f:
                text = f.read(MAX_MANIFEST_BYTES + 1)
            if len(text) > MAX_MANIFEST_BYTES:
                raise ValueError(f"over {MAX_MANIFEST_BYTES >> 20} MiB")
            data = json.loads(text.decode("utf-8"))
        except RecursionError:  # json nests by recursion: `[[[[…` deeper than the interpreter allows
            raise LivesegError(
                f"Bundle manifest {path} nests too deeply to be a manifest; re-export the bundle."
            ) from None
        except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
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
        if not isinstance(data["name"], str) or not data["name"]:
            raise bad("'name' must be a non-empty string")
        _check_classes(data["classes"], bad)
        _check_normalization(data["normalization"], bad)
        if not isinstance(data["variants"], list) or not data["variants"]:
            raise bad("'variants' must be a non-empty list")
        variants = [VariantEntry.from_dict(v, bad) for v in data["variants"]]
        _check_input(data["input"], bad)
        _check_outputs(data["outputs"], any(v.graph == "logits" for v in variants), bad)
        for key, typ in _OPTIONAL.items():
            if data.get(key) is not None and (not isinstance(data[key], typ) or isinstance(data[key], bool)):
                raise bad(f"{key!r} has the wrong type (expected {_JSON_TYPES[typ]})")
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


def _name_of(entry: Any) -> str | None:
    """The non-empty `name` string of an input or output entry, else None."""
    name = entry.get("name") if isinstance(entry, dict) else None
    return name if isinstance(name, str) and name else None


def _check_input(entry: Any, bad: Bad) -> None:
    """What both readers use: the graph input's name (and, in the web app, which channel counts it takes)."""
    if _name_of(entry) is None:
        raise bad("'input' must be an object with a non-empty string 'name'")
    channels = entry.get("channels", [3])
    if not isinstance(channels, list) or not channels or any(c not in (3, 4) or isinstance(c, bool) for c in channels):
        raise bad("'input.channels' must be a non-empty list of 3 and/or 4")
    for key in ("dtype", "layout"):
        if key in entry and not isinstance(entry[key], str):
            raise bad(f"'input.{key}' must be a string")


def _check_outputs(outputs: Any, logits: bool, bad: Bad) -> None:
    """Every output entry is {"name": str, "dtype": str}; labels and confidence always, logits with WebGL variants."""
    if not isinstance(outputs, dict):
        raise bad("'outputs' must be an object")
    for key in ("labels", "confidence", *(("logits",) if logits else ())):
        if key not in outputs:
            raise bad(f"'outputs.{key}' is missing")
    for key, entry in outputs.items():
        if _name_of(entry) is None or not isinstance(entry.get("dtype", ""), str):
            raise bad(f"'outputs.{key}' must be an object with a non-empty string 'name' (and a string 'dtype')")


def _check_normalization(norm: Any, bad: Bad) -> None:
    def three(values: Any) -> bool:
        return isinstance(values, list) and len(values) == 3 and all(_is_number(x) for x in values)

    if not isinstance(norm, dict) or not three(norm.get("mean")) or not three(norm.get("std")):
        raise bad("'normalization' must be {'mean': [r, g, b], 'std': [r, g, b]} of numbers")
    if any(x <= 0 for x in norm["std"]):
        raise bad("'normalization.std' must be positive")


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


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
