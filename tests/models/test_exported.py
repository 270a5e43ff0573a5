"""The graph naming that export writes and `--init` / exporting a bundle again read, defined once."""

from __future__ import annotations

from liveseg import models
from liveseg.models.exported import GRAPH_PREFIX, Logits


def test_traced_weights_are_named_with_the_graph_prefix() -> None:
    net = models.create("fast_scnn", num_classes=3)
    names = list(Logits(net).state_dict())
    assert names and all(n.startswith(GRAPH_PREFIX) for n in names)
    assert {n.removeprefix(GRAPH_PREFIX) for n in names} == set(net.state_dict())
