"""PyTorch → ONNX: a network traced alone, normalised float N×3×H×W in, its N×C×h×w logits out.

`liveseg.export.wrap` then puts the bundle's in-graph pre-processing and decoding around it, the same nodes as
around an imported network, so every runtime (browser, Python, benchmarks) feeds raw pixels and reads class ids.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from pathlib import Path

import torch

from liveseg.models.exported import Logits
from liveseg.models.layers import SegmentationModel

NETWORK_INPUT = "x"
NETWORK_OUTPUT = "logits"
OPSET = 18


def logits_size(net: SegmentationModel, height: int, width: int) -> tuple[int, int]:
    """The h×w of the network's logits for an H×W input."""
    with torch.no_grad():
        return tuple(Logits(net).eval()(torch.zeros(1, 3, height, width)).shape[-2:])


@contextlib.contextmanager
def _quiet_exporter():
    """The exporter logs progress, FutureWarnings and missing-torchvision notes that mean nothing to users."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "onnxscript", "torch._dynamo")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def trace_network(net: SegmentationModel, height: int, width: int, path: Path, batch: int | None = None) -> None:
    """Trace `net` at a fixed H×W to an ONNX file: a dynamic batch, or a static one (`batch`) for runtimes
    that reject symbolic dimensions (onnxruntime-web's WebGL backend, which also needs every shape folded)."""
    module = Logits(net).eval()
    # A batch of 2 keeps torch.export from specialising a dynamic batch dimension to 1.
    example = torch.zeros((batch or 2, 3, height, width), dtype=torch.float32)
    dynamic = None if batch else {NETWORK_INPUT: {0: torch.export.Dim("batch", min=1)}}
    with _quiet_exporter(), torch.no_grad():
        program = torch.onnx.export(
            module,
            (example,),
            input_names=[NETWORK_INPUT],
            output_names=[NETWORK_OUTPUT],
            dynamic_shapes=dynamic,
            opset_version=OPSET,
            dynamo=True,
            optimize=True,  # constant folding and Conv+BN folding by the onnxscript optimizer
            verbose=False,
        )
    assert program is not None  # dynamo=True returns the program
    program.save(str(path))
