"""The TF.js peer: the bundle's own network converted ONNX → TensorFlow SavedModel (onnx2tf) → TF.js graph model.

The converters (TensorFlow, onnx2tf, tensorflowjs) are heavy and pin their own dependencies, so they live in a
separate benchmark-only virtual environment (default `.venv-bench`) and run as subprocesses. Converted models
are cached by the sha256 of the logits graph.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from liveseg import atomic, paths
from liveseg.errors import LivesegError
from liveseg.sources import sha256_file

VENV_HELP = (
    "python3.11 -m venv .venv-bench && .venv-bench/bin/pip install onnx2tf tensorflow==2.19.0 onnx onnxsim "
    "onnx_graphsurgeon sng4onnx psutil ai_edge_litert jax==0.4.38 jaxlib==0.4.38 numpy==1.26.4 protobuf==4.25.5 "
    "&& .venv-bench/bin/pip install --no-deps tensorflowjs==4.22.0 tensorflow-hub==0.16.1 packaging==23.2"
)
# tensorflowjs imports tensorflow_decision_forests at start-up although only decision-forest models need it, and
# its wheels need a protobuf that TensorFlow 2.19 and onnx2tf cannot load: an empty module stands in for it.
TFJS_CONVERTER = (
    "import sys, types; sys.modules['tensorflow_decision_forests'] = types.ModuleType('tensorflow_decision_forests'); "
    "from tensorflowjs.converters.converter import pip_main; sys.argv[0] = 'tensorflowjs_converter'; pip_main()"
)
# onnx2tf loads 20 calibration images from GitHub unless this file is in its working directory.
CALIBRATION = "calibration_image_sample_data_20x128x128x3_float32.npy"


def _tool(venv: Path, name: str) -> Path:
    tool = venv / "bin" / name
    if not tool.is_file():
        raise LivesegError(f"{tool} is missing; create the TF.js conversion environment with `{VENV_HELP}`.")
    return tool


def _failure(log: str) -> str:
    """The few lines of a converter log that say which op failed and why."""
    wanted = re.compile(r"onnx_op_name:|onnx_op_type:|Error:|Exception:|Unsupported|not supported|must be", re.I)
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in log.splitlines()]
    hits = [ln for ln in lines if wanted.search(ln) and "traceback" not in ln.lower()]
    return " | ".join(dict.fromkeys(hits[-6:])) or (lines[-1] if lines else "no output")


def _run(cmd: Sequence[str], cwd: Path, step: str, timeout_s: float) -> None:
    try:
        proc = subprocess.run(list(map(str, cmd)), cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise LivesegError(f"{step} took longer than {timeout_s:.0f} s and was stopped.") from None
    if proc.returncode != 0:
        raise LivesegError(f"{step} failed: {_failure(proc.stdout + proc.stderr)}")


def convert(logits_onnx: Path, venv: Path, calibration_images: Sequence[Path], timeout_s: float = 1200) -> Path:
    """The TF.js graph model directory (model.json + shards) of `logits_onnx`, converted once and cached.

    Raises LivesegError naming the step and the op that failed, so the benchmark report can quote it.
    """
    venv = venv.absolute()  # the tools run in a work directory; not resolve(): a venv python is a symlink
    onnx2tf, python = _tool(venv, "onnx2tf"), _tool(venv, "python")
    target = paths.cache_dir() / "bench" / "tfjs" / sha256_file(logits_onnx)[:16]
    if (target / "model.json").is_file():
        return target
    with atomic.directory(target) as out:
        work = out / "work"
        work.mkdir()
        images = [
            np.asarray(Image.open(p).convert("RGB").resize((128, 128)), dtype=np.float32) / 255
            for p in list(calibration_images)[:20]
        ]
        np.save(work / CALIBRATION, np.stack(images))
        _run(
            [onnx2tf, "-i", logits_onnx.resolve(), "-o", "saved_model", "-osd", "-n"],
            work,
            "onnx2tf (ONNX → TensorFlow SavedModel)",
            timeout_s,
        )
        _run(
            [
                python,
                "-c",
                TFJS_CONVERTER,
                "--input_format=tf_saved_model",
                "--output_format=tfjs_graph_model",
                "saved_model",
                out,
            ],
            work,
            "tensorflowjs_converter (SavedModel → TF.js graph model)",
            timeout_s,
        )
        shutil.rmtree(work)
    return target
