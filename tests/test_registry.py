"""One registry for architectures, datasets, sources and pullable models: each name once, unknown names answered
in one sentence that lists the known ones."""

from __future__ import annotations

import pytest

from liveseg import sources
from liveseg.data import base
from liveseg.errors import LivesegError
from liveseg.export import pretrained
from liveseg.registry import Registry


def test_a_name_is_registered_once_and_looked_up() -> None:
    colours: Registry[int] = Registry("colour")
    assert colours.add("red", 1) == 1 and colours.lookup("red") == 1 and colours.get("blue") is None
    with pytest.raises(ValueError, match="colour 'red' is registered twice"):
        colours.add("red", 2)
    colours.add("blue", 3)
    with pytest.raises(LivesegError, match=r"^Unknown colour 'green'; choose one of blue, red\.$"):
        colours.lookup("green")


def test_each_kind_of_name_uses_it() -> None:
    from liveseg.models import _registry

    for registry in (_registry._MODELS, base._REGISTRY, sources.SOURCES, pretrained.PRETRAINED):
        assert isinstance(registry, Registry) and registry.names() == sorted(registry)
