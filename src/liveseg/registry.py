"""Named things of one kind (architectures, datasets, downloadable sources, pullable models), each registered
once where it is defined and looked up by name, so every registry refuses a second entry and answers an unknown
name the same way: one sentence that lists the names there are."""

from __future__ import annotations

from typing import TypeVar

from liveseg.errors import LivesegError

T = TypeVar("T")


class Registry(dict[str, T]):
    """A dict (iterate, `in`, `.get` as usual) that `add`s each name once and `lookup`s with a user-facing error.

    `kind` names the things in messages ("dataset"); `choose` introduces the list of names in the error.
    """

    def __init__(self, kind: str, choose: str = "choose one of ") -> None:
        super().__init__()
        self.kind = kind
        self.choose = choose

    def add(self, name: str, item: T) -> T:
        if name in self:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self[name] = item
        return item

    def lookup(self, name: str) -> T:
        try:
            return self[name]
        except KeyError:
            raise LivesegError(f"Unknown {self.kind} {name!r}; {self.choose}{', '.join(self.names())}.") from None

    def names(self) -> list[str]:
        return sorted(self)
