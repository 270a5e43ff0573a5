"""ONNX graphs the benchmarks need besides the bundle: the seed-style logits network and peak-speed probes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liveseg.errors import LivesegError
from liveseg.export import webgl
from liveseg.export.wrap import POST, PRE
from liveseg.runtime.session import create_session


def logits_graph(bundle_onnx: Path, out: Path) -> tuple[int, int]:
    """The bare network of a bundle graph, logits bilinearly upsampled to the input size: normalised float32
    NCHW `input` in, float32 `logits` out.

    This is what the seeds run (pre-processing and arg-max in JavaScript) with the very same weights: the bundle
    graph without its in-graph pre-processing and decoding (`liveseg.export.wrap`), plus one Resize, the naive
    upsampling, in the operator forms of the bundle's WebGL variant (`liveseg.export.webgl`). Returns (H, W).
    """
    import onnx
    from onnx import helper, numpy_helper, utils

    model = onnx.shape_inference.infer_shapes(onnx.load(str(bundle_onnx)))
    nodes, graph = model.graph.node, model.graph
    pre = {o for n in nodes if n.name.startswith(PRE) for o in n.output}
    post = [n for n in nodes if n.name.startswith(POST)]
    if not pre or not post:
        raise LivesegError(f"{bundle_onnx} has no liveseg pre-processing or decoding nodes; export it again.")
    source = next(i for n in nodes if not n.name.startswith((PRE, POST)) for i in n.input if i in pre)
    decoded = {o for n in post for o in n.output} | {i.name for i in graph.initializer}
    logits = next(i for n in post for i in n.input if i and i not in decoded)
    height, width = (d.dim_value for d in graph.input[0].type.tensor_type.shape.dim[1:3])
    extracted = utils.Extractor(model).extract_model([source], [logits])
    net = extracted.graph
    low = "seed/low"  # the network's own logits (which may be named `logits` already)
    for node in net.node:
        node.input[:] = ["input" if i == source else low if i == logits else i for i in node.input]
        node.output[:] = [low if o == logits else o for o in node.output]
    classes = next(v for v in graph.value_info if v.name == logits).type.tensor_type.shape.dim[1].dim_value
    sizes = np.array([1, classes, height, width], np.int64)
    net.initializer.append(numpy_helper.from_array(sizes, "seed/sizes"))
    net.node.append(helper.make_node("Resize", [low, "", "", "seed/sizes"], ["logits"], mode="linear"))
    net.input[0].name = "input"
    dims = net.input[0].type.tensor_type.shape.dim
    for dim, value in zip(dims, (1, 3, height, width), strict=True):
        dim.Clear()
        dim.dim_value = value
    del net.output[:]
    net.output.append(helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, [1, classes, height, width]))
    onnx.checker.check_model(extracted)
    onnx.save(_freeze_resize_sizes(extracted), str(out))
    webgl.fit(out, out)  # the operator forms every backend and converter reads, as the bundle's WebGL variant
    return height, width


def _freeze_resize_sizes(model):
    """Replace the Shape→Concat computed `sizes` of Resize nodes by constants (all shapes are static now).

    Converters such as onnx2tf cannot follow a size computed at run time (tf.image.resize then gets size=None);
    onnxruntime computes the values once and they become initializers.
    """
    import onnx
    from onnx import helper, numpy_helper, utils

    constants = {t.name for t in model.graph.initializer}
    dynamic = sorted(
        {
            n.input[3]
            for n in model.graph.node
            if n.op_type == "Resize" and len(n.input) > 3 and n.input[3] and n.input[3] not in constants
        }
    )
    if not dynamic:
        return model
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.extend(helper.make_tensor_value_info(name, onnx.TensorProto.INT64, None) for name in dynamic)
    session = create_session(probe.SerializeToString())
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    values = session.run(dynamic, {model.graph.input[0].name: np.zeros(dims, dtype=np.float32)})
    for name, value in zip(dynamic, values, strict=True):
        model.graph.initializer.append(numpy_helper.from_array(value, name))
    # Drop the now-dead Shape/Concat nodes that produced them.
    keep = [n for n in model.graph.node if not set(n.output) & set(dynamic)]
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return utils.Extractor(model).extract_model([model.graph.input[0].name], [model.graph.output[0].name])


@dataclass(frozen=True)
class Probe:
    """A graph whose FLOPs are known exactly, to measure the GFLOP/s a runtime reaches on this machine."""

    name: str
    path: Path
    input_shape: tuple[int, ...]
    flops: float

    def result(self, runtime: str, threads: int, call_ms: list[float]) -> PeakRun:
        """The probe's timed calls on a runtime; its GFLOP/s is the best call's."""
        return PeakRun(runtime, threads, self.name, self.flops, call_ms, self.flops / (min(call_ms) / 1000) / 1e9)


@dataclass(frozen=True)
class PeakRun:
    """A probe's calls on one runtime and thread count (a row of a result's `peak`, Python's and the browser's)."""

    runtime: str
    threads: int
    probe: str
    flops: float
    call_ms: list[float]
    gflops_per_s: float


def peak_probes(out_dir: Path) -> list[Probe]:
    """A large MatMul and a large 3x3 Conv (the network's dominant op), float32, weights as initializers."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    m, k, n = 1024, 1024, 1024
    c, h, w = 64, 90, 120
    specs: list[tuple[str, str, tuple[int, ...], np.ndarray, dict[str, Any], float]] = [
        ("matmul", "MatMul", (m, k), rng.standard_normal((k, n), dtype=np.float32), {}, 2.0 * m * k * n),
        (
            "conv3x3",
            "Conv",
            (1, c, h, w),
            rng.standard_normal((c, c, 3, 3), dtype=np.float32) * 0.05,
            {"pads": [1, 1, 1, 1]},
            2.0 * c * c * 9 * h * w,
        ),
    ]
    probes = []
    for name, op, shape, weight, attrs, flops in specs:
        node = helper.make_node(op, ["x", "w"], ["y"], **attrs)
        graph = helper.make_graph(
            [node],
            name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            initializer=[numpy_helper.from_array(weight, "w")],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8  # readable by every onnxruntime(-web) release in use
        path = out_dir / f"peak-{name}.onnx"
        onnx.save(model, str(path))
        probes.append(Probe(name, path, shape, flops))
    return probes
