"""The contracts Python and TypeScript share, generated from the Python types: each one's JSON Schema is derived
from its types (`liveseg.runtime.schema`) and its TypeScript types from the schema; both files are checked in and
kept current here. After changing such a type, rewrite them with `python tests/test_contracts.py`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from liveseg.bench import snapshot
from liveseg.runtime import schema

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Contract:
    name: str
    json_schema: Callable[[], dict[str, Any]]
    schema_file: str  # under docs/
    typescript_file: str  # under web/src/
    what: str  # the generated TypeScript's header says what it is
    types: str  # and which module's types it comes from

    def schema_text(self) -> str:
        return json.dumps(self.json_schema(), indent=2) + "\n"

    def typescript_text(self) -> str:
        header = (
            f"/**\n * {self.what}, generated from docs/{self.schema_file}\n"
            f" * (itself derived from {self.types}): do not edit; rewrite with `python tests/test_contracts.py`.\n */\n"
        )
        return schema.typescript(self.json_schema(), header)


CONTRACTS = [
    Contract(
        "manifest", schema.json_schema, "manifest.schema.json", "lib/manifest-schema.ts",
        "The bundle manifest's types", "liveseg.runtime.manifest",
    ),
    Contract(
        "snapshot", snapshot.json_schema, "snapshot.schema.json", "app/snapshot-schema.ts",
        "The app's snapshot types (`window.liveseg.stats()`)", "liveseg.bench.snapshot",
    ),
]  # fmt: skip


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_the_schema_file_is_the_python_types(contract: Contract) -> None:
    text = (ROOT / "docs" / contract.schema_file).read_text()
    assert text == contract.schema_text(), "rewrite it with `python tests/test_contracts.py`"


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_the_typescript_types_are_the_schema(contract: Contract) -> None:
    text = (ROOT / "web" / "src" / contract.typescript_file).read_text()
    assert text == contract.typescript_text(), "rewrite it with `python tests/test_contracts.py`"


if __name__ == "__main__":
    for contract in CONTRACTS:
        (ROOT / "docs" / contract.schema_file).write_text(contract.schema_text())
        (ROOT / "web" / "src" / contract.typescript_file).write_text(contract.typescript_text())
