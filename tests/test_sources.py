"""Verified downloads against a real HTTP server on 127.0.0.1 serving real CamVid files."""

from __future__ import annotations

import errno
import hashlib
import io
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from rich.progress import Progress as RichProgress
from rich.progress import Task, TaskID

from liveseg import sources
from liveseg.data import get_dataset
from liveseg.errors import LivesegError
from liveseg.progress import BYTES
from liveseg.sources import Source


class _Handler(SimpleHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, served folder) of a live HTTP server; requests are recorded in _Handler.requests."""
    served = tmp_path / "www"
    served.mkdir()
    _Handler.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("LIVESEG_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LIVESEG_DATA", raising=False)
    monkeypatch.delenv(sources.MIRROR_ENV, raising=False)
    return tmp_path / "cache"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mini_copy(camvid_root: Path, folder: Path, n: int = 3) -> Source:
    """n real CamVid train pairs under `folder` with their own SHA256SUMS, and a Source pinning it."""
    lines = []
    for image in sorted((camvid_root / "train").iterdir())[:n]:
        for rel in (f"train/{image.name}", f"trainannot/{image.stem}.png"):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(camvid_root / rel, folder / rel)
            lines.append(f"{_sha((folder / rel).read_bytes())}  ./{rel}\n")
    index = "".join(lines).encode()
    (folder / "SHA256SUMS").write_bytes(index)
    return Source("camvid-mini", "index", "SHA256SUMS", _sha(index), "test", "https://example.invalid/")


def test_index_fetch_over_http_then_reuse(server, camvid_root: Path, tmp_path: Path) -> None:
    url, served = server
    src = _mini_copy(camvid_root, served / "camvid-mini")
    dest = sources.fetch(src, dest=tmp_path / "data", location=f"{url}/camvid-mini/")
    assert len(get_dataset("camvid", "train", root=dest)) == 3
    for rel in ("SHA256SUMS", "train", "trainannot"):
        assert (dest / rel).exists()
    assert len(_Handler.requests) == 7  # the index and six files
    assert oct(dest.stat().st_mode & 0o777) == "0o755"

    _Handler.requests.clear()
    assert sources.fetch(src, dest=dest, location=f"{url}/camvid-mini") == dest
    assert _Handler.requests == []  # a verified copy needs nothing from the location

    (dest / "trainannot" / next((dest / "trainannot").iterdir()).name).write_bytes(b"edited")
    _Handler.requests.clear()
    sources.fetch(src, dest=dest, location=f"{url}/camvid-mini")
    assert len(_Handler.requests) == 1  # only the damaged file comes again
    assert len(get_dataset("camvid", "train", root=dest)) == 3


def test_tampered_file_leaves_nothing_behind(server, camvid_root: Path, tmp_path: Path) -> None:
    url, served = server
    src = _mini_copy(camvid_root, served / "camvid-mini")
    victim = next((served / "camvid-mini" / "train").iterdir())
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")
    dest = tmp_path / "data" / "camvid-mini"
    with pytest.raises(LivesegError, match=rf"Checksum mismatch for .*{victim.name}"):
        sources.fetch(src, dest=dest, location=f"{url}/camvid-mini")
    assert not dest.exists()
    assert list((tmp_path / "data").iterdir()) == []  # no partial folder or temporary file either


def test_wrong_index_is_refused(server, camvid_root: Path, tmp_path: Path) -> None:
    url, served = server
    src = _mini_copy(camvid_root, served / "camvid-mini")
    with (served / "camvid-mini" / "SHA256SUMS").open("a") as f:
        f.write(f"{'0' * 64}  ./extra.txt\n")
    with pytest.raises(LivesegError, match="holds a different version"):
        sources.fetch(src, dest=tmp_path / "d", location=f"{url}/camvid-mini")
    assert not (tmp_path / "d").exists()


def test_mirror_environment_variable(server, camvid_root: Path, tmp_path: Path, monkeypatch) -> None:
    url, served = server
    src = _mini_copy(camvid_root, served / "mirror" / "camvid-mini")
    monkeypatch.setenv(sources.MIRROR_ENV, f"{url}/mirror")
    dest = sources.fetch(src)
    assert dest == tmp_path / "cache" / "datasets" / "camvid-mini"
    assert _Handler.requests[0] == "/mirror/camvid-mini/SHA256SUMS"
    assert len(get_dataset("camvid", "train", root=dest)) == 3


def test_unreachable_location(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below, so nothing listens there
    src = Source("x", "index", "SHA256SUMS", "0" * 64, "test", "https://example.invalid/")
    with pytest.raises(LivesegError, match=rf"Cannot fetch http://127.0.0.1:{port}/SHA256SUMS .*--from"):
        sources.fetch(src, dest=tmp_path / "d", location=f"http://127.0.0.1:{port}")
    with pytest.raises(LivesegError, match=r"Cannot fetch .*No such file"):
        sources.fetch(src, dest=tmp_path / "d", location=tmp_path / "absent")
    assert not (tmp_path / "d").exists()


def test_camvid_entry_pins_the_real_copy(camvid_root: Path, tmp_path: Path) -> None:
    dest = sources.fetch("camvid", dest=tmp_path / "camvid", location=camvid_root)
    assert (len(get_dataset("camvid", "train", root=dest)), len(get_dataset("camvid", "val", root=dest))) == (
        367,
        101,
    )
    assert sources.get_source("camvid").url is None  # upstream serves PNGs, not these JPEGs
    assert sources.fetch("camvid", dest=dest) == dest  # verified: no mirror needed now


def test_camvid_without_a_mirror_says_what_to_pass() -> None:
    with pytest.raises(LivesegError, match=r"--from PATH_OR_URL .* LIVESEG_MIRROR"):
        sources.fetch("camvid")


def test_foreign_destination_is_not_replaced(server, camvid_root: Path, tmp_path: Path) -> None:
    url, served = server
    src = _mini_copy(camvid_root, served / "camvid-mini")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(LivesegError, match="holds other files"):
        sources.fetch(src, dest=tmp_path / "mine", location=f"{url}/camvid-mini")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def _archive(camvid_root: Path, served: Path) -> Source:
    archive = served / "mini.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for image in sorted((camvid_root / "val").iterdir())[:2]:
            tar.add(image, arcname=f"val/{image.name}")
            tar.add(camvid_root / "valannot" / f"{image.stem}.png", arcname=f"valannot/{image.stem}.png")
    return Source("mini", "archive", archive.name, _sha(archive.read_bytes()), "test", "https://example.invalid/")


def test_archive_is_cached_verified_and_extracted(server, camvid_root: Path, tmp_path: Path) -> None:
    url, served = server
    src = _archive(camvid_root, served)
    dest = sources.fetch(src, dest=tmp_path / "mini", location=url)
    assert len(get_dataset("camvid", "val", root=dest)) == 2
    assert (tmp_path / "cache" / "downloads" / "mini" / "mini.tar.gz").is_file()
    _Handler.requests.clear()
    sources.fetch(src, dest=tmp_path / "mini", location=url)
    assert _Handler.requests == []


def test_tampered_archive_is_not_cached(server, camvid_root: Path, tmp_path: Path) -> None:
    url, served = server
    src = _archive(camvid_root, served)
    (served / "mini.tar.gz").write_bytes(b"truncated")
    with pytest.raises(LivesegError, match="Checksum mismatch"):
        sources.fetch(src, dest=tmp_path / "mini", location=f"{url}/mini.tar.gz")
    assert list((tmp_path / "cache" / "downloads" / "mini").iterdir()) == []
    assert not (tmp_path / "mini").exists()


def test_single_file_source(server, camvid_root: Path, tmp_path: Path) -> None:
    url, served = server
    data = (camvid_root / "README.md").read_bytes()
    (served / "README.md").write_bytes(data)
    src = Source("readme", "file", "README.md", _sha(data), "test", "https://example.invalid/", url=url)
    path = sources.fetch(src)  # the source's own default URL
    assert path.read_bytes() == data and path.is_relative_to(tmp_path / "cache")
    copy = sources.fetch(src, dest=tmp_path / "weights" / "r.md")
    assert copy.read_bytes() == data


class _Told(RichProgress):
    """Rich's bars, undrawn, keeping each task they were told of once it is removed."""

    def __init__(self) -> None:
        super().__init__(disable=True)
        self.told: list[Task] = []

    def remove_task(self, task_id: TaskID) -> None:
        self.told += [t for t in self.tasks if t.id == task_id]
        super().remove_task(task_id)


def test_progress_is_told_the_bytes_of_a_file_and_the_files_of_an_index(
    server, camvid_root: Path, tmp_path: Path
) -> None:
    url, served = server
    data = (camvid_root / "README.md").read_bytes()
    (served / "README.md").write_bytes(data)
    bars = _Told()
    sources.fetch(Source("readme", "file", "README.md", _sha(data), "test", "x", url=url), progress=bars)
    src = _mini_copy(camvid_root, served / "camvid-mini")
    sources.fetch(src, dest=tmp_path / "data", location=f"{url}/camvid-mini", progress=bars)
    told = [(t.description, t.fields.get("unit"), t.completed, t.total) for t in bars.told]
    assert told == [
        ("README.md", BYTES, len(data), len(data)),
        ("checking camvid-mini", None, 6, 6),
        ("camvid-mini", None, 6, 6),  # the files of an index are counted, their bytes not shown
    ]
    assert bars.tasks == []  # nothing left on a display that outlives the fetch (a pull's)


@pytest.mark.parametrize("line", ["abc  ./x", f"{'a' * 64}  ../escape", f"{'a' * 64}  /etc/passwd"])
def test_index_paths_cannot_escape(line: str) -> None:
    with pytest.raises(LivesegError, match="malformed line"):
        sources.parse_sha256sums(line + "\n")


def test_unknown_source() -> None:
    with pytest.raises(LivesegError, match="Unknown source 'nope'; choose one of camvid"):
        sources.get_source("nope")


# --- concurrency and trust on first use ----------------------------------------------------------------------


class _SlowRange(BaseHTTPRequestHandler):
    """Serves files in small chunks, so that concurrent clients overlap, and honours `Range: bytes=N-`."""

    root: ClassVar[Path]
    requests: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        type(self).requests.append((self.path, self.headers.get("Range")))
        file = self.root / self.path.lstrip("/")
        if not file.is_file():
            self.send_error(404)
            return
        data = file.read_bytes()
        start = int(m[1]) if (m := re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")) else 0
        if start >= len(data) > 0:
            self.send_error(416)
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        for i in range(start, len(data), 1 << 16):
            self.wfile.write(data[i : i + (1 << 16)])
            time.sleep(0.005)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    served = tmp_path / "slow"
    served.mkdir()
    _SlowRange.root, _SlowRange.requests = served, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _SlowRange)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    httpd.shutdown()
    httpd.server_close()


def _model(bundle_dir: Path, precision: str) -> bytes:
    """A real ONNX model's bytes: a variant of the default bundle."""
    return next(bundle_dir.glob(f"model-*-{precision}.*.onnx")).read_bytes()


def _unpinned(url: str) -> Source:
    return Source("tofu", "file", "model.onnx", None, "test", "https://example.invalid/", url=url)


_CONCURRENT_FETCH = """
import sys
from liveseg import sources
from liveseg.sources import Source
source = Source("tofu", "file", "model.onnx", None, "test", "https://example.invalid/", url=sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()  # all children start fetching at once
print(sources.fetch(source), flush=True)
"""


def test_concurrent_fetches_download_once_and_agree(slow_server, bundle_dir: Path, isolated_cache: Path) -> None:
    url, served = slow_server
    data = _model(bundle_dir, "int8")
    (served / "model.onnx").write_bytes(data)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT_FETCH, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    assert all(child.stdout.readline().strip() == "ready" for child in children)
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = [child.communicate()[0].strip() for child in children]
    assert [child.returncode for child in children] == [0, 0, 0]
    cached = isolated_cache / "downloads" / "tofu" / "model.onnx"
    assert outputs == [str(cached)] * 3 and cached.read_bytes() == data
    assert cached.with_name("model.onnx.sha256").read_text().strip() == _sha(data)
    assert _SlowRange.requests == [("/model.onnx", None)]  # the others waited for it and reused the file


def test_a_short_body_is_not_trusted_on_first_use(slow_server, bundle_dir: Path, isolated_cache: Path) -> None:
    url, served = slow_server
    data = _model(bundle_dir, "int8")
    (served / "model.onnx").write_bytes(data[: len(data) // 2])  # a Content-Length shorter than the file
    with pytest.raises(LivesegError, match=r"model.onnx is not a usable model.onnx \(it does not load as an ONNX"):
        sources.fetch(_unpinned(url))
    assert list((isolated_cache / "downloads" / "tofu").glob("model.onnx*")) == []  # no file, part or digest
    (served / "model.onnx").write_bytes(data)
    cached = sources.fetch(_unpinned(url))
    assert cached.read_bytes() == data and cached.with_name("model.onnx.sha256").read_text().strip() == _sha(data)


def test_a_recorded_digest_goes_with_its_file_or_force(slow_server, bundle_dir: Path) -> None:
    url, served = slow_server
    first, second = _model(bundle_dir, "int8"), _model(bundle_dir, "fp16")
    (served / "model.onnx").write_bytes(first)
    cached = sources.fetch(_unpinned(url))
    recorded = cached.with_name("model.onnx.sha256")
    (served / "model.onnx").write_bytes(second)
    assert sources.fetch(_unpinned(url)).read_bytes() == first  # trusted: not asked again
    cached.unlink()  # a record whose file is gone is dropped, not enforced on the next file
    assert sources.fetch(_unpinned(url)).read_bytes() == second
    assert recorded.read_text().strip() == _sha(second)
    (served / "model.onnx").write_bytes(first)
    assert sources.fetch(_unpinned(url), force=True).read_bytes() == first
    assert recorded.read_text().strip() == _sha(first)
    assert len(_SlowRange.requests) == 3


def test_tflite_check_and_sources_without_any_check(tmp_path: Path) -> None:
    good, bad = tmp_path / "m.tflite", tmp_path / "n.tflite"
    good.write_bytes((16).to_bytes(4, "little") + b"TFL3" + bytes(24))
    bad.write_bytes(b"<html>not found</html>")
    sources.check_tflite(good)
    with pytest.raises(ValueError, match="TFL3"):
        sources.check_tflite(bad)
    with pytest.raises(ValueError, match="no sha256 and no format check"):
        Source("w", "file", "weights.bin", None, "test", "https://example.invalid/")


# --- archives and indexes that go wrong ----------------------------------------------------------------------


def test_zip_archives_extract(server, camvid_root: Path, tmp_path: Path) -> None:
    url, served = server
    archive = served / "mini.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for image in sorted((camvid_root / "val").iterdir())[:2]:
            z.write(image, f"val/{image.name}")
            z.write(camvid_root / "valannot" / f"{image.stem}.png", f"valannot/{image.stem}.png")
    src = Source("mini-zip", "archive", archive.name, _sha(archive.read_bytes()), "test", "https://example.invalid/")
    dest = sources.fetch(src, dest=tmp_path / "mini", location=url)
    assert len(get_dataset("camvid", "val", root=dest)) == 2


def test_a_tar_entry_outside_the_destination_is_one_sentence(server, tmp_path: Path) -> None:
    url, served = server
    archive = served / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    src = Source("evil", "archive", archive.name, _sha(archive.read_bytes()), "test", "https://example.invalid/")
    with pytest.raises(LivesegError, match=r"Cannot extract .*evil.tar .*outside"):
        sources.fetch(src, dest=tmp_path / "d", location=url)
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "d").exists()


def test_a_truncated_or_huge_index_is_one_sentence(http_files, camvid_root: Path, tmp_path: Path, monkeypatch) -> None:
    src = _mini_copy(camvid_root, http_files.root / "camvid-mini")
    location = f"{http_files.url}/camvid-mini"
    http_files.fail["/camvid-mini/SHA256SUMS"] = "truncate"
    with pytest.raises(LivesegError, match=r"Reading .*SHA256SUMS failed \(the connection closed after \d+ of"):
        sources.fetch(src, dest=tmp_path / "d", location=location)
    del http_files.fail["/camvid-mini/SHA256SUMS"]
    monkeypatch.setattr(sources, "MAX_INDEX_BYTES", 100)
    with pytest.raises(LivesegError, match=r"SHA256SUMS is over 100 bytes, too large for a checksum list"):
        sources.fetch(src, dest=tmp_path / "d", location=location)


def test_a_full_disk_while_downloading_says_to_free_space(server, tmp_path: Path, monkeypatch) -> None:
    url, served = server
    (served / "README.md").write_bytes(b"x" * 10_000)
    src = Source("readme", "file", "README.md", _sha(b"x" * 10_000), "test", "https://example.invalid/", url=url)

    class FullDisk(io.BytesIO):
        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sources, "open", lambda *args, **kwargs: FullDisk(), raising=False)
    with pytest.raises(LivesegError, match=r"No space left on device\); free some space, then try again \(the part"):
        sources.fetch(src)
