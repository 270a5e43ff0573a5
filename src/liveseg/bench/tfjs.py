"""The TF.js peer: the bundle's own network converted ONNX → TensorFlow SavedModel (onnx2tf) → TF.js graph model.

The converters run as subprocesses of the TensorFlow conversion environment (`liveseg.tfenv`). Converted models
are cached by the sha256 of the logits graph.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from liveseg import atomic, paths, tfenv
from liveseg.sources import sha256_file

# onnx2tf loads 20 calibration images from GitHub unless this file is in its working directory.
CALIBRATION = "calibration_image_sample_data_20x128x128x3_float32.npy"


def convert(logits_onnx: Path, venv: Path | None, calibration_images: Sequence[Path], timeout_s: float = 1200) -> Path:
    """The TF.js graph model directory (model.json + shards) of `logits_onnx`, converted once and cached.

    Raises LivesegError naming the step and the op that failed, so the benchmark report can quote it.
    """
    venv = tfenv.require(tfenv.location(venv), "The TF.js peer")
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
        tfenv.run(
            [tfenv.python(venv), "-m", "onnx2tf", "-i", logits_onnx.resolve(), "-o", "saved_model", "-osd", "-n"],
            work,
            "onnx2tf (ONNX → TensorFlow SavedModel)",
            timeout_s,
        )
        tfenv.run(
            [
                tfenv.python(venv),
                "-c",
                tfenv.TFJS_CONVERTER,
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
