"""Atomic writes: readers see the old or the new content, never a part; a killed writer's debris is cleaned and an
interrupted folder replacement gets its earlier folder back; a live writer's work is never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from liveseg import atomic


def test_a_failed_write_leaves_the_old_file_and_no_debris(tmp_path: Path) -> None:
    target = atomic.write_text(tmp_path / "notes.txt", "old\n")

    def fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError):
        atomic.write_with(target, fail)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    atomic.write_bytes(target, b"new\n")
    assert target.read_bytes() == b"new\n" and oct(target.stat().st_mode & 0o777) != "0o600"


def test_a_folder_is_replaced_only_when_its_block_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    with atomic.directory(out) as tmp:
        (tmp / "a.txt").write_text("1")
    with pytest.raises(RuntimeError), atomic.directory(out) as tmp:
        (tmp / "b.txt").write_text("2")
        raise RuntimeError("export failed")
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]
    with pytest.raises(FileExistsError), atomic.directory(out, overwrite=False):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]


_KILLED_WRITER = """
import sys, time
from pathlib import Path
from liveseg import atomic
folder = Path(sys.argv[1])
with atomic.directory(folder / "bundle") as tmp:
    (tmp / "half.onnx").write_bytes(b"x" * 1000)
    def write(tmp):
        tmp.write_text("partial")
        print("writing", flush=True)
        time.sleep(60)
    atomic.write_with(folder / "manifest.json", write)
"""


def test_debris_of_a_killed_writer_is_cleaned_but_a_live_writers_is_not(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    live = sorted(p.name for p in tmp_path.iterdir())
    assert len(live) == 2 and all(name.startswith(".") for name in live)
    assert atomic.clean_stale(tmp_path) == []  # its writer holds the locks
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    removed = atomic.clean_stale(tmp_path)
    assert sorted(p.name for p in removed) == live and list(tmp_path.iterdir()) == []


def test_an_interrupted_replacement_gets_its_earlier_folder_back(tmp_path: Path) -> None:
    with atomic.directory(tmp_path / "bundle") as tmp:
        (tmp / "manifest.json").write_text("{}")
    # What a writer killed between the two renames of a replacement leaves: the earlier folder under .old, no target.
    (tmp_path / "bundle").rename(tmp_path / ".bundle.abcd1234.partial.old")
    atomic.clean_stale(tmp_path)
    assert (tmp_path / "bundle" / "manifest.json").read_text() == "{}"


def test_scratch_routes_temporaries_and_removes_them(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with atomic.scratch() as folder:
        made = Path(tempfile.mkdtemp())
        assert made.parent == folder and folder.parent == tmp_path
    assert not folder.exists() and tempfile.tempdir == str(tmp_path)
