"""JSON Schemas derived from Python types, and TypeScript types generated from those schemas, so that a contract
shared with the web app is written once, in Python: the bundle manifest (`liveseg.runtime.manifest` →
docs/manifest.schema.json → web/src/lib/manifest-schema.ts, kept current by tests/test_contracts.py) and the
app's snapshot (`liveseg.bench.snapshot` → docs/snapshot.schema.json → web/src/app/snapshot-schema.ts, kept
current by the same test).

The manifest's schema states what writers write; `Manifest.from_dict` is the validator that readers run (it is
more lenient about fields that readers do not use, so older bundles keep opening).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
from typing import Annotated, Any, Literal, NotRequired, Union, get_args, get_origin, get_type_hints, is_typeddict

from liveseg.runtime.manifest import Length, Manifest

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}
_TS_SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean", "null": "null"}


def json_schema(root: type = Manifest, title: str = "liveseg bundle manifest") -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `root` (by default `manifest.json`'s): every named type under `$defs`,
    the Literal aliases of root's module (Precision, Graph, ...) among them rather than inline enums."""
    module = vars(sys.modules[root.__module__])
    builder = _Builder({value: name for name, value in module.items() if get_origin(value) is Literal})
    ref = builder.ref(root)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://liveseg.invalid/{root.__name__.lower()}.schema.json",  # no public host: an id, not a URL
        "title": title,
        **ref,
        "$defs": dict(sorted(builder.defs.items())),
    }


class _Builder:
    """The `$defs` of one schema, filled as its types are met."""

    def __init__(self, aliases: dict[Any, str]) -> None:
        self.aliases = aliases
        self.defs: dict[str, Any] = {}

    def ref(self, tp: Any) -> dict[str, Any]:
        """A `$ref` to the named type `tp`, defining it first if needed."""
        name = self.aliases.get(tp) or tp.__name__
        if name not in self.defs:
            self.defs[name] = {}  # reserved, in case of a cycle
            self.defs[name] = self.record(tp) if isinstance(tp, type) else _literal(tp)
            if isinstance(tp, type) and tp.__doc__ and not tp.__doc__.startswith(tp.__name__ + "("):
                self.defs[name]["description"] = " ".join(tp.__doc__.split())
        return {"$ref": f"#/$defs/{name}"}

    def record(self, cls: type) -> dict[str, Any]:
        """A dataclass or TypedDict: its fields in declaration order; which ones are required."""
        hints = get_type_hints(cls, include_extras=True)
        if dataclasses.is_dataclass(cls):
            fields = dataclasses.fields(cls)
            hints = {f.name: _without_none(hints[f.name]) for f in fields}  # `to_dict` leaves a None out
            required = [f.name for f in fields if _is_required(f, hints[f.name])]
        else:  # not __required_keys__: Python 3.11 fills it wrongly from postponed annotations
            total = getattr(cls, "__total__", True)
            required = [n for n, t in hints.items() if total and get_origin(t) is not NotRequired]
            hints = {n: get_args(t)[0] if get_origin(t) is NotRequired else t for n, t in hints.items()}
        properties = {n: self.annotation(t) for n, t in hints.items()}
        return {"type": "object", "properties": properties, "required": required}

    def annotation(self, tp: Any) -> dict[str, Any]:
        """The schema of one annotation: scalars, lists, string-keyed dicts, optionals, literals and named types."""
        origin, args = get_origin(tp), get_args(tp)
        if tp in self.aliases or (isinstance(tp, type) and (dataclasses.is_dataclass(tp) or is_typeddict(tp))):
            return self.ref(tp)
        if tp in _SCALARS:
            return {"type": _SCALARS[tp]}
        if tp is Any:
            return {}
        if origin is Annotated:
            schema = self.annotation(args[0])
            for extra in args[1:]:
                if isinstance(extra, Length):
                    schema |= {"minItems": extra.items, "maxItems": extra.items}
            return schema
        if origin is Literal:
            return _literal(tp)
        if origin in (Union, types.UnionType):
            # An optional field is absent from the JSON rather than null; `X | None` inside a TypedDict allows null.
            return {"anyOf": [self.annotation(a) if a is not type(None) else {"type": "null"} for a in args]}
        if origin is list:
            return {"type": "array", "items": self.annotation(args[0])}
        if origin is dict and get_origin(args[0]) is Literal:  # every key present, as TypeScript's Record<K, V>
            keys = {"propertyNames": self.annotation(args[0]), "required": list(get_args(args[0]))}
            return {"type": "object", **keys, "additionalProperties": self.annotation(args[1])}
        if origin is dict:
            return {"type": "object", "additionalProperties": self.annotation(args[1])}
        raise TypeError(f"no JSON Schema for {tp!r}")


def _is_required(f: dataclasses.Field, tp: Any) -> bool:
    """Written always: a field without a default, or a constant (`format`)."""
    no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    return no_default or (get_origin(tp) is Literal and len(get_args(tp)) == 1)


def _without_none(tp: Any) -> Any:
    if get_origin(tp) not in (Union, types.UnionType):
        return tp
    rest = [a for a in get_args(tp) if a is not type(None)]
    return rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007


def _literal(tp: Any) -> dict[str, Any]:
    values = list(get_args(tp))
    return {"const": values[0]} if len(values) == 1 else {"enum": values}


def typescript(schema: dict[str, Any], header: str) -> str:
    """The schema's `$defs` as TypeScript after `header` (a comment saying where they come from): a literal union
    per enum, an interface per object (optional = not required)."""
    blocks = []
    for name, definition in schema["$defs"].items():
        doc = f"/** {definition['description']} */\n" if "description" in definition else ""
        if "properties" not in definition:
            blocks.append(f"{doc}export type {name} = {_ts(definition)};\n")
            continue
        required = set(definition["required"])
        fields = [f"  {k}{'' if k in required else '?'}: {_ts(v)};\n" for k, v in definition["properties"].items()]
        blocks.append(f"{doc}export interface {name} {{\n{''.join(fields)}}}\n")
    return header + "\n" + "\n".join(blocks)


def _ts(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rpartition("/")[2]
    if "const" in schema or "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema.get("enum", [schema.get("const")]))
    if "anyOf" in schema:
        return " | ".join(_ts(s) for s in schema["anyOf"])
    kind = schema.get("type", "")
    if kind == "array":
        item = _ts(schema["items"])
        if schema.get("minItems") is not None and schema.get("minItems") == schema.get("maxItems"):
            return "[" + ", ".join([item] * schema["minItems"]) + "]"
        return f"{item}[]"
    if kind == "object":
        key = _ts(schema["propertyNames"]) if "propertyNames" in schema else "string"
        return f"Record<{key}, {_ts(schema['additionalProperties'])}>"
    return _TS_SCALARS.get(kind, "unknown")
