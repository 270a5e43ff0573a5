"""The TensorFlow conversion environment: ready only with this recipe installed, one sentence when it is not."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from liveseg import tfenv
from liveseg.errors import LivesegError


def test_a_missing_environment_is_one_sentence_naming_the_setup_command(tmp_path: Path) -> None:
    with pytest.raises(LivesegError) as caught:
        tfenv.require(tmp_path / "none", "Importing the TF.js model m.json")
    assert str(caught.value) == (
        f"Importing the TF.js model m.json needs the TensorFlow conversion environment, which {tmp_path / 'none'} "
        f"does not hold; create it with `liveseg setup-tfjs --venv {tmp_path / 'none'}` (a few minutes, about "
        "2.5 GB), then try again."
    )


def test_only_the_current_recipe_counts_as_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / tfenv.MARKER).write_text(json.dumps({"recipe": tfenv.recipe()}), encoding="utf-8")
    assert tfenv.require(tmp_path, "This") == tmp_path
    monkeypatch.setattr(tfenv, "NPM_PACKAGES", ("@tensorflow/tfjs@9.9.9",))
    assert not tfenv.is_ready(tmp_path)  # a changed recipe is installed again


def test_location_prefers_the_option_then_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIVESEG_TFJS_VENV", raising=False)
    assert tfenv.location() == Path(".venv-bench").absolute()
    monkeypatch.setenv("LIVESEG_TFJS_VENV", "/opt/tf")
    assert tfenv.location() == Path("/opt/tf")
    assert tfenv.location(Path("mine")) == Path("mine").absolute()


def test_a_failing_tool_is_named_with_the_lines_that_say_why(tmp_path: Path) -> None:
    script = "import sys; print('loading'); print('ValueError: op Foo is not supported', file=sys.stderr); sys.exit(3)"
    with pytest.raises(LivesegError, match=r"^tf2onnx failed: ValueError: op Foo is not supported$"):
        tfenv.run(["python3", "-c", script], tmp_path, "tf2onnx", 60)
    with pytest.raises(LivesegError, match=r"could not start: .*no-such-tool is missing"):
        tfenv.run([tmp_path / "no-such-tool"], tmp_path, "tf2onnx", 60)


def test_tools_run_without_tensorflows_cpu_specific_rewrites(tmp_path: Path) -> None:
    """On AVX-512 CPUs TensorFlow's oneDNN rewrites made tf2onnx fail on TF.js models that convert elsewhere."""
    script = "import os; print(os.environ['TF_ENABLE_ONEDNN_OPTS'], os.environ['MINE'])"
    out = tfenv.run(["python3", "-c", script], tmp_path, "tf2onnx", 60, os.environ | {"MINE": "kept"})
    assert out.split() == ["0", "kept"]
