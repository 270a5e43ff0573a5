"""`liveseg serve` as a user runs it: a subprocess that prints its URL, serves, and stops cleanly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from liveseg.bench.browser import start_serve
from liveseg.runtime.bundle import open_bundle
from tests.helpers import LIVESEG

pytestmark = pytest.mark.timeout(60)


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str, list[str]]:
    """`liveseg serve ARGS` read up to its URL line: (process, url, lines)."""
    return start_serve([LIVESEG, "serve", *args], env={**os.environ, **(env or {})})


@pytest.fixture
def tiny(bundle_dir: Path) -> str:
    """A bundle to serve (the server only lists and serves its files)."""
    return str(bundle_dir)


@pytest.fixture
def stop() -> Iterator[list[subprocess.Popen]]:
    """Kill whatever a failing test left running."""
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_its_url_serves_and_exits_0_on_a_signal(tiny: str, stop, sig: signal.Signals) -> None:
    proc, url, _ = start("--model", tiny, "--port", "0")
    stop.append(proc)
    assert url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{url}api/models").json()["models"][0]["id"] == open_bundle(tiny).name
    proc.send_signal(sig)
    rest, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, rest
    assert "stopped" in rest
    assert "Traceback" not in rest


def test_open_starts_a_browser_on_the_url(tiny: str, stop, tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "fake-browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > "{opened}"\n')
    browser.chmod(0o755)
    proc, url, _ = start("--model", tiny, "--port", "0", "--open", env={"BROWSER": str(browser)})
    stop.append(proc)
    deadline = time.monotonic() + 10
    while not (opened.is_file() and opened.read_text().strip()):
        assert proc.poll() is None and time.monotonic() < deadline, "no browser was opened"
        time.sleep(0.05)
    assert opened.read_text().strip() == url
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=15)
    assert proc.returncode == 0


def test_port_in_use_is_one_clear_sentence_and_exit_2(tiny: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [LIVESEG, "serve", "--model", tiny, "--port", str(port)], capture_output=True, text=True, timeout=30
        )
    assert result.returncode == 2
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "no/such/bundle"], "No bundle at"),
        (["--cors", "example.org"], "is not an origin"),
    ],
)
def test_bad_input_exits_2(tiny: str, args: list[str], message: str) -> None:
    result = subprocess.run(
        [LIVESEG, "serve", "--model", tiny, "--port", "0", *args], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert message in result.stderr


def test_a_deeply_nested_manifest_exits_2(tmp_path: Path, cli, one_error) -> None:
    (tmp_path / "manifest.json").write_text("[" * 100_000)
    # One line per message: the sentence holds the folder's path, so a narrow terminal would wrap it anywhere.
    result = cli("serve", "--model", tmp_path, "--port", "0")
    assert "nests too deeply to be a manifest" in one_error(result)


def test_any_other_host_than_loopback_warns_and_the_access_log_is_a_flag(tiny: str, stop) -> None:
    proc, url, lines = start("--model", tiny, "--host", "0.0.0.0", "--port", "0", "--access-log")
    stop.append(proc)
    warning = [line for line in lines if line.startswith("warning:")]
    assert len(warning) == 1 and "exposed to the network" in warning[0]
    port = url.rsplit(":", 1)[1].rstrip("/")
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=15)
    assert '"GET /healthz HTTP/1.1" 200' in rest
    quiet, url, lines = start("--model", tiny, "--port", "0")
    stop.append(quiet)
    assert not any("warning" in line for line in lines)
    assert httpx.get(f"{url}healthz").status_code == 200
    quiet.send_signal(signal.SIGINT)
    assert "GET /healthz" not in quiet.communicate(timeout=15)[0]


def test_a_model_is_served_as_well_as_the_others_or_alone_with_only(bundle_dir: Path, stop, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    shutil.copytree(bundle_dir, mine)
    manifest = mine / "manifest.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"name": "mine"}))
    pulled = Path(os.environ["LIVESEG_MODELS"]) / "pulled"  # the models folder is offered too
    shutil.copytree(bundle_dir, pulled)
    manifest = pulled / "manifest.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"name": "pulled"}))
    try:
        proc, url, _ = start("--model", str(mine), "--model", "pulled", "--port", "0")
        stop.append(proc)
        assert proc.stdout.readline().strip() == f"open mine at {url}?model=mine"
        ids = [m["id"] for m in httpx.get(f"{url}api/models").json()["models"]]
        assert ids[:2] == ["mine", "pulled"] and open_bundle("default").name in ids and len(ids) == len(set(ids))
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
        proc, url, _ = start("--model", str(mine), "--only", "--port", "0")
        stop.append(proc)
        assert [m["id"] for m in httpx.get(f"{url}api/models").json()["models"]] == ["mine"]
    finally:
        shutil.rmtree(pulled)
    result = subprocess.run([LIVESEG, "serve", "--only"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "pass at least one --model" in result.stderr
