"""Options that take a few values show them in --help, refuse others in one line and complete in the shell."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Annotated

import typer
from typer.testing import CliRunner

from liveseg.cli.options import choice, comma_list, command
from liveseg.settings import option, parse_sizes


def test_comma_lists_complete_the_item_after_the_last_comma() -> None:
    complete = comma_list(("fp32", "fp16", "int8"))["autocompletion"]
    assert complete("") == ["fp32", "fp16", "int8"]
    assert complete("fp") == ["fp32", "fp16"]
    assert complete("fp32,") == ["fp32,fp16", "fp32,int8"]  # an item given already is not offered again
    assert complete("fp32,i") == ["fp32,int8"]
    assert comma_list(("a", "b"))["metavar"] == "<a,b>"
    assert typing.get_args(choice(("local", "ray"))) == ("local", "ray")


def test_help_shows_the_choices_and_the_model_names(cli) -> None:
    proc = cli("segment", "--help")
    assert proc.returncode == 0, proc.stderr
    help_text = " ".join(proc.stdout.split())
    for shown in ("<labels,color,overlay,json>", "<fp32|fp16|int8>", "<local|ray>", "person-selfie", "liveseg pull"):
        assert shown in help_text
    assert "<str>" not in help_text.split("--size")[0]  # --model, --save and --precision come first


def test_a_value_outside_the_choices_is_a_usage_error(cli) -> None:
    proc = cli("eval", "default", "--device", "tpu")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "'tpu' is not one of 'auto', 'cpu', 'cuda'" in proc.stderr


def test_the_shell_completes_choices_and_comma_lists(cli) -> None:
    def complete(line: str) -> list[str]:
        words = line.split(" ")
        env = {"_LIVESEG_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
        proc = cli(env=env)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()

    assert complete("liveseg segment --precision ") == ["fp32", "fp16", "int8"]
    assert complete("liveseg export best.pt --precision fp32,i") == ["fp32,int8"]
    assert "--install-completion" in complete("liveseg --inst")


@dataclass
class Settings:
    sizes: list[tuple[int, int]] = option("360x480", "Sizes.", parse=parse_sizes, flag="size")
    device: str = option("auto", "Where.", choices=("auto", "cpu"))
    hidden: int = option(3)


def test_a_command_is_generated_from_its_settings() -> None:
    """Each field becomes an option with its flag, default text, choices and parser; other parameters stay."""
    seen = []

    def run(settings: Settings, verbose: Annotated[bool, typer.Option(help="Say more.")] = False) -> None:
        """Run it."""
        seen.append((settings, verbose))

    app = typer.Typer()
    app.command()(command(run))
    result = CliRunner().invoke(app, ["--size", "64x64,32x48", "--verbose"])
    assert result.exit_code == 0, result.output
    assert seen == [(Settings(sizes=[(64, 64), (32, 48)]), True)]
    help_text = CliRunner().invoke(app, ["--help"], terminal_width=200).output
    assert "Run it." in help_text and "[default: 360x480]" in help_text and "<auto|cpu>" in help_text
    assert "--hidden" not in help_text
    assert CliRunner().invoke(app, ["--device", "tpu"]).exit_code == 2
