"""The manifest's JSON Schema, derived from its Python types (`liveseg.runtime.manifest`), so that the schema
(docs/manifest.schema.json) and the web app's types generated from it (web/src/lib/manifest-schema.ts) follow
the dataclasses instead of being written a second time. tests/runtime/test_schema.py keeps both files current.

The schema states what writers write; `Manifest.from_dict` is the validator that readers run (it is more lenient
about fields that readers do not use, so older bundles keep opening).
"""

from __future__ import annotations

import dataclasses
import types
from typing import Annotated, Any, Literal, NotRequired, Union, get_args, get_origin, get_type_hints, is_typeddict

from liveseg.runtime import manifest
from liveseg.runtime.manifest import Length, Manifest

SCHEMA_ID = "https://liveseg.invalid/manifest.schema.json"  # no public host yet; an id, not a location
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}
# The Literal aliases that get a name of their own (Precision, Graph, Format) rather than an inline enum.
_ALIASES = {value: name for name, value in vars(manifest).items() if get_origin(value) is Literal}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `manifest.json`: every named type under `$defs`."""
    defs: dict[str, Any] = {}
    root = _ref(Manifest, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "liveseg bundle manifest",
        **root,
        "$defs": dict(sorted(defs.items())),
    }


def _ref(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """A `$ref` to the named type `tp`, defining it in `defs` first if needed."""
    name = _ALIASES.get(tp) or tp.__name__
    if name not in defs:
        defs[name] = {}  # reserved, in case of a cycle
        defs[name] = _object(tp, defs) if isinstance(tp, type) else _literal(tp)
        if isinstance(tp, type) and tp.__doc__ and not tp.__doc__.startswith(tp.__name__ + "("):
            defs[name]["description"] = " ".join(tp.__doc__.split())
    return {"$ref": f"#/$defs/{name}"}


def _object(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
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
    properties = {n: _type(t, defs) for n, t in hints.items()}
    return {"type": "object", "properties": properties, "required": required}


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


def _type(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The schema of one annotation: scalars, lists, string-keyed dicts, optionals, literals and named types."""
    origin, args = get_origin(tp), get_args(tp)
    if tp in _ALIASES or (isinstance(tp, type) and (dataclasses.is_dataclass(tp) or is_typeddict(tp))):
        return _ref(tp, defs)
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    if tp is Any:
        return {}
    if origin is Annotated:
        schema = _type(args[0], defs)
        for extra in args[1:]:
            if isinstance(extra, Length):
                schema |= {"minItems": extra.items, "maxItems": extra.items}
        return schema
    if origin is Literal:
        return _literal(tp)
    if origin in (Union, types.UnionType):
        # An optional field is absent from the JSON rather than null; `X | None` inside a TypedDict allows null.
        return {"anyOf": [_type(a, defs) if a is not type(None) else {"type": "null"} for a in args]}
    if origin is list:
        return {"type": "array", "items": _type(args[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type(args[1], defs)}
    raise TypeError(f"no JSON Schema for {tp!r}")
