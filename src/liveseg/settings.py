"""Settings declared once: a dataclass whose fields are `option()`s is what a library function takes and what its
command's options are generated from (`liveseg.cli.options.command`), so a default, a help text or a list of
choices cannot differ between the two.

A field's default is written as a user types it when the field has a parser (`option("1,2", ..., parse=counts(
"threads"))`): the command line shows that text and parses what it is given, the dataclass holds the parsed value.
This module knows nothing of Typer: the command-line details a field needs (`min`, `envvar`, ...) ride along as
data for the CLI to read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import MISSING, Field, field, fields
from typing import Any

from liveseg.errors import LivesegError

Parser = Callable[[Any], Any]


def option(
    default: Any = MISSING,
    help: str | None = None,
    *,
    parse: Parser | None = None,
    choices: Iterable[str] | None = None,
    items: Iterable[str] | None = None,
    flag: str | None = None,
    decls: tuple[str, ...] = (),
    argument: bool = False,
    repeat: bool = False,
    recipe: bool = False,
    **cli: Any,
) -> Any:
    """A setting and everything its command-line option needs (a field without `help` is no option).

    `parse`: the option is text (a list of texts with `repeat`) turned into the field's value; `default` is then
    that text, parsed for the dataclass. `choices`: one of these values; `items`: a comma list of them (--help
    shows them, the shell completes them). `flag`: the option's name when it is not the field's; `decls`: its
    spellings (`--model`, `-m`); `argument`: positional. `recipe`: changes what a training run computes (see
    TrainConfig.recipe_changes). `cli`: further keywords of the Typer option (`min`, `envvar`, `metavar`, ...).
    """
    if repeat:
        parse = parse or list  # the texts given, as they are, unless a parser says otherwise
    metadata = {
        "help": help, "parse": parse, "choices": tuple(choices or ()), "items": tuple(items or ()), "flag": flag,
        "decls": decls, "argument": argument, "repeat": repeat, "recipe": recipe, "cli": cli,
    }  # fmt: skip
    if parse is not None and (isinstance(default, str) or repeat):
        metadata["text"] = None if repeat else default
        return field(default_factory=lambda: parse([] if repeat else default), metadata=metadata)
    return field(default=default, metadata=metadata)


def options(settings: type) -> list[Field]:
    """The fields of a settings dataclass that are command-line options, in declaration order."""
    return [f for f in fields(settings) if f.metadata.get("help")]


def flagged(settings: type, flag: str) -> tuple[str, ...]:
    """Names of the fields declared with `flag` set (e.g. "recipe")."""
    return tuple(f.name for f in fields(settings) if f.metadata.get(flag))


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


def counts(name: str) -> Callable[[str], list[int]]:
    """The parser of option --`name`, a comma list of whole numbers of at least 1 (thread counts, batch sizes)."""

    def parse(text: str) -> list[int]:
        try:
            values = [int(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise LivesegError(f"--{name} {text!r} is not a comma list of whole numbers, e.g. 1,2.") from None
        if not values or min(values) < 1:
            raise LivesegError(f"--{name} needs whole numbers of at least 1, e.g. 1,2.")
        return values

    return parse
