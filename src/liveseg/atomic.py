"""Atomic writes: a reader never sees a half-written file or bundle, even if the writer is killed.

Work in progress lives in hidden siblings named `.NAME.XXXXXXXX.tmpSUFFIX` (files, SUFFIX being NAME's own)
and `.NAME.XXXXXXXX.partial` (folders; `.partial.old` while an earlier folder is being replaced). Each is
locked with flock(2) while its writer lives; the kernel drops the lock when the writer dies, even by SIGKILL.
`clean_stale(folder)` removes what dead writers left (an interrupted replacement gets its earlier folder back),
and commands call it on the folders they write to, so kill debris goes on the next run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows has no flock: live and dead work cannot be told apart, so nothing is cleaned
    fcntl = None

_RANDOM = r"[a-z0-9_]{8}"  # tempfile's random part
_TEMP_FILE = re.compile(rf"\.(?P<name>.+)\.{_RANDOM}\.tmp(?P<suffix>.*)")
_PARTIAL = re.compile(rf"\.(?P<name>.+)\.{_RANDOM}\.partial(?P<old>\.old)?")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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


def _in_use(path: Path) -> bool:
    """True while some process holds the lock of `path` (a live writer); unknowable without flock."""
    if fcntl is None:
        return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True  # gone already, or not ours to judge
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` through a temporary sibling and an atomic rename."""
    return write_with(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_with(path: str | os.PathLike, writer: Callable[[Path], object]) -> Path:
    """Call `writer(tmp_path)` then rename onto `path`; for libraries that insist on writing a path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    lock = _lock(tmp_path)
    try:
        writer(tmp_path)
        # mkstemp creates 0600; a published file gets the permissions a plain open() would have given it.
        os.chmod(tmp_path, 0o666 & ~_umask())
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
        _unlock(lock)
    return path


@contextlib.contextmanager
def directory(path: str | os.PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary directory that replaces `path` only when the block finishes without error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    lock = _lock(tmp)
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if path.exists():
            if not overwrite:
                raise FileExistsError(path)
            _replace_directory(path, tmp)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        _unlock(lock)


def _replace_directory(path: Path, new: Path) -> None:
    """Swap `new` in for the existing folder `path`; the earlier one is kept, locked, until the swap is done."""
    old = new.with_name(new.name + ".old")
    lock = _lock(path)
    try:
        os.replace(path, old)
        os.replace(new, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        _unlock(lock)


def clean_stale(folder: str | os.PathLike) -> list[Path]:
    """Remove the work that killed writers left in `folder` (never a live writer's); returns what was removed.

    A folder replacement killed half-way leaves `path` missing: its earlier version is put back.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name.endswith(".old")):  # partials before .old
        if _is_debris(entry) and not _in_use(entry):
            with contextlib.suppress(OSError):  # e.g. another user's, in a shared /tmp
                _discard(entry)
                removed.append(entry)
    return removed


def _is_debris(entry: Path) -> bool:
    if (m := _TEMP_FILE.fullmatch(entry.name)) and entry.is_file() and not entry.is_symlink():
        return m["suffix"] == Path(m["name"]).suffix
    return bool(_PARTIAL.fullmatch(entry.name)) and entry.is_dir() and not entry.is_symlink()


def _discard(entry: Path) -> None:
    m = _PARTIAL.fullmatch(entry.name)
    if m and m["old"] and not (target := entry.with_name(m["name"])).exists():
        os.replace(entry, target)  # killed between the two renames of _replace_directory: keep the earlier one
    elif entry.is_dir():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """Route this process's `tempfile` temporaries into a fresh locked folder for the block.

    Libraries (torch.onnx, onnx, onnxruntime's quantiser) write their intermediates through `tempfile`; when a
    command is killed, its folder stays behind unlocked and the next `scratch()` removes it. For commands:
    `tempfile.tempdir` is process-wide.
    """
    base = Path(tempfile.gettempdir())
    clean_stale(base)
    folder = Path(tempfile.mkdtemp(prefix=".liveseg-scratch.", suffix=".partial", dir=base))
    lock = _lock(folder)
    previous, tempfile.tempdir = tempfile.tempdir, str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(folder, ignore_errors=True)
        _unlock(lock)
