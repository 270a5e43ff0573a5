"""liveseg.extras mirrors pyproject.toml's extras, and names what is missing in one sentence."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from liveseg import extras
from liveseg.errors import LivesegError

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _names(requirements: list[str]) -> set[str]:
    return {re.match(r"[A-Za-z0-9_.-]+", r)[0].lower() for r in requirements}


def test_every_user_extra_is_listed_with_what_the_base_install_lacks() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    base = _names(project["dependencies"])
    declared = {name: _names(reqs) - base for name, reqs in project["optional-dependencies"].items() if name != "dev"}
    assert {name: set(modules) for name, modules in extras.EXTRAS.items()} == declared


def test_require_names_the_missing_modules_and_the_extra(monkeypatch) -> None:
    monkeypatch.setattr(extras, "_importable", lambda module: module == "torch")
    extras.require("train", "torch", what="This")
    with pytest.raises(LivesegError) as caught:
        extras.require("bench", "psutil", "matplotlib", what="`liveseg bench python`")
    assert str(caught.value) == (
        "`liveseg bench python` needs the psutil and matplotlib packages, which this install lacks; "
        "run pip install 'liveseg[bench]', then try again."
    )
    with pytest.raises(ValueError, match="not modules of the train extra"):
        extras.missing("train", "psutil")
