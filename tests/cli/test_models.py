"""`liveseg models`' table: one line per architecture within 80 columns (computing the figures needs PyTorch and
half a minute, so the table is rendered from the registry's real paper references with given figures)."""

from __future__ import annotations

import re

from rich.console import Console

from liveseg.cli.models import zoo_table


def test_the_zoo_table_fits_80_columns_one_line_per_model() -> None:
    from liveseg import models

    names = models.list_models()
    rows = [(name, 11_030_000, 123.45, models.get_config(name).paper) for name in names]
    console = Console(width=80, record=True)
    console.print(zoo_table(rows, (360, 480), 11))
    lines = console.export_text().splitlines()
    assert max(map(len, lines)) <= 80
    for name in names:
        (line,) = [line for line in lines if f" {name} " in f" {line} "]
        assert "11.03" in line and "123.45" in line and re.search(r", (19|20)\d\d", line), line  # paper, year
    assert any("Poudel et al., 2019" in line for line in lines)
