"""Where benchmark results live: one JSON file per `liveseg bench` command in the results folder, written and read
here for the report and the commands alike.

Each command's result is a frozen dataclass defined beside the code that measures it; `to_json` and `from_json`
map one to its JSON and back by the field types alone, so a field is declared once. Keys follow the field order,
and a field whose default is None is left out of the JSON while None, as the files have always done for what
some results lack (the suite's fields of a nested browser result, the peer figures nobody measured).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from liveseg import atomic
from liveseg.bench.browser import BrowserResult
from liveseg.bench.person import PersonResult
from liveseg.bench.python import PythonResult
from liveseg.bench.soak import SoakResult
from liveseg.bench.temporal import TemporalResult
from liveseg.errors import LivesegError

PYTHON_JSON = "python.json"
BROWSER_JSON = "browser.json"
SOAK_JSON = "soak.json"
PERSON_JSON = "person.json"
TEMPORAL_JSON = "temporal.json"
TRAIN_JSON = "train.json"
RAY_JSON = "ray.json"
RESULT_FILES = {  # the files the report reads, by `Results` field
    "python": PYTHON_JSON,
    "browser": BROWSER_JSON,
    "soak": SOAK_JSON,
    "person": PERSON_JSON,
    "temporal": TEMPORAL_JSON,
}

T = TypeVar("T")
Result = PythonResult | BrowserResult | SoakResult | PersonResult | TemporalResult


@dataclass(frozen=True)
class Results:
    """What a results folder holds for the report: each command's result, None where its file is absent."""

    python: PythonResult | None = None
    browser: BrowserResult | None = None
    soak: SoakResult | None = None
    person: PersonResult | None = None
    temporal: TemporalResult | None = None

    def present(self) -> list[tuple[str, Result]]:
        """(command, result) for each result there, in RESULT_FILES order."""
        found = ((name, getattr(self, name)) for name in RESULT_FILES)
        return [(name, result) for name, result in found if result is not None]


def to_json(value: Any) -> Any:
    """The JSON values of a result: dataclasses become objects (without the fields left at a default of None),
    the rest stays as it is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_json(v)
            for f in dataclasses.fields(value)
            if (v := getattr(value, f.name)) is not None or f.default is not None
        }
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def from_json(tp: Any, data: Any) -> Any:
    """`data`, parsed JSON, as the type `tp`: a dataclass (a key it lacks takes the field's default), a list,
    dict or optional of one, or a scalar, which is taken as it is (an int where a float is declared stays an int,
    so the file is written back the same)."""
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        unknown = set(data) - set(hints)
        if unknown:
            raise ValueError(f"{tp.__name__} has no field {', '.join(sorted(unknown))}")
        return tp(**{k: from_json(hints[k], v) for k, v in data.items()})
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        kinds = [a for a in args if a is not type(None)]
        return data if data is None or len(kinds) > 1 else from_json(kinds[0], data)  # > 1: scalars
    if origin is list:
        return [from_json(args[0], v) for v in data]
    if origin is dict:
        return {k: from_json(args[1], v) for k, v in data.items()}
    return data


def save_json(path: Path, result: object) -> None:
    atomic.write_text(path, json.dumps(to_json(result), indent=1, allow_nan=True) + "\n")


def load_json(path: Path, cls: type[T]) -> T:
    """A result file as its dataclass; one that does not fit is a LivesegError naming the file."""
    try:
        result: T = from_json(cls, json.loads(path.read_text()))
    except (AttributeError, TypeError, ValueError) as exc:
        raise LivesegError(f"{path} is not a result this liveseg reads ({exc}); run its benchmark again.") from None
    return result


def load_results(out: Path) -> Results:
    kinds = _hints(Results)
    files = {key: out / name for key, name in RESULT_FILES.items()}
    return Results(**{key: load_json(path, kinds[key]) for key, path in files.items() if path.is_file()})
