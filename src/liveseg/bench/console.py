"""The benchmark results as Rich tables on the terminal (the figures themselves come from `bench.summary`)."""

from __future__ import annotations

from liveseg.bench.results import Results
from liveseg.bench.summary import (
    BR_HEADER,
    PY_HEADER,
    SOAK_HEADER,
    browser_rows,
    headline,
    peak_rows,
    python_rows,
    result_notes,
    soak_rows,
    soak_text,
    target_rows,
)


def console(results: Results) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    con = Console()
    tables = []
    if results.python:
        tables.append(("Python runtimes (per frame)", PY_HEADER, python_rows(results.python)))
    if results.browser:
        header = [c for c in BR_HEADER if c != "model"]
        tables.append(("Browser pipelines (median ms per stage)", header, browser_rows(results.browser, True)))
    pr = peak_rows(results.python, results.browser)
    if pr:
        tables.append(("Runtime peak (best call)", ["runtime", "threads", "probe", "GFLOP", "ms", "GFLOP/s"], pr))
    if results.soak:
        tables.append(("Soak", SOAK_HEADER, soak_rows(results.soak)))
    for title, header, rows in tables:
        table = Table(title=title)
        for col in header:
            left = col in ("runtime", "page", "model", "precision", "probe", "memory")
            table.add_column(col, justify="left" if left else "right")
        for row in rows:
            table.add_row(*map(escape, row))
        con.print(table)
    targets = Table(title="Targets (wasm)")
    for col in ("target", "measured", "", "verdict"):
        targets.add_column(col)
    for target in target_rows(headline(results)):
        targets.add_row(*map(escape, target))
    con.print(targets)
    if results.soak:
        con.print(escape(soak_text(results.soak)), highlight=False, soft_wrap=True)
    for note in result_notes(results):
        con.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
