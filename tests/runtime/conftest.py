"""Shared by the tests that hold Python and TypeScript to one rule through JSON test vectors."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def node_test(repo_root: Path, tmp_path: Path) -> Callable[[str, dict[str, str]], str]:
    """`node_test("src/lib/x.test.ts", env)`: the web app's tsc compiles that test file (and what it imports) to
    CommonJS, node's test runner runs it with `env` added (the vectors' paths); returns its TAP output."""

    def run(test_file: str, env: dict[str, str]) -> str:
        web = repo_root / "web"
        node, tsc = shutil.which("node"), web / "node_modules" / "typescript" / "bin" / "tsc"
        if node is None or not tsc.is_file():
            pytest.fail("node or web/node_modules is missing; install Node.js 20+ and run `make web` (npm ci).")
        flags = ["--outDir", str(tmp_path), "--module", "commonjs", "--moduleResolution", "node"]
        flags += ["--target", "es2022", "--strict", "--skipLibCheck", "--types", "node", "--rootDir", "src", test_file]
        compiled = subprocess.run([node, str(tsc), *flags], cwd=web, capture_output=True, text=True, timeout=120)
        assert compiled.returncode == 0, compiled.stdout + compiled.stderr
        compiled_test = tmp_path / Path(test_file).relative_to("src").with_suffix(".js")
        proc = subprocess.run(
            [node, "--test", str(compiled_test)], capture_output=True, text=True, timeout=120, env=os.environ | env
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    return run
