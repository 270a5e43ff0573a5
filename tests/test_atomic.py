"""Atomic writes: readers see the old or the new content, never a part; a killed writer's debris is cleaned and an
interrupted folder replacement gets its earlier folder back; a live writer's work is never touched."""

from __future__ import annotations

import os
import random
import shutil
import signal
import string
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


_KILLED_BETWEEN_RENAMES = """
import os, signal, sys
from liveseg import atomic
real, calls = os.replace, []
def replace(src, dst):
    calls.append(src)
    if len(calls) == 2:  # the earlier folder is in the container, the new one not yet in place
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
os.replace = replace
with atomic.directory(sys.argv[1]) as tmp:
    (tmp / "manifest.json").write_text("new")
"""


def test_an_interrupted_replacement_gets_its_earlier_folder_back(tmp_path: Path) -> None:
    with atomic.directory(tmp_path / "bundle") as tmp:
        (tmp / "manifest.json").write_text("{}")
    proc = subprocess.run([sys.executable, "-c", _KILLED_BETWEEN_RENAMES, str(tmp_path / "bundle")], check=False)
    assert proc.returncode == -signal.SIGKILL and not (tmp_path / "bundle").exists()
    assert len(atomic.clean_stale(tmp_path)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]
    assert (tmp_path / "bundle" / "manifest.json").read_text() == "{}"


def test_scratch_routes_temporaries_and_leaves_the_system_temp_folder_alone(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    system = tmp_path / "tmp"
    (system / ".liveseg-scratch.abcd1234.partial").mkdir(parents=True)  # someone else's, whatever the name
    monkeypatch.setattr(tempfile, "tempdir", str(system))
    monkeypatch.setenv("LIVESEG_CACHE", str(tmp_path / "cache"))
    with atomic.scratch() as folder:
        made = Path(tempfile.mkdtemp())
        assert made.parent == folder and folder.is_relative_to(tmp_path / "cache")
    assert not folder.exists() and tempfile.tempdir == str(system)
    assert [p.name for p in system.iterdir()] == [".liveseg-scratch.abcd1234.partial"]


# --- clean_stale deletes nothing it did not create ------------------------------------------------------------

_DIES_MID_WRITE = """
import os, sys
from pathlib import Path
from liveseg import atomic
with atomic.directory(Path(sys.argv[1]) / "bundle") as tmp:
    (tmp / "model.onnx").write_bytes(b"x")
    os._exit(0)  # no cleanup runs: what a killed writer leaves
"""


def _stale_container(folder: Path) -> Path:
    """A genuine container of a dead writer, made by a child process in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", _DIES_MID_WRITE, str(folder)], check=True)
    (box,) = folder.iterdir()
    return box


def _snapshot(folder: Path) -> dict[str, object]:
    """Every path under `folder` (links not followed) with its content, link target or 'dir'."""
    seen: dict[str, object] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            rel = str(path.relative_to(folder))
            if path.is_symlink():
                seen[rel] = ("link", os.readlink(path))
            else:
                seen[rel] = "dir" if path.is_dir() else path.read_bytes()
    return seen


def test_a_users_look_alike_temporaries_are_never_removed(tmp_path: Path) -> None:
    run = tmp_path / "run1"
    (run / ".backup.20240101.partial").mkdir(parents=True)
    (run / ".backup.20240101.partial" / "thesis.tex").write_text("precious")
    (run / ".notes.abcdefgh.tmp").write_text("notes")
    (run / ".bundle.abcd1234.partial.old").mkdir()
    before = _snapshot(run)
    assert atomic.clean_stale(run) == [] and _snapshot(run) == before


def _random_name(rng: random.Random, genuine: Path) -> str:
    alphabet = string.ascii_lowercase + string.digits + "_-."
    word = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))).strip(".") or "x"
    rand = "".join(rng.choice(string.ascii_lowercase + string.digits + "_") for _ in range(8))
    templates = [
        f".{word}.{rand}.partial",
        f".{word}.{rand}.partial.old",
        f".{word}.{rand}.tmp",
        f".{word}.{rand}.tmp.{word[-3:]}",
        f".liveseg.{word}.{rand}",
        f".liveseg-scratch.{rand}.partial",
        genuine.name,
        f"{genuine.name}{rand[0]}",
        word,
    ]
    return rng.choice(templates)


def _random_entry(rng: random.Random, path: Path, genuine: Path) -> None:
    """A file, folder, forged marker, copy of a genuine stale container, or link to one, at `path`."""
    marker = path / ".liveseg-temporary"
    kind = rng.randrange(6)
    if kind == 0:
        path.write_bytes(rng.randbytes(rng.randint(0, 64)))
    elif kind == 1:
        path.mkdir()
        (path / "thesis.tex").write_bytes(rng.randbytes(16))
    elif kind == 2:  # a marker with the right form but another directory's identity, or garbage
        path.mkdir()
        st = genuine.stat()
        marker.write_text(rng.choice([f"liveseg temporary\nbundle\n{st.st_dev}:{st.st_ino}\n", "liveseg temporary\n"]))
    elif kind == 3:  # a user's copy of real debris keeps the marker but not the inode
        shutil.copytree(genuine, path, symlinks=True)
    elif kind == 4:
        path.symlink_to(genuine, target_is_directory=True)
    else:
        path.mkdir()
        marker.mkdir()


def test_clean_stale_removes_only_what_liveseg_made_whatever_the_names(tmp_path: Path) -> None:
    rng = random.Random(25)
    elsewhere = _stale_container(tmp_path / "elsewhere")
    folder = tmp_path / "folder"
    genuine = _stale_container(folder)
    for _ in range(300):
        path = folder / _random_name(rng, genuine)
        if not os.path.lexists(path):
            _random_entry(rng, path, elsewhere)
    before = _snapshot(folder)
    assert atomic.clean_stale(folder) == [genuine]
    after = _snapshot(folder)
    assert after == {k: v for k, v in before.items() if not k.startswith(genuine.name + os.sep) and k != genuine.name}
    assert elsewhere.is_dir()  # a link to debris is not debris
