"""The TensorFlow conversion environment: TensorFlow's converters and TF.js itself, in a virtualenv of their own.

TensorFlow pins numpy, protobuf and more against liveseg's own environment, so a pip extra cannot hold it. The
tools that need it (the TF.js peer of `liveseg bench browser`: onnx2tf and tensorflowjs; `liveseg import
model.json`: tensorflowjs and tf2onnx) run as subprocesses of this one environment, `.venv-bench` unless
`LIVESEG_TFJS_VENV` or a command's option names another, and liveseg never imports TensorFlow. `liveseg setup-tfjs`
creates it from the one recipe below (`scripts/setup.sh --dev` runs it); it also holds npm's @tensorflow/tfjs,
the release of the converter, which runs TF.js models in Node for the importer's parity check.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from liveseg.errors import LivesegError

# Two pip steps. The first installs TensorFlow's lean CPU build and what the converters import (jax: tensorflowjs
# at start-up; onnx_graphsurgeon, sng4onnx, onnxruntime, ai_edge_litert, opencv, h5py, psutil: onnx2tf), with
# TensorFlow's numpy and protobuf. The second adds the converters without their dependencies: they require the
# full `tensorflow` build (GPU kernels too: 1.8 GB installed against 1.1), tensorflowjs also decision forests
# (stubbed, `TFJS_CONVERTER`) and tf2onnx a protobuf 3 that TensorFlow 2.19 and onnx2tf cannot load.
PIP_STEPS: tuple[tuple[str, ...], ...] = (
    (
        "tensorflow-cpu==2.19.0",
        "numpy==1.26.4",
        "protobuf==4.25.5",
        "jax==0.4.38",
        "jaxlib==0.4.38",
        "onnx",
        "onnxruntime",
        "onnx_graphsurgeon",
        "sng4onnx",
        "psutil",
        "ai_edge_litert",
        "opencv-python-headless",
        "h5py",
        "ml-dtypes",
    ),
    (
        "--no-deps",
        "onnx2tf==1.29.24",
        "tensorflowjs==4.22.0",
        "tf-keras==2.19.0",
        "tf2onnx==1.17.0",
        "tensorflow-hub==0.16.1",
    ),
)
NPM_PACKAGES = ("@tensorflow/tfjs@4.22.0",)  # the release of the tensorflowjs converter
DEFAULT_VENV = Path(".venv-bench")
SETUP = "liveseg setup-tfjs"
# The option of every command that runs these tools, declared once: `option(**tfenv.OPTION)` (liveseg.settings).
OPTION: dict[str, Any] = {
    "default": None,
    "help": f"The TensorFlow conversion environment (default: LIVESEG_TFJS_VENV, else .venv-bench); `{SETUP}` "
    "creates it.",
}
# TensorFlow's oneDNN graph rewrites (on by default, and fusing more on AVX-512 CPUs) leave ops in the graph that
# tf2onnx cannot convert; with them off the converters see the same plain graph on every CPU.
TOOL_ENV = {"TF_ENABLE_ONEDNN_OPTS": "0"}
MARKER = "liveseg-tfenv.json"  # written last by `create`, with the recipe it installed

# tensorflowjs imports tensorflow_decision_forests at start-up although only decision-forest models need it, and
# its wheels need a protobuf that TensorFlow 2.19 and onnx2tf cannot load: an empty module stands in for it.
TFJS_CONVERTER = (
    "import sys, types; sys.modules['tensorflow_decision_forests'] = types.ModuleType('tensorflow_decision_forests'); "
    "from tensorflowjs.converters.converter import pip_main; sys.argv[0] = 'tensorflowjs_converter'; pip_main()"
)


def location(venv: Path | None = None) -> Path:
    """The environment's folder: `venv` when given, else LIVESEG_TFJS_VENV, else .venv-bench here. Not resolved:
    its python is a symlink whose target is another environment's."""
    return (venv or Path(os.environ.get("LIVESEG_TFJS_VENV") or DEFAULT_VENV)).absolute()


def recipe() -> str:
    """A fingerprint of what `create` installs, so a changed recipe is installed again."""
    text = json.dumps({"pip": PIP_STEPS, "npm": NPM_PACKAGES, "python": sys.version_info[:2]})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_ready(venv: Path) -> bool:
    marker = venv / MARKER
    return marker.is_file() and json.loads(marker.read_text(encoding="utf-8")).get("recipe") == recipe()


def require(venv: Path, what: str) -> Path:
    """`venv` when it holds this recipe's tools, else one sentence saying how to create it."""
    if not is_ready(venv):
        raise LivesegError(
            f"{what} needs the TensorFlow conversion environment, which {venv} does not hold; create it with "
            f"`{SETUP} --venv {venv}` (a few minutes, about 2.5 GB), then try again."
        )
    return venv


def python(venv: Path) -> Path:
    return venv / "bin" / "python"


def node_env(venv: Path) -> dict[str, str]:
    """The environment variables under which `node` finds the environment's TF.js."""
    return os.environ | {"NODE_PATH": str(venv / "node_modules")}


def create(venv: Path, say: Callable[[str], None] = print) -> None:
    """Install the recipe into `venv` (created with this interpreter's Python), then mark it ready; nothing is
    done when it holds this recipe already."""
    if is_ready(venv):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise LivesegError("The TF.js conversion environment needs npm (Node.js 20+); install Node.js, then try again.")
    base = getattr(sys, "_base_executable", sys.executable)  # a venv is made from a real interpreter
    if not python(venv).is_file():
        say(f"creating {venv}")
        run([base, "-m", "venv", venv], Path.cwd(), "Creating the virtualenv", 600)
    pip = [python(venv), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for packages in PIP_STEPS:
        say(f"pip install {' '.join(packages)}")
        run([*pip, *packages], Path.cwd(), "pip install", 3600)
    say(f"npm install {' '.join(NPM_PACKAGES)}")
    npm_flags = ["--no-audit", "--no-fund", "--no-save", "--prefix", venv]
    run([npm, "install", *npm_flags, *NPM_PACKAGES], Path.cwd(), "npm install", 1200)
    (venv / MARKER).write_text(json.dumps({"recipe": recipe()}), encoding="utf-8")


def failure(log: str) -> str:
    """The few lines of a converter log that say which op failed and why."""
    wanted = re.compile(r"onnx_op_name:|onnx_op_type:|Error:|Exception:|Unsupported|not supported|must be", re.I)
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in log.splitlines()]
    hits = [ln for ln in lines if wanted.search(ln) and "traceback" not in ln.lower()]
    return " | ".join(dict.fromkeys(hits[-6:])) or (lines[-1] if lines else "no output")


def run(cmd: Sequence[object], cwd: Path, step: str, timeout_s: float, env: dict[str, str] | None = None) -> str:
    """Run one tool; its stdout, or one sentence naming `step` and the lines of its log that say why it failed."""
    env = (os.environ if env is None else env) | TOOL_ENV
    try:
        proc = subprocess.run(list(map(str, cmd)), cwd=cwd, capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        raise LivesegError(f"{step} took longer than {timeout_s:.0f} s and was stopped.") from None
    except FileNotFoundError as exc:
        raise LivesegError(f"{step} could not start: {exc.filename} is missing.") from None
    if proc.returncode != 0:
        raise LivesegError(f"{step} failed: {failure(proc.stdout + proc.stderr)}")
    return proc.stdout
