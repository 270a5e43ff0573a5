"""The bundle's graphs around a network: in-graph pre-processing before it, decoding after it, as ONNX nodes.

A network — traced from PyTorch here, or imported from another toolkit — maps a normalised float N×3×H×W image
to N×C×h×w logits. `labels_graph` wraps it so that it takes the frame as the browser has it (uint8 NHWC, RGB or
RGBA) and returns uint8 class ids and confidences at that H×W; `logits_graph` gives runtimes without ArgMax or
uint8 tensors (onnxruntime-web's WebGL backend) the same network on float RGBA pixels, decoded by its consumer
as `parity.decode_logits` decodes it. Written once, here, for every network.

The nodes are chosen for onnxruntime-web's WASM kernels, where the obvious graph is slow: its channel-axis
reductions and innermost-axis slices are scalar loops (BENCHMARKS.md, "Design measurements", has the figures).
So:
- the pixels are transposed to planes while still bytes, and the alpha plane is dropped as a contiguous slice;
  the normalisation stays `(x / 255 - mean) / std`, the same bits as training's;
- bilinear upsampling by an integer factor f (a stride-8 network at a size divisible by 8) is, per class, a 3×3
  convolution of the edge-padded logits with f² output channels, one per sub-pixel phase; the class map is then
  put in place by DepthToSpace, on bytes (other sizes fall back to Resize);
- the arg-max over classes is a Max and a chain of Equal/Where (the first class reaching the maximum, as ArgMax
  picks), elementwise kernels that vectorise; no node has more operands than a WebGPU kernel may bind.
The confidence (top-class probability) is a softmax at the logits' own resolution, upsampled the same way.

Nodes are named `liveseg/pre/…` and `liveseg/post/…`, so that `optimize.boundary_nodes` keeps them fp32 and
unquantised.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT = "image"
LABELS = "labels"
CONFIDENCE = "confidence"
LOGITS = "logits"  # the one output of the logits graph
LOGITS_CHANNELS = 4  # the logits graph's fixed input channels: RGBA, as the browser reads pixels
PRE, POST = "liveseg/pre/", "liveseg/post/"
STORAGE_BUFFERS = 8  # WebGPU's default maxStorageBuffersPerShaderStage: one kernel's inputs and outputs


class _Nodes:
    """Nodes and constants added to `graph` under one name prefix."""

    def __init__(self, graph: onnx.GraphProto, prefix: str) -> None:
        self.graph, self.prefix = graph, prefix
        self.nodes: list[onnx.NodeProto] = []
        self.consts: set[str] = set()

    def const(self, name: str, value: np.ndarray) -> str:
        """The constant `name` (made on first use; later uses of a name share it)."""
        if self.prefix + name not in self.consts:
            self.consts.add(self.prefix + name)
            self.graph.initializer.append(numpy_helper.from_array(value, self.prefix + name))
        return self.prefix + name

    def add(self, op: str, inputs: Sequence[str], output: str | None = None, **attrs) -> str:
        name = f"{self.prefix}{len(self.nodes)}/{op}"
        self.nodes.append(helper.make_node(op, list(inputs), [output or name], name=name, **attrs))
        return output or name


def phase_kernel(factor: int, gain: float = 1.0) -> np.ndarray:
    """factor² × 1 × 3 × 3 weights: output channel i·f + j is the sub-pixel (i, j) of bilinear upsampling by
    `factor` (half-pixel centres, align_corners=False) from the 3×3 neighbourhood of an edge-padded input."""
    taps = np.zeros((factor, 3), np.float64)
    for i in range(factor):
        d = (i + 0.5) / factor - 0.5  # the phase's offset from its source sample, in source pixels
        taps[i, 0 if d < 0 else 2] = abs(d)
        taps[i, 1] = 1 - abs(d)
    kernel = np.einsum("ia,jb->ijab", taps, taps).reshape(factor * factor, 1, 3, 3) * gain
    return kernel.astype(np.float32)


def upsample_factor(logits_size: tuple[int, int], size: tuple[int, int]) -> int | None:
    """The integer factor from `logits_size` to `size` when both axes share one, else None."""
    (h, w), (height, width) = logits_size, size
    if height % h or width % w or height // h != width // w:
        return None
    return height // h


def preprocess(graph: onnx.GraphProto, pixels: str, x: str, mean: Sequence[float], std: Sequence[float]) -> list:
    """NHWC RGB(A) pixels (uint8, or float 0..255) → `x`, float N×3×H×W `(pixels / 255 - mean) / std`."""
    b = _Nodes(graph, PRE)
    planes = b.add("Transpose", [pixels], perm=[0, 3, 1, 2])
    start, end, axis = (b.const(name, np.array([v], np.int64)) for name, v in (("zero", 0), ("three", 3), ("one", 1)))
    rgb = b.add("Slice", [planes, start, end, axis])
    if _elem_type(graph, pixels) != TensorProto.FLOAT:
        rgb = b.add("Cast", [rgb], to=TensorProto.FLOAT)
    unit = b.add("Div", [rgb, b.const("255", np.array(255.0, np.float32))])
    # A zero mean and unit std (networks fed 0..1, as MediaPipe's) skip their nodes: the same bits, less work.
    centred = unit if not any(mean) else b.add("Sub", [unit, b.const("mean", _channels(mean))])
    if all(v == 1 for v in std):
        b.add("Identity", [centred], x)
    else:
        b.add("Div", [centred, b.const("std", _channels(std))], x)
    return b.nodes


def _channels(values: Sequence[float]) -> np.ndarray:
    return np.asarray(values, np.float32).reshape(1, 3, 1, 1)


def decode(
    graph: onnx.GraphProto, logits: str, classes: int, logits_size: tuple[int, int], size: tuple[int, int]
) -> list:
    """N×C×h×w `logits` → LABELS (uint8 N×H×W class ids) and CONFIDENCE (uint8 N×H×W, 255 × top probability)."""
    if classes < 2:
        raise ValueError("a segmentation network has at least two classes")
    b = _Nodes(graph, POST)
    factor = upsample_factor(logits_size, size)
    pads = b.const("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))

    def upsample(src: str, gain: float = 1.0) -> str:
        """`src` at full size (factor None), unchanged (1), or as factor² phase channels (gain folded in)."""
        if factor is None:
            up = b.add("Resize", [src, "", "", b.const("sizes", np.array(size, np.int64))], axes=[2, 3], mode="linear")
            return up if gain == 1.0 else b.add("Mul", [up, b.const(f"gain{gain:g}", np.array(gain, np.float32))])
        if factor == 1:
            return src if gain == 1.0 else b.add("Mul", [src, b.const(f"gain{gain:g}", np.array(gain, np.float32))])
        return b.add("Conv", [src, b.const(f"phases{gain:g}", phase_kernel(factor, gain))], kernel_shape=[3, 3])

    def place(phases: str, output: str) -> str:
        """uint8 N×f²×h×w phases (or N×1×H×W) → N×H×W `output`."""
        if factor not in (None, 1):
            phases = b.add("DepthToSpace", [phases], blocksize=factor, mode="DCR")
        return b.add("Squeeze", [phases, b.const("channel", np.array([1], np.int64))], output)

    if classes == 2:
        _decode_two(b, logits, upsample, place, pads if factor not in (None, 1) else None)
        return b.nodes
    if factor in (None, 1):
        parts = _split(b, upsample(logits), classes)
    else:
        parts = [upsample(p) for p in _split(b, b.add("Pad", [logits, pads], mode="edge"), classes)]
    top = _max(b, parts)
    ids = b.const(f"id{classes - 1}", np.array(classes - 1, np.uint8))
    for k in range(classes - 2, -1, -1):  # lower classes override: the first maximum wins, as ArgMax's
        ids = b.add("Where", [b.add("Equal", [parts[k], top]), b.const(f"id{k}", np.array(k, np.uint8)), ids])
    place(ids, LABELS)

    channel = b.const("axes", np.array([1], np.int64))  # shared with _split's
    peak = b.add("ReduceMax", [logits, channel], keepdims=1)
    total = b.add("ReduceSum", [b.add("Exp", [b.add("Sub", [logits, peak])]), channel], keepdims=1)
    prob = b.add("Reciprocal", [total])
    if factor not in (None, 1):
        prob = b.add("Pad", [prob, pads], mode="edge")
    scaled = upsample(prob, 255.0)
    place(b.add("Cast", [b.add("Round", [scaled])], to=TensorProto.UINT8), CONFIDENCE)
    return b.nodes


def _decode_two(b: _Nodes, logits: str, upsample, place, pads: str | None) -> None:
    """Two classes, the same results with a third of the work: everything follows from d = logit₁ − logit₀
    (bilinear upsampling is linear, so upsampling d is upsampling both and subtracting). The label is 1 where
    d > 0 (a tie goes to class 0, as ArgMax's first maximum), and the top probability is sigmoid(|d|), the
    two-class softmax, upsampled as the general path upsamples it."""
    zero, one = _split(b, logits, 2)
    d = b.add("Sub", [one, zero])
    if pads is not None:
        d = b.add("Pad", [d, pads], mode="edge")
    ids = [b.const(f"id{k}", np.array(k, np.uint8)) for k in (0, 1)]
    positive = b.add("Greater", [upsample(d), b.const("zero", np.array(0.0, np.float32))])
    place(b.add("Where", [positive, ids[1], ids[0]]), LABELS)
    prob = b.add("Sigmoid", [b.add("Abs", [d])])
    place(b.add("Cast", [b.add("Round", [upsample(prob, 255.0)])], to=TensorProto.UINT8), CONFIDENCE)


def _split(b: _Nodes, src: str, classes: int) -> list[str]:
    """One N×1×h×w slice per class. Slices rather than one Split: a WebGPU kernel binds its inputs and outputs
    as storage buffers, at most `STORAGE_BUFFERS` of them."""
    axis = b.const("axes", np.array([1], np.int64))
    bounds = [b.const(f"at{k}", np.array([k], np.int64)) for k in range(classes + 1)]
    return [b.add("Slice", [src, bounds[k], bounds[k + 1], axis]) for k in range(classes)]


def _max(b: _Nodes, parts: list[str]) -> str:
    """The elementwise maximum of `parts`, folded `STORAGE_BUFFERS - 1` operands at a time."""
    top = b.add("Max", parts[: STORAGE_BUFFERS - 1])
    for i in range(STORAGE_BUFFERS - 1, len(parts), STORAGE_BUFFERS - 2):
        top = b.add("Max", [top, *parts[i : i + STORAGE_BUFFERS - 2]])
    return top


def _elem_type(graph: onnx.GraphProto, name: str) -> int:
    return next(v.type.tensor_type.elem_type for v in graph.input if v.name == name)


def labels_graph(
    network: onnx.ModelProto,
    logits: str,
    mean: Sequence[float],
    std: Sequence[float],
    size: tuple[int, int],
    logits_size: tuple[int, int],
    classes: int,
) -> onnx.ModelProto:
    """uint8 N×H×W×(3|4) INPUT → pre-processing → `network` (its one input, `logits` its N×C×h×w output) →
    LABELS and CONFIDENCE at `size`."""
    model, x = _around(network, {INPUT, LABELS, CONFIDENCE})
    graph = model.graph
    logits = _renamed(graph, logits)
    graph.input.append(helper.make_tensor_value_info(INPUT, TensorProto.UINT8, ["batch", *size, "channels"]))
    nodes = [*preprocess(graph, INPUT, x, mean, std), *graph.node, *decode(graph, logits, classes, logits_size, size)]
    maps = ["batch", *size]
    _finish(graph, nodes, [(LABELS, TensorProto.UINT8, maps), (CONFIDENCE, TensorProto.UINT8, maps)])
    return model


def logits_graph(
    network: onnx.ModelProto, logits: str, mean: Sequence[float], std: Sequence[float], size: tuple[int, int]
) -> onnx.ModelProto:
    """float 1×H×W×4 INPUT (RGBA, 0..255) → pre-processing → `network` → its logits as LOGITS. Fully static:
    onnxruntime-web's WebGL backend rejects symbolic dimensions, so `network` must be traced at batch 1."""
    model, x = _around(network, {INPUT, LOGITS})
    graph = model.graph
    logits = _renamed(graph, logits)
    graph.input.append(helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, *size, LOGITS_CHANNELS]))
    shape = [d.dim_value for d in next(o for o in graph.output if o.name == logits).type.tensor_type.shape.dim]
    nodes = [*preprocess(graph, INPUT, x, mean, std), *graph.node]
    for node in nodes:
        node.output[:] = [LOGITS if o == logits else o for o in node.output]
    _finish(graph, nodes, [(LOGITS, TensorProto.FLOAT, shape)])
    return model


def _around(network: onnx.ModelProto, reserved: set[str]) -> tuple[onnx.ModelProto, str]:
    """A copy of `network` with its input removed (returned by name) and any value named like `reserved` renamed."""
    model = onnx.ModelProto()
    model.CopyFrom(network)
    graph = model.graph
    rename = {v: f"network/{v}" for n in graph.node for v in [*n.input, *n.output] if v in reserved}
    rename |= {v.name: f"network/{v.name}" for v in [*graph.input, *graph.output] if v.name in reserved}
    for node in graph.node:
        node.input[:] = [rename.get(i, i) for i in node.input]
        node.output[:] = [rename.get(o, o) for o in node.output]
    for v in [*graph.input, *graph.output]:
        v.name = rename.get(v.name, v.name)
    initializers = {i.name for i in graph.initializer}
    (x,) = [i.name for i in graph.input if i.name not in initializers]
    kept = [i for i in graph.input if i.name in initializers]
    del graph.input[:]
    graph.input.extend(kept)
    del graph.value_info[:]  # shapes are inferred again for the new input
    return model, x


def _renamed(graph: onnx.GraphProto, name: str) -> str:
    return name if any(name in n.output for n in graph.node) else f"network/{name}"


def _finish(graph: onnx.GraphProto, nodes: list, outputs: list[tuple[str, int, list]]) -> None:
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.output[:]
    graph.output.extend(helper.make_tensor_value_info(name, dtype, shape) for name, dtype, shape in outputs)
