"""The exported graphs: uint8 NHWC pixels in, uint8 class ids and confidences out ("labels" graph), or
float32 NHWC pixels in, the network's low-resolution logits out ("logits" graph).

Putting the cast, normalisation, transposition, upsampling and argmax inside the ONNX graph means every
runtime (browser, Python, benchmarks) feeds raw pixels and reads class ids: no re-implemented pre-processing
to drift apart, and no float logits to copy out of WebGPU/WASM. onnxruntime-web's WebGL backend has neither
ArgMax nor uint8 tensors, so it gets the logits graph: the same pixels as floats, the same normalisation
inside, and the upsampling and arg-max left to its consumer (the web app's worker, web/src/lib/logits.ts).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from liveseg.models.layers import SegmentationModel, upsample_like

INPUT = "image"
LABELS = "labels"
CONFIDENCE = "confidence"
LOGITS = "logits"  # the one output of the logits graph
LOGITS_CHANNELS = 4  # the logits graph's fixed input channels: RGBA, as the browser reads pixels
OPSET = 18


class Preprocess(nn.Module):
    """NHWC uint8 RGB(A) → NCHW float normalised, with the same operations (and so the same bits) as training."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = image[..., :3].permute(0, 3, 1, 2).to(torch.float32)  # no-op (and no Cast node) for float input
        return (x / 255.0 - self.mean) / self.std


class BundleGraph(nn.Module):
    """The network between in-graph pre- and post-processing; exported as one ONNX graph per size.

    The confidence is computed on the network's own low-resolution logits and then upsampled as one channel:
    a softmax over C×H×W at full resolution cost more than the whole network in onnxruntime (it transposes
    for a channel-axis softmax), and the top-class probability is smooth enough to interpolate.
    """

    def __init__(self, net: SegmentationModel, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.preprocess = Preprocess(mean, std)
        self.net = net

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.preprocess(image)
        logits, _ = self.net.logits_and_aux(x)  # N×C×h×w at the network's output stride
        labels = upsample_like(logits, x).argmax(dim=1).to(torch.uint8)  # exactly what net(x) would argmax
        top = 1.0 / torch.exp(logits - logits.amax(dim=1, keepdim=True)).sum(dim=1, keepdim=True)
        confidence = torch.round(upsample_like(top, x) * 255.0).to(torch.uint8)
        return labels, confidence[:, 0]


class LogitsGraph(nn.Module):
    """Float32 NHWC pixels (0..255) → the network's own N×C×h×w logits, for runtimes without ArgMax or uint8.

    The values fed are the uint8 graph's pixels as floats, so the normalised tensor is the same bits.
    """

    def __init__(self, net: SegmentationModel, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.preprocess = Preprocess(mean, std)
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        logits, _ = self.net.logits_and_aux(self.preprocess(image))
        return logits


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


def export_onnx(graph: BundleGraph | LogitsGraph, height: int, width: int, path: Path) -> None:
    """Trace `graph` at a fixed H×W to an ONNX file.

    The labels graph takes a dynamic batch and 3 or 4 channels. The logits graph is fully static, batch 1 and
    RGBA (the browser's ImageData), because onnxruntime-web's WebGL backend rejects symbolic input dimensions
    and needs every shape folded into constants.
    """
    graph.eval()
    if isinstance(graph, LogitsGraph):
        example = torch.zeros((1, height, width, LOGITS_CHANNELS), dtype=torch.float32)
        dynamic = None
        outputs = [LOGITS]
    else:
        # A batch of 2 keeps torch.export from specialising the batch dimension to 1.
        example = torch.zeros((2, height, width, 3), dtype=torch.uint8)
        dynamic = {INPUT: {0: torch.export.Dim("batch", min=1), 3: torch.export.Dim("channels", min=3, max=4)}}
        outputs = [LABELS, CONFIDENCE]
    with _quiet_exporter(), torch.no_grad():
        program = torch.onnx.export(
            graph,
            (example,),
            input_names=[INPUT],
            output_names=outputs,
            dynamic_shapes=dynamic,
            opset_version=OPSET,
            dynamo=True,
            optimize=True,  # constant folding and Conv+BN folding by the onnxscript optimizer
            verbose=False,
        )
    program.save(str(path))
