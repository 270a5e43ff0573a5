"""The `liveseg` command as users run it: a subprocess, real CamVid images, a real (briefly trained) checkpoint,
and a way to run it as a user without write permission even when the tests run as root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import LIVESEG

# Root may write anywhere because of these two capabilities; without them a 0555 folder of root's is read-only
# to root too. Dropping them keeps root's own paths (the interpreter may live under /root) usable.
WITHOUT_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def _run_cli(
    *args: str | Path, env: dict[str, str] | None = None, prefix: list[str] | None = None, **kwargs
) -> subprocess.CompletedProcess[str]:
    """`liveseg ARGS` in a subprocess, its output one line per message (wide terminal)."""
    full_env = {**os.environ, "COLUMNS": "400", **(env or {})}
    command = [*(prefix or []), LIVESEG, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=full_env, **kwargs)


def _one_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The single `error: ...` sentence of a run that exited 2 without a traceback."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    text = " ".join(proc.stderr.split())
    assert text.startswith("error: ") and text.endswith("."), proc.stderr
    return text


@pytest.fixture(scope="session")
def street(camvid_root: Path) -> Path:
    """A real CamVid val image (JPEG-like PNG as CamVid ships it)."""
    return sorted((camvid_root / "val").iterdir())[0]


@pytest.fixture
def real_camvid_copy(tmp_path: Path, camvid_root: Path) -> Path:
    """Three real train pairs and one val pair of CamVid at full size, free to corrupt."""
    from liveseg.data import get_dataset

    root = tmp_path / "camvid"
    for split, n in (("train", 3), ("val", 1)):
        (root / split).mkdir(parents=True)
        (root / f"{split}annot").mkdir()
        for image, label in get_dataset("camvid", split, root=camvid_root).pairs[:n]:
            shutil.copy(image, root / split / image.name)
            shutil.copy(label, root / f"{split}annot" / label.name)
    return root


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A world-readable folder (pytest's own are private to their owner) for runs as another user."""
    path = Path(tempfile.mkdtemp(prefix="liveseg-test-"))
    path.chmod(0o755)
    yield path
    for sub in path.rglob("*"):
        if sub.is_dir():
            sub.chmod(0o755)
    shutil.rmtree(path)


@pytest.fixture
def unprivileged(shared_dir: Path):
    """`unprivileged(*args)` runs `liveseg ARGS` as a user to whom a 0555 folder is read-only.

    As root (who may write anywhere) that is root without its permission-override capabilities; otherwise the
    current user. HOME is a private writable folder so that libraries find a cache there.
    """
    home = shared_dir / "home"
    home.mkdir(mode=0o777)
    home.chmod(0o777)

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        prefix = WITHOUT_OVERRIDE if os.geteuid() == 0 else None
        return _run_cli(*args, env={"HOME": str(home), "TMPDIR": str(home)}, cwd=home, prefix=prefix)

    return run


@pytest.fixture(scope="session")
def cli():
    """`cli(*args, env=None, **subprocess_args)`: `liveseg ARGS` in a subprocess, one line per message."""
    return _run_cli


@pytest.fixture(scope="session")
def one_error():
    """`one_error(proc)`: asserts exit 2 with one `error: ...` sentence and no traceback; returns the sentence."""
    return _one_error


@pytest.fixture
def read_only_folder(shared_dir: Path) -> Path:
    """A folder nobody but root may write in (mode 0555), inside `shared_dir`."""
    locked = shared_dir / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return locked


# A serve-only install (`pip install liveseg`): every module an extra provides fails to import, as if absent.
SERVE_ONLY = """
import sys
from liveseg.extras import EXTRAS
BLOCKED = {m for modules in EXTRAS.values() for m in modules.values()}
class _Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, _Absent())
from liveseg.cli import main
sys.argv = ["liveseg", *sys.argv[1:]]
main()
"""


@pytest.fixture(scope="session")
def serve_only():
    """`serve_only(*args, env=None)`: `liveseg ARGS` in a subprocess that can import none of the extras."""

    def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "COLUMNS": "400", **(env or {})}
        command = [sys.executable, "-c", SERVE_ONLY, *map(str, args)]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=full_env)

    return run
