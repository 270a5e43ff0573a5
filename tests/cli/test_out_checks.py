"""Bad --out, --name and numeric options fail up front in one sentence, in every command that writes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

FAST_TRAIN = ["--model", "fast_scnn", "--epochs", "1", "--batch", "2", "--crop", "64x64", "--threads", "1",
              "--max-train-images", "2", "--max-val-images", "1", "--workers", "0"]  # fmt: skip


def _commands(street: Path, checkpoint_path: Path, camvid_root: Path) -> dict[str, list[str | Path]]:
    """Each writing command with valid inputs; the tests append a bad --out."""
    return {
        "segment": ["segment", street],
        "eval": ["eval", checkpoint_path, "--data-root", camvid_root, "--max-images", "1", "--threads", "1"],
        "train": ["train", *FAST_TRAIN, "--data-root", camvid_root],
        "export": ["export", checkpoint_path, "--size", "64x64", "--precision", "fp32", "--no-data"],
    }


COMMANDS = ("segment", "eval", "train", "export")


@pytest.mark.parametrize("command", COMMANDS)
def test_out_that_is_a_file(
    cli, one_error, command: str, street: Path, checkpoint_path: Path, camvid_root: Path, tmp_path: Path
) -> None:
    """Used to end, after the work, in a FileExistsError traceback."""
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    text = one_error(cli(*_commands(street, checkpoint_path, camvid_root)[command], "--out", existing))
    assert f"--out {existing} is a file, not a folder" in text
    assert existing.read_text() == "mine"
    text = one_error(cli(*_commands(street, checkpoint_path, camvid_root)[command], "--out", existing / "sub"))
    assert f"--out {existing / 'sub'} cannot be created because {existing} is a file" in text


@pytest.mark.parametrize("command", COMMANDS)
def test_out_without_write_permission(
    unprivileged, one_error, read_only_folder: Path, shared_dir: Path, command: str, street: Path,
    checkpoint_path: Path, camvid_root: Path,
) -> None:  # fmt: skip
    """Used to end in a PermissionError traceback (export only after the whole export and parity run)."""
    image = Path(shutil.copy(street, shared_dir / street.name))
    model = Path(shutil.copy(checkpoint_path, shared_dir / "best.pt"))
    for out in (read_only_folder, read_only_folder / "new" / "deeper"):
        text = one_error(unprivileged(*_commands(image, model, camvid_root)[command], "--out", out))
        assert f"--out {out} is not writable (no permission to write in {read_only_folder})" in text
    assert not any(read_only_folder.iterdir())


def test_export_refuses_an_out_that_holds_its_inputs(cli, one_error, checkpoint_path: Path, tmp_path: Path) -> None:
    """The bundle replaces --out wholesale: a folder holding the checkpoint would have been deleted with it."""
    run = Path(shutil.copytree(checkpoint_path.parent, tmp_path / "run"))
    (run / "manifest.json").write_text("{}")  # looks like an earlier bundle, so export would replace it
    text = one_error(cli("export", run / "best.pt", "--out", run, "--no-data"))
    assert f"--out {run} holds the input {run / 'best.pt'}" in text
    assert (run / "best.pt").read_bytes() == checkpoint_path.read_bytes()


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "white space", "-dash"])
def test_export_refuses_a_bundle_name_that_cannot_be_served(
    cli, one_error, checkpoint_path: Path, tmp_path: Path, name: str
) -> None:
    """`serve` refuses such names; export used to write the bundle anyway."""
    text = one_error(cli("export", checkpoint_path, "--out", tmp_path / "b", "--name", name, "--no-data"))
    assert f"The bundle name {name!r} cannot be a URL path segment; pass --name" in text
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("value", ["0", "-1"])
def test_eval_max_images_must_be_positive(cli, camvid_root: Path, tmp_path: Path, value: str) -> None:
    """Used to exit 0 with a report of mIoU 0.0 over no images."""
    proc = cli("eval", "default", "--data-root", camvid_root, "--max-images", value, "--out", tmp_path / "r")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # Typer/Click word the bound differently across versions ("x>=1", "greater than or equal to 1").
    assert "--max-images" in proc.stderr and re.search(r"x>=1|greater than or equal to 1", proc.stderr)
    assert not (tmp_path / "r").exists()


def test_train_refuses_to_write_over_its_teacher(cli, one_error, checkpoint_path: Path, camvid_root: Path) -> None:
    run = checkpoint_path.parent
    before = checkpoint_path.read_bytes()
    text = one_error(cli("train", *FAST_TRAIN, "--data-root", camvid_root, "--teacher", checkpoint_path, "--out", run,
                         "--resume"))  # fmt: skip
    assert f"would overwrite the input {checkpoint_path}" in text
    assert checkpoint_path.read_bytes() == before
