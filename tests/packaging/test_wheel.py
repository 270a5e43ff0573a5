"""The Python distributions: `python -m build` makes an sdist and a wheel that carry the built web app and the
default bundle; the wheel builds from the sdist without Node; a fresh virtual environment without PyTorch, away
from the checkout, installs the wheel and segments, serves the app and the model with the right headers."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import numpy as np
import pytest
from PIL import Image

import liveseg
from liveseg.bench.browser import start_serve
from liveseg.runtime.bundle import open_bundle
from liveseg.serve.files import IMMUTABLE, NO_CACHE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MIN_AGREEMENT = 0.98
NAME = f"liveseg-{liveseg.__version__}"


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command; a failure shows its output, which is the useful part of a failed build or install."""
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, (
        f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    )
    return proc


def without_npm(tmp: Path) -> dict[str, str]:
    """The environment with a PATH that has Python but no Node or npm."""
    bin_dir = tmp / "bin-without-node"
    bin_dir.mkdir(exist_ok=True)
    for name in ("python", "python3"):
        if not (bin_dir / name).exists():
            (bin_dir / name).symlink_to(sys.executable)
    return {**os.environ, "PATH": str(bin_dir)}


def outside(venv: Path) -> dict[str, str]:
    """The environment of a user of `venv`: its bin first, nothing of the checkout or of this test's venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": str(venv)}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("packaging")


@pytest.fixture(scope="module")
def sdist(repo_root: Path, work: Path) -> Path:
    """The sdist of the checkout (the build hook brings the web app up to date first when it is stale)."""
    run([sys.executable, "-m", "build", "--sdist", "--outdir", str(work / "dist"), str(repo_root)], cwd=work)
    return work / "dist" / f"{NAME}.tar.gz"


@pytest.fixture(scope="module")
def wheel(sdist: Path, work: Path) -> Path:
    """The wheel, built from the unpacked sdist with no Node or npm on the PATH."""
    with tarfile.open(sdist) as tar:
        tar.extractall(work / "unpacked", filter="data")
    source = work / "unpacked" / NAME
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), "."], source, without_npm(work))
    return work / "dist" / f"{NAME}-py3-none-any.whl"


@pytest.fixture(scope="module")
def venv(wheel: Path, work: Path) -> Path:
    """A fresh virtual environment with the wheel and its dependencies from the package index, and no torch."""
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=work)
    run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", str(wheel)], cwd=work)
    return venv


@pytest.fixture(scope="module")
def val_image(camvid_root: Path) -> Path:
    return sorted((camvid_root / "val").iterdir())[0]


def test_sdist_carries_web_sources_built_app_and_stamp(sdist: Path) -> None:
    with tarfile.open(sdist) as tar:
        names = {m.name.removeprefix(f"{NAME}/") for m in tar.getmembers()}
    assert {"hatch_build.py", "pyproject.toml", "web/package.json", "web/src/lib/index.ts"} <= names
    assert {"src/liveseg/serve/static/index.html", "src/liveseg/serve/static/.web-sources.sha256"} <= names
    assert not any(n.startswith(("web/node_modules/", "runs/", "tests/")) for n in names)


def test_wheel_carries_web_app_and_default_bundle(sdist: Path, wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        metadata = whl.read(f"{NAME}.dist-info/METADATA").decode()
    with tarfile.open(sdist) as tar:
        prefix = f"{NAME}/src/"
        built = {m.name.removeprefix(prefix) for m in tar.getmembers() if m.isfile() and "/serve/static/" in m.name}
    assert "liveseg/serve/static/index.html" in built
    left_out = built - names
    assert left_out and all(is_bench_only(n) for n in left_out), f"the wheel lacks {sorted(left_out)[:5]}"
    assert not any(is_bench_only(n) for n in names)  # benchmark pages, TF.js, MediaPipe's solution and wasm
    assert any(re.search(r"static/assets/worker-[^/]*\.js$", n) for n in names)
    assert {"liveseg/py.typed", "liveseg/export/tfjs_reference.cjs"} <= names  # the TF.js importer's reference
    bundle = open_bundle("default")
    assert {f"liveseg/assets/default/{v.file}" for v in bundle.all_variants} | {
        "liveseg/assets/default/manifest.json"
    } <= names
    for person in ("person-selfie", "person-selfie-landscape"):  # converted at build time, with their card
        assert {f"liveseg/assets/bundled/{person}/{f}" for f in ("manifest.json", "MODEL_CARD.md")} <= names
    assert not any(n.startswith(("tests/", "web/", "src/")) or "__pycache__" in n for n in names)
    assert f"Version: {liveseg.__version__}" in metadata
    assert "Provides-Extra: train" in metadata and "Provides-Extra: bench" in metadata
    assert "Requires-Dist: av>=12; extra == 'video'" in metadata and "Requires-Dist: av>=12\n" not in metadata
    assert "Requires-Dist: torch<3,>=2.13; extra == 'train'" in metadata
    assert "Project-URL: Architecture, docs/ARCHITECTURE.md" in metadata
    assert "Classifier: Programming Language :: Python :: 3.11" in metadata


# What only `liveseg bench browser` serves, in a checkout: the pages and the peers' runtimes they load.
BENCH_ONLY = re.compile(
    r"static/(bench/|assets/bench/|assets/(tfjs|selfie_segmentation|mediapipe-solution|ort\.all\.min|common)[-_.])"
)


def is_bench_only(name: str) -> bool:
    return BENCH_ONLY.search(name) is not None


def test_wheel_build_without_node_on_stale_sources_says_what_to_do(sdist: Path, work: Path) -> None:
    with tarfile.open(sdist) as tar:
        tar.extractall(work / "stale", filter="data")
    source = work / "stale" / NAME
    index = source / "web" / "index.html"
    index.write_text(index.read_text() + "<!-- edited after the build -->\n")
    proc = subprocess.run(
        [sys.executable, "hatch_build.py"], cwd=source, env=without_npm(work), capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "needs Node.js 20+ and npm" in proc.stderr and "install them" in proc.stderr


def test_installed_wheel_runs_without_torch_or_checkout(venv: Path, work: Path) -> None:
    probe = "import importlib.util, liveseg; print(liveseg.__file__); print(importlib.util.find_spec('torch'))"
    where, torch = run([str(venv / "bin" / "python"), "-c", probe], work, outside(venv)).stdout.split()
    assert Path(where).is_relative_to(venv), f"liveseg was imported from {where}"
    assert torch == "None"
    version = run(["liveseg", "--version"], work, outside(venv)).stdout
    assert version.strip() == f"liveseg {liveseg.__version__}"


def test_installed_wheel_segments_a_camvid_image(venv: Path, work: Path, val_image: Path) -> None:
    out = work / "segmented"
    run(["liveseg", "segment", str(val_image), "--out", str(out), "--save", "labels"], work, outside(venv))
    labels = np.asarray(Image.open(out / f"{val_image.stem}.png"))
    expected = liveseg.load().segment(val_image).labels
    assert labels.shape == expected.shape
    assert float((labels == expected).mean()) >= MIN_AGREEMENT


def test_installed_wheel_names_the_video_extra_for_a_video(venv: Path, work: Path) -> None:
    (work / "clip.mp4").write_bytes(b"")
    args = ["liveseg", "segment", str(work / "clip.mp4"), "--out", str(work / "video-out")]
    proc = subprocess.run(args, cwd=work, env=outside(venv), capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "needs the av package" in proc.stderr and "pip install 'liveseg[video]'" in proc.stderr


@pytest.fixture(scope="module")
def served(venv: Path, work: Path) -> Iterator[str]:
    """`liveseg serve` of the installed wheel on a free port; yields its base URL (no trailing slash)."""
    proc, url, _ = start_serve(["liveseg", "serve", "--port", "0"], cwd=work, env=outside(venv))
    try:
        yield url.rstrip("/")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def get(url: str) -> tuple[bytes, dict[str, str]]:
    with urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read(), {k.lower(): v for k, v in response.headers.items()}


def assert_isolated(headers: dict[str, str]) -> None:
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["cross-origin-embedder-policy"] == "require-corp"


def test_installed_wheel_serves_app_models_and_runtime(served: str, wheel: Path) -> None:
    page, headers = get(f"{served}/")
    assert b"<html" in page.lower() and headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == NO_CACHE
    assert_isolated(headers)

    body, headers = get(f"{served}/api/models")
    assert_isolated(headers)
    bundle = open_bundle("default")
    models = {m["id"]: m for m in json.loads(body)["models"]}
    assert list(models) == [bundle.name, "person-selfie", "person-selfie-landscape"]  # the wheel's three
    model = models[bundle.name]
    assert model["manifest"] == bundle.manifest.to_dict()

    variant = bundle.variant(precision="fp32")
    data, headers = get(f"{served}{model['url']}{variant.file}")
    assert hashlib.sha256(data).hexdigest() == variant.sha256
    assert headers["content-type"] == "application/octet-stream"
    assert headers["cache-control"] == IMMUTABLE
    assert int(headers["content-length"]) == variant.bytes
    assert_isolated(headers)

    with zipfile.ZipFile(wheel) as whl:
        (wasm,) = [n for n in whl.namelist() if re.search(r"static/assets/ort-wasm[^/]*\.wasm$", n)]
    data, headers = get(f"{served}/{wasm.removeprefix('liveseg/serve/static/')}")
    assert data[:4] == b"\0asm" and headers["content-type"] == "application/wasm"
    assert headers["cache-control"] == IMMUTABLE
