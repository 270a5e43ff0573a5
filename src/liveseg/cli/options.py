"""Commands generated from settings dataclasses, and the up-front checks shared by several sub-commands."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterable
from dataclasses import MISSING, Field, is_dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_type_hints

import typer

from liveseg import extras
from liveseg.errors import LivesegError
from liveseg.settings import options


def check_out_dir(path: Path, option: str = "--out") -> Path:
    """Fail now, in one sentence, if `path` cannot be or become a folder we may write in.

    Commands call this before their work, so a long run does not end in a FileExistsError or PermissionError.
    """
    if path.exists() and not path.is_dir():
        raise LivesegError(f"{option} {path} is a file, not a folder; pass a folder path (it is created if missing).")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise LivesegError(f"{option} {path} cannot be created because {existing} is a file; pass another folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise LivesegError(
            f"{option} {path} is not writable (no permission to write in {existing}); pass a folder you may write to."
        )
    return path


def refuse_overwriting(outputs: Iterable[Path], inputs: Iterable[Path], option: str = "--out") -> None:
    """Refuse, before anything is written, an output that would replace an input (e.g. --out = input folder)."""
    by_entry = {_entry(p): p for p in inputs}
    for out in outputs:
        if (source := by_entry.get(_entry(out))) is not None:
            raise LivesegError(
                f"Writing {out} would overwrite the input {source}; pass an {option} folder apart from the inputs."
            )


def _entry(path: Path) -> str:
    """The directory entry a write replaces: the real folder plus the name (a symlink is replaced, not followed)."""
    return os.path.join(os.path.realpath(path.parent), path.name)


def refuse_replacing(folder: Path, inputs: Iterable[Path | None], option: str = "--out") -> None:
    """Refuse a `folder` that will be replaced wholesale while it holds (or is) one of the inputs."""
    real = Path(os.path.realpath(folder))
    for source in (s for s in inputs if s is not None):
        resolved = Path(os.path.realpath(source))
        if resolved == real or real in resolved.parents:
            raise LivesegError(
                f"{option} {folder} holds the input {source}, and that folder is replaced as a whole; "
                f"pass another {option}."
            )


def require(extra: str, *modules: str, command: str) -> None:
    """Refuse `liveseg COMMAND`, before any work, when this install lacks `modules` of `extra` (all of the extra's
    when none are named): one sentence naming the extra, instead of a traceback after the work."""
    extras.require(extra, *modules, what=f"`liveseg {command}`")


def choice(values: Iterable[str]) -> Any:
    """The type of an option that takes one of `values`: Typer shows them in --help, checks them and completes them."""
    return Literal[tuple(values)]


def comma_list(values: Iterable[str]) -> dict[str, Any]:
    """`typer.Option` arguments for a comma list of `values` (e.g. --precision fp32,int8): --help shows the values
    and the shell completes each item after the last comma."""
    values = tuple(values)

    def complete(incomplete: str) -> list[str]:
        done, _, last = incomplete.rpartition(",")
        given = set(done.split(","))
        return [f"{done},{v}" if done else v for v in values if v.startswith(last) and v not in given]

    return {"metavar": "<" + ",".join(values) + ">", "autocompletion": complete}


def command(function: Callable[..., None]) -> Callable[..., None]:
    """`function` as a Typer command: a parameter annotated with a settings dataclass (liveseg.settings) becomes
    that dataclass's options, parsed into one instance before `function` runs (usage errors come before any
    work); the other parameters stay as they are declared."""
    hints = get_type_hints(function, include_extras=True)
    groups = {name: kind for name, kind in hints.items() if isinstance(kind, type) and is_dataclass(kind)}
    params = []
    for p in inspect.signature(function).parameters.values():
        if p.name in groups:
            params += _parameters(groups[p.name])
        else:
            params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[p.name]))

    @functools.wraps(function)
    def run(**values: Any) -> None:
        for name, settings in groups.items():
            given = {f.name: _value(f, values.pop(f.metadata["flag"] or f.name)) for f in options(settings)}
            values[name] = settings(**given)
        function(**values)

    run.__signature__ = inspect.Signature(params, return_annotation=None)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run


def _parameters(settings: type) -> list[inspect.Parameter]:
    hints = get_type_hints(settings)
    return [_parameter(f, hints[f.name]) for f in options(settings)]


def _parameter(f: Field, kind: Any) -> inspect.Parameter:
    """One field's Typer option (or argument): its type on the command line, its default as typed, its help."""
    meta = f.metadata
    default = meta.get("text", inspect.Parameter.empty if f.default is MISSING else f.default)
    if meta["repeat"]:
        kind = list[str] | None
    elif meta["parse"]:
        kind = str if default is not None else str | None
    if meta["choices"]:
        kind = choice(meta["choices"]) if default is not None else choice(meta["choices"]) | None
    extra = {**meta["cli"], **(comma_list(meta["items"]) if meta["items"] else {})}
    if meta["argument"]:
        info = typer.Argument(help=meta["help"], **extra)
    else:
        info = typer.Option(*meta["decls"], help=meta["help"], **extra)
    name = meta["flag"] or f.name
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, info])


def _value(f: Field, given: Any) -> Any:
    """What the command line gave → the field's value (text parsed; an option left out of a repeat is empty)."""
    parse = f.metadata["parse"]
    if f.metadata["repeat"]:
        return parse(given or [])
    return parse(given) if parse and given is not None else given
