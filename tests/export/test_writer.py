"""The bundle writer: a name that no server would serve is refused before any export work starts."""

from __future__ import annotations

import pytest

from liveseg.errors import LivesegError
from liveseg.export.writer import BundleMeta


def test_bundle_meta_refuses_a_name_that_cannot_be_served() -> None:
    with pytest.raises(LivesegError, match="'my model/v2' cannot be a URL path segment"):
        BundleMeta(
            name="my model/v2",
            model={"name": "onnx", "kwargs": {}},
            dataset="custom",
            classes=["a", "b"],
            palette=[[0, 0, 0], [255, 255, 255]],
            ignore_index=255,
            normalization={"mean": [0.5] * 3, "std": [0.5] * 3},
        )
