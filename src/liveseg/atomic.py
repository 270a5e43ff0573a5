"""Atomic writes: a reader never sees a half-written file or bundle, even if the writer is killed.

Work in progress lives in a hidden *container* beside its target, `.liveseg.NAME.XXXXXXXX/`, holding the work
itself under the target's own name (so libraries that go by the suffix still see it) and a marker file that names
the target and the container's device and inode. The marker is written after the container is locked with
flock(2), which the kernel drops when the writer dies, even by SIGKILL.

`clean_stale(folder)` removes only containers it can prove liveseg made: the name prefix, a marker that matches
that very directory (a copy or a look-alike name has another inode), and no live lock. Nothing else in `folder`
is ever touched, whatever its name, so commands may call it on folders users share with their own files. A folder
replacement killed half-way leaves the earlier folder inside the container: it is put back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from liveseg import paths

try:
    import fcntl
except ImportError:  # Windows has no flock: live and dead work cannot be told apart, so nothing is cleaned
    fcntl = None  # type: ignore[assignment]

_PREFIX = ".liveseg."
_MARKER = ".liveseg-temporary"  # inside a container: proof that liveseg made it, and for which target
_PREVIOUS = ".liveseg-previous"  # inside a container: the folder being replaced, between the two renames
_MAGIC = "liveseg temporary"
_MARKER_MAX = 4096


def _lock(path: str | os.PathLike) -> int | None:
    """An open descriptor of `path` holding an exclusive flock; `_unlock` (or dying) releases it."""
    if fcntl is None:
        return None
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def _identity(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}"


@contextlib.contextmanager
def _container(path: Path) -> Iterator[Path]:
    """A locked, marked container beside `path` for the block; it and whatever is left in it go afterwards."""
    if path.name in (_MARKER, _PREVIOUS, "", ".", ".."):
        raise ValueError(f"{path} cannot be written atomically: its name is reserved")
    path.parent.mkdir(parents=True, exist_ok=True)
    box = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{path.name[:64]}.", dir=path.parent))
    lock = _lock(box)
    try:
        st = os.fstat(lock) if lock is not None else os.stat(box)
        (box / _MARKER).write_text(f"{_MAGIC}\n{path.name}\n{_identity(st)}\n", encoding="utf-8")
        yield box
    finally:
        shutil.rmtree(box, ignore_errors=True)
        _unlock(lock)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` through a temporary sibling and an atomic rename."""
    return write_with(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_with(path: str | os.PathLike, writer: Callable[[Path], object]) -> Path:
    """Call `writer(tmp_path)` then rename onto `path`; for libraries that insist on writing a path."""
    path = Path(path)
    with _container(path) as box:
        tmp = box / path.name
        tmp.touch()  # a plain creation: the published file gets the permissions open() would have given it
        writer(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return path


@contextlib.contextmanager
def directory(path: str | os.PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary directory that replaces `path` only when the block finishes without error."""
    path = Path(path)
    with _container(path) as box:
        tmp = box / path.name
        tmp.mkdir()
        yield tmp
        if path.exists():
            if not overwrite:
                raise FileExistsError(path)
            # Killed between these two renames, the earlier folder waits in the container for clean_stale.
            os.replace(path, box / _PREVIOUS)
            os.replace(tmp, path)
        else:
            os.replace(tmp, path)


def clean_stale(folder: str | os.PathLike) -> list[Path]:
    """Remove the containers that killed writers left in `folder`; returns what was removed.

    Only entries proven to be liveseg's are touched (see the module docstring), never a live writer's; a folder
    replacement killed half-way leaves its target missing, and the earlier folder is put back.
    """
    folder = Path(folder)
    if fcntl is None or not folder.is_dir():
        return []
    removed = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(_PREFIX) and _discard_if_stale(entry):
            removed.append(entry)
    return removed


def _discard_if_stale(box: Path) -> bool:
    """Discard `box` if it is a dead writer's container; hold its lock meanwhile so no one else acts on it."""
    try:
        fd = os.open(box, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False  # not a directory, a symlink, or not ours to open
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        target = _marked_target(box, os.fstat(fd))
        if target is None:
            return False
        previous, published = box / _PREVIOUS, box.parent / target
        if os.path.lexists(previous) and not os.path.lexists(published):
            os.replace(previous, published)  # killed between the two renames of `directory`: keep the earlier one
        shutil.rmtree(box)
        return True
    except OSError:  # locked by a live writer, or another user's files in a shared folder
        return False
    finally:
        os.close(fd)


def _marked_target(box: Path, st: os.stat_result) -> str | None:
    """The target name recorded in `box`'s marker if the marker was written for this very directory, else None."""
    try:
        fd = os.open(box / _MARKER, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        lines = f.read(_MARKER_MAX).decode("utf-8", "replace").split("\n")
    if len(lines) != 4 or lines[0] != _MAGIC or lines[2] != _identity(st) or lines[3]:
        return None
    target = lines[1]
    return target if target not in ("", ".", "..") and Path(target).name == target else None


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """Route this process's `tempfile` temporaries into a fresh locked folder for the block.

    Libraries (torch.onnx, onnx, onnxruntime's quantiser) write their intermediates through `tempfile`; when a
    command is killed, its container stays behind unlocked and the next `scratch()` removes it. The containers
    live in liveseg's own cache folder: the system temp folder is shared, and nothing in it is ours to clean.
    For commands: `tempfile.tempdir` is process-wide.
    """
    base = paths.cache_dir() / "scratch"
    clean_stale(base)
    with _container(base / "work") as box:
        folder = box / "work"
        folder.mkdir()
        previous, tempfile.tempdir = tempfile.tempdir, str(folder)
        try:
            yield folder
        finally:
            tempfile.tempdir = previous
