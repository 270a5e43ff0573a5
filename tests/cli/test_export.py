"""The exit code of a conversion (export, import and pull share `report_result`): one rule, docs/ARCHITECTURE.md's."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from liveseg.cli.export import LineProgress, report_result
from liveseg.export.variants import ExportResult, VariantResult
from liveseg.progress import BYTES


def _variant(precision: str, passed: bool, graph: str = "labels", optional: bool = False) -> VariantResult:
    problem = "" if passed else f"The {precision} {graph} variant disagreed with fp32, so it was not written."
    return VariantResult(precision, 64, 64, passed, {}, problem=problem, bytes=1000, graph=graph, optional=optional)


def _exit_code(result: ExportResult) -> int:
    try:
        report_result(result)
    except SystemExit as exc:
        return int(exc.code)
    return 0


def test_a_requested_variant_that_failed_exits_1_with_the_bundle_written(tmp_path: Path, capsys) -> None:
    result = ExportResult(tmp_path, None, [_variant("fp32", True), _variant("int8", False)])
    assert _exit_code(result) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "int8 labels variant disagreed" in err and "1 requested variant(s) failed and are not in the bundle" in err


@pytest.mark.parametrize(
    ("variants", "written", "code"),
    [
        ([("fp32", True, "labels"), ("fp32", False, "logits")], True, 0),  # WebGL's extra variant: a warning
        ([("fp32", True, "labels"), ("int8", False, "labels", True)], True, 0),  # int8 tried, not named: a warning
        ([("fp32", True, "labels"), ("fp32", True, "logits")], True, 0),
        ([("fp32", False, "labels")], False, 1),  # nothing passed, no bundle
    ],
)
def test_only_requested_variants_decide_the_exit_code(tmp_path: Path, variants, written: bool, code: int) -> None:
    result = ExportResult(tmp_path if written else None, None, [_variant(*v) for v in variants])
    assert _exit_code(result) == code


def test_plain_lines_name_each_stage_but_no_download() -> None:
    out = io.StringIO()
    lines = LineProgress(Console(file=out))
    lines.add_task("model.onnx", total=1000, unit=BYTES)
    task = lines.add_task("64x96: tracing", total=2)
    lines.update(task, description="64x96: checking int8")
    said = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert said == ["64x96: tracing", "64x96: checking int8"]
