"""Turns benchmark JSON into a console table, PNG charts and BENCHMARKS.md, so the document is always regenerated
from the raw figures and never edited by hand: the figures (`summary`), the terminal (`console`), the pictures
(`charts`) and the document (`markdown`) each have their module; this one writes them."""

from __future__ import annotations

import os
from pathlib import Path

from liveseg import atomic
from liveseg.bench.charts import TEMPORAL_CHART, charts
from liveseg.bench.console import console
from liveseg.bench.markdown import TEMPORAL_HEADING, markdown, temporal_section
from liveseg.bench.results import TEMPORAL_JSON, Results, load_json, load_results
from liveseg.bench.temporal import TemporalResult


def write_temporal(out: Path, report: Path) -> None:
    """Draw the temporal chart and put the temporal section into `report` in place of its old one (else before
    the notes or charts), leaving every other section as it is."""
    temporal = load_json(out / TEMPORAL_JSON, TemporalResult)
    charts(Results(temporal=temporal), out)
    section = temporal_section(temporal, Path(os.path.relpath(out / TEMPORAL_CHART, report.parent)))
    lines = report.read_text().splitlines() if report.is_file() else ["# liveseg benchmarks", ""]
    heads = [i for i, line in enumerate(lines) if line.startswith("## ")]
    if TEMPORAL_HEADING in lines:
        start = lines.index(TEMPORAL_HEADING)
        end = next((i for i in heads if i > start), len(lines))
    else:
        start = end = next((i for i in heads if lines[i] in ("## Notes", "## Charts")), len(lines))
    atomic.write_text(report, "\n".join([*lines[:start], *section, *lines[end:]]) + "\n")


def write_report(out: Path, report: Path, show: bool = True) -> Results:
    """Console tables, charts and BENCHMARKS.md from whatever results `out` holds."""
    results = load_results(out)
    if show:
        console(results)
    pictures = charts(results, out)
    atomic.write_text(report, markdown(results, out, report, pictures))
    return results
