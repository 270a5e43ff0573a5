"""Parsing and up-front checks shared by several sub-commands."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from liveseg import extras
from liveseg.errors import LivesegError


def parse_size(text: str) -> tuple[int, int]:
    """'360x480' → (360, 480): height first, as everywhere in liveseg."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or int(m[1]) < 16 or int(m[2]) < 16:
        raise LivesegError(f"Size {text!r} is not HEIGHTxWIDTH with both at least 16, e.g. 360x480.")
    return int(m[1]), int(m[2])


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """'360x480,180x240' → [(360, 480), (180, 240)]."""
    return [parse_size(part) for part in text.split(",") if part.strip()]


def parse_precisions(text: str) -> list[str]:
    """'fp32, FP16,fp32' → ['fp32', 'fp16']: lower-cased, de-duplicated, in the order given (checked by export)."""
    precisions = [p.strip().lower() for p in text.split(",") if p.strip()]
    return list(dict.fromkeys(precisions))


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
