"""`liveseg train` as a user runs it: a real process; bad input gives one sentence and exit code 2."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from liveseg.cli import app
from liveseg.models import checkpoint
from liveseg.progress import BYTES
from tests.helpers import LIVESEG

FAST = ["--model", "fast_scnn", "--epochs", "1", "--batch", "2", "--crop", "64x64", "--threads", "1"]


def _train(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([LIVESEG, "train", *args], env=env, capture_output=True, text=True, timeout=120)


def _one_sentence(stderr: str) -> str:
    text = " ".join(stderr.split())
    assert text.startswith("error: ") and text.endswith(".") and "Traceback" not in text, stderr
    return text


def test_corrupt_image_is_named(real_camvid_copy: Path, tmp_path: Path) -> None:
    broken = sorted((real_camvid_copy / "train").iterdir())[1]
    broken.write_bytes(broken.read_bytes()[:2000])  # a truncated JPEG
    # The in-memory pipeline (default) decodes the split up front, so the run fails before training starts.
    res = _train(*FAST, "--data-root", str(real_camvid_copy), "--out", str(tmp_path / "run"))
    assert res.returncode == 2
    assert f"Cannot read image {broken}" in _one_sentence(res.stderr)


def test_missing_dataset_folder(tmp_path: Path) -> None:
    res = _train(*FAST, "--data-root", str(tmp_path / "absent"), "--out", str(tmp_path / "run"))
    assert res.returncode == 2
    assert "camvid not found at" in _one_sentence(res.stderr) and "liveseg data fetch camvid" in res.stderr
    assert not (tmp_path / "run").exists()


def test_unknown_model(real_camvid_copy: Path, tmp_path: Path) -> None:
    res = _train("--model", "fast_scnnn", "--data-root", str(real_camvid_copy), "--out", str(tmp_path / "run"))
    assert res.returncode == 2
    assert "Unknown model 'fast_scnnn'; choose one of:" in _one_sentence(res.stderr) and "ddrnet_tiny" in res.stderr


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    res = _train("--crop", "64", "--out", str(tmp_path / "run"))
    assert res.returncode == 2 and "HEIGHTxWIDTH" in _one_sentence(res.stderr)
    res = _train("--scale", "2,1", "--out", str(tmp_path / "run"))
    assert res.returncode == 2 and "--scale '2,1' needs 0 < MIN <= MAX" in _one_sentence(res.stderr)


def test_a_val_split_the_copy_lacks_is_named(real_camvid_copy: Path, tmp_path: Path) -> None:
    res = _train(*FAST, "--val-split", "0006R0", "--data-root", str(real_camvid_copy), "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and "No 0006R0 images found for camvid" in _one_sentence(res.stderr)


def test_help_documents_distillation() -> None:
    result = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    text = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 0
    assert "--teacher" in text and "KL(teacher || student)" in text and "--distill-temperature" in text
    assert "(default: adamw 1e-3, sgd 1e-2)" in text  # not eaten as Rich markup


def test_model_args_reach_the_checkpoint(real_camvid_copy: Path, tmp_path: Path) -> None:
    args = ["--model", "ddrnet_tiny", "--epochs", "1", "--batch", "2", "--crop", "64x96", "--threads", "1"]
    res = _train(*args, "--model-arg", "width=8", "--model-arg", "aux=false", "--val-size", "48x64",
                 "--val-split", "train+val", "--data-root", str(real_camvid_copy),
                 "--out", str(tmp_path / "run"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    ckpt = checkpoint.load(tmp_path / "run" / "best.pt")
    assert ckpt["model"]["kwargs"] == {"width": 8, "aux": False}
    assert ckpt["train_config"]["val_size"] == [48, 64] and ckpt["train_config"]["val_split"] == "train+val"
    net = checkpoint.build_model(ckpt)
    assert net.stem[0][0].out_channels == 8 and net.aux_head is None
    res = _train("--model-arg", "width", "--out", str(tmp_path / "bad"))
    assert res.returncode == 2 and "--model-arg 'width' is not KEY=VALUE" in _one_sentence(res.stderr)


def test_file_pipeline_errors_cross_worker_processes(real_camvid_copy: Path, tmp_path: Path) -> None:
    broken = sorted((real_camvid_copy / "train").iterdir())[1]
    broken.write_bytes(broken.read_bytes()[:2000])
    res = _train(*FAST, "--no-in-memory", "--workers", "2", "--data-root", str(real_camvid_copy),
                 "--out", str(tmp_path / "run"))  # fmt: skip
    assert res.returncode == 2
    assert f"Cannot read image {broken}" in _one_sentence(res.stderr)


def test_the_epoch_bars_draw_a_download_too() -> None:
    """`--init imagenet` downloads its weights under train's bars, whose columns read an `info` field that a
    download's task lacks; it is drawn by its size instead."""
    from liveseg.cli.train import _display

    with _display(main=True) as bars:
        bars.add_task("epoch 1/2", total=46, info="loss 1.2345")
        bars.add_task("weights.whl", total=2_000_000, completed=500_000, unit=BYTES)
        out = io.StringIO()
        Console(file=out, width=160).print(bars.get_renderable())
    epoch, download = out.getvalue().splitlines()
    assert epoch.startswith("epoch 1/2") and "0/46 loss 1.2345" in epoch
    assert download.startswith("weights.whl") and "0.5/2.0 MB" in download
