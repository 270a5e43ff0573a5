"""The TF.js peer: the bundle's own network converted ONNX → TensorFlow SavedModel (onnx2tf) → TF.js graph model.

The converters run as subprocesses of the TensorFlow conversion environment (`liveseg.tfenv`). Converted models
are cached by the sha256 of the logits graph and of the converter's parameter replacements.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from liveseg import atomic, paths, tfenv
from liveseg.sources import sha256_file

# onnx2tf loads 20 calibration images from GitHub unless this file is in its working directory.
CALIBRATION = "calibration_image_sample_data_20x128x128x3_float32.npy"
REPLACEMENTS = "replacements.json"  # onnx2tf's parameter replacement file (-prf)


def convert(logits_onnx: Path, venv: Path | None, calibration_images: Sequence[Path], timeout_s: float = 1200) -> Path:
    """The TF.js graph model directory (model.json + shards) of `logits_onnx`, converted once and cached.

    Raises LivesegError naming the step and the op that failed, so the benchmark report can quote it.
    """
    venv = tfenv.require(tfenv.location(venv), "The TF.js peer")
    fixes = depthwise_after_add(logits_onnx)
    key = hashlib.sha256((sha256_file(logits_onnx) + json.dumps(fixes)).encode()).hexdigest()
    target = paths.cache_dir() / "bench" / "tfjs" / key[:16]
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
        onnx2tf = [tfenv.python(venv), "-m", "onnx2tf", "-i", logits_onnx.resolve(), "-o", "saved_model", "-osd", "-n"]
        if fixes:
            (work / REPLACEMENTS).write_text(json.dumps({"format_version": 1, "operations": fixes}))
            onnx2tf += ["-prf", REPLACEMENTS]
        tfenv.run(
            onnx2tf,
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


def depthwise_after_add(onnx_path: Path) -> list[dict]:
    """onnx2tf's replacements that keep a depthwise convolution fed by an Add depthwise in TensorFlow.

    onnx2tf 1.29 computes an Add channel-first and judges whether the Conv after it is depthwise from that
    layout, so such a Conv becomes a grouped convolution, which TF.js cannot run ("depth of input must match
    input depth for filter"; onnx2tf issue 791). Giving each Add whose only readers are depthwise Convs a
    channel-last output lets onnx2tf see the channels where it looks for them.
    """
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    in_depth = {t.name: t.dims[1] for t in graph.initializer if len(t.dims) == 4}
    readers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)

    def depthwise(node) -> bool:
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        return node.op_type == "Conv" and group > 1 and in_depth.get(node.input[1]) == 1

    return [
        {
            "op_name": node.name,
            "param_target": "outputs",
            "param_name": node.output[0],
            "post_process_transpose_perm": [0, 2, 3, 1],
        }
        for node in graph.node
        if node.op_type == "Add" and readers.get(node.output[0]) and all(map(depthwise, readers[node.output[0]]))
    ]
