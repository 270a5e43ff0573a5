"""Turns benchmark JSON into a console table, PNG charts and BENCHMARKS.md, so the document is always regenerated
from the raw figures and never edited by hand: the figures (`summary`), the terminal (`console`), the pictures
(`charts`) and the document (`markdown`) each have their module; this one writes them."""

from __future__ import annotations

from pathlib import Path

from liveseg import atomic
from liveseg.bench.charts import charts
from liveseg.bench.console import console
from liveseg.bench.markdown import markdown
from liveseg.bench.results import Results, load_results


def write_report(out: Path, report: Path, show: bool = True) -> Results:
    """Console tables, charts and BENCHMARKS.md from whatever results `out` holds."""
    results = load_results(out)
    if show:
        console(results)
    pictures = charts(results, out)
    atomic.write_text(report, markdown(results, out, report, pictures))
    return results
