"""The `liveseg` command as users run it: a subprocess, real CamVid images, a real (briefly trained) checkpoint,
and a way to run it as a user without write permission even when the tests run as root."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

LIVESEG = str(Path(sys.executable).with_name("liveseg"))


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


@pytest.fixture(scope="session")
def checkpoint(camvid_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real checkpoint: Fast-SCNN trained for one epoch on two CamVid images."""
    from rich.console import Console

    from liveseg.train import TrainConfig, train

    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(model="fast_scnn", data_root=str(camvid_root), out=str(out), epochs=1, batch=2, crop=(64, 64),
                      max_train_images=2, max_val_images=1, workers=0, threads=1)  # fmt: skip
    train(cfg, console=Console(file=io.StringIO()))
    return out / "best.pt"


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
