"""The logits graph, fitted to onnxruntime-web's WebGL backend and checked against what that backend runs.

The WebGL backend (onnxruntime-web's onnx.js heritage) resolves operators by the model's opset, and some
opset-18 forms are beyond it: Reduce* ops with `axes` as an input, pooling with `ceil_mode`, Resize other than
linear, empty optional inputs. The rewrites here compute the same values for the graphs the zoo exports
(ReduceMean over H, W is GlobalAveragePool; a ceil-mode AveragePool without padding is one with end padding
left out of the count; Resize to fixed sizes is Resize by the matching scales), and `problems` names whatever
else the backend could not run, so an unfit graph is reported, not shipped.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

# Operators of onnxruntime-web's WebGL backend (1.30) that it resolves in their opset-18 form and that
# compute floats; integer and boolean tensors, Cast, and Reduce*/Split (axes or splits as inputs) are out.
WEBGL_OPS = frozenset(
    {
        "Abs", "Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Conv", "ConvTranspose",
        "DepthToSpace", "Div", "Elu", "Exp", "Flatten", "Gemm", "GlobalAveragePool", "GlobalMaxPool",
        "Identity", "InstanceNormalization", "LeakyRelu", "Log", "MatMul", "MaxPool", "Mul", "Neg", "Pad",
        "Pow", "PRelu", "Relu", "Reshape", "Resize", "Sigmoid", "Slice", "Softmax", "Sqrt", "Sub", "Sum",
        "Tanh", "Tile", "Transpose",
    }
)  # fmt: skip
_RESIZE_MODES = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"}


def fit(src: Path, dst: Path) -> None:
    """Rewrite `src` into the operator forms the WebGL backend runs; the values computed stay the same."""
    model = onnx.load(str(src))
    _expand_hard_activations(model.graph)
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes = _shapes(model)
    constants = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "ReduceMean":
            _global_average(node, shapes, constants)
        elif node.op_type == "AveragePool":
            _uncap_ceil_mode(node, shapes[node.input[0]])
        elif node.op_type == "Resize":
            _sizes_to_scales(node, shapes[node.input[0]], constants, model.graph)
        elif node.op_type == "Conv":
            _widen_strided_pointwise(node, constants, model.graph)
    _drop_unused(model.graph)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(dst))


def _expand_hard_activations(graph: onnx.GraphProto) -> None:
    """HardSigmoid(x) = Clip(alpha·x + beta, 0, 1) and HardSwish(x) = x · HardSigmoid(x) with alpha 1/6, beta 1/2
    (MobileNetV3), written with Mul, Add and Clip, which the backend has; it has neither activation."""
    consts = {
        "hard/zero": np.array(0.0, np.float32),
        "hard/one": np.array(1.0, np.float32),
    }
    nodes: list[onnx.NodeProto] = []
    for i, node in enumerate(graph.node):
        if node.op_type not in ("HardSigmoid", "HardSwish"):
            nodes.append(node)
            continue
        a = _attrs(node)
        alpha, beta = (1 / 6, 0.5) if node.op_type == "HardSwish" else (a.get("alpha", 0.2), a.get("beta", 0.5))
        tag = f"hard/{i}"
        consts[f"{tag}/alpha"], consts[f"{tag}/beta"] = np.array(alpha, np.float32), np.array(beta, np.float32)
        gate = node.output[0] if node.op_type == "HardSigmoid" else f"{tag}/gate"
        nodes += [
            helper.make_node("Mul", [node.input[0], f"{tag}/alpha"], [f"{tag}/scaled"], name=f"{tag}/mul"),
            helper.make_node("Add", [f"{tag}/scaled", f"{tag}/beta"], [f"{tag}/shifted"], name=f"{tag}/add"),
            helper.make_node("Clip", [f"{tag}/shifted", "hard/zero", "hard/one"], [gate], name=f"{tag}/clip"),
        ]
        if node.op_type == "HardSwish":
            nodes.append(helper.make_node("Mul", [node.input[0], gate], [node.output[0]], name=f"{tag}/swish"))
    if len(consts) > 2:
        graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items())
        del graph.node[:]
        graph.node.extend(nodes)


def _drop_unused(graph: onnx.GraphProto) -> None:
    """Initializers the rewrites no longer read (ReduceMean's axes, Resize sizes), with their annotations."""
    used = {i for n in graph.node for i in n.input}
    produced = {o for n in graph.node for o in n.output}
    initializers = [i for i in graph.initializer if i.name in used]
    value_info = [v for v in graph.value_info if v.name in produced]
    del graph.initializer[:], graph.value_info[:]
    graph.initializer.extend(initializers)
    graph.value_info.extend(value_info)


def _shapes(model: onnx.ModelProto) -> dict[str, list[int | str]]:
    values = [*model.graph.input, *model.graph.value_info, *model.graph.output]
    return {v.name: [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim] for v in values}


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _global_average(node: onnx.NodeProto, shapes: dict, constants: dict[str, np.ndarray]) -> None:
    """ReduceMean over the two spatial axes of an NCHW tensor, keeping them, is GlobalAveragePool."""
    if len(node.input) != 2 or node.input[1] not in constants or _attrs(node).get("keepdims", 1) != 1:
        return
    rank = len(shapes.get(node.input[0], []))
    axes = {int(a) % rank for a in constants[node.input[1]].ravel()} if rank else set()
    if rank == 4 and axes == {2, 3}:
        node.op_type = "GlobalAveragePool"
        del node.input[1:]
        del node.attribute[:]


def _uncap_ceil_mode(node: onnx.NodeProto, shape: list[int | str]) -> None:
    """Ceil mode without padding averages the last, partial window over its real pixels: the same as floor
    mode with enough end padding that is left out of the count."""
    a = _attrs(node)
    if a.get("ceil_mode", 0) != 1 or any(a.get("pads", [0])) or a.get("auto_pad", b"NOTSET") != b"NOTSET":
        return
    if any(d != 1 for d in a.get("dilations", [])) or not all(isinstance(d, int) for d in shape[2:]):
        return
    kernel, strides = a["kernel_shape"], a.get("strides", [1] * len(a["kernel_shape"]))
    ends = []
    for size, k, s in zip(shape[2:], kernel, strides, strict=True):
        out = math.ceil((size - k) / s) + 1
        if (out - 1) * s >= size:  # a window that would start in the padding is dropped (PyTorch, ONNX)
            out -= 1
        ends.append((out - 1) * s + k - size)
    for attr in list(node.attribute):
        if attr.name in ("ceil_mode", "pads", "count_include_pad"):
            node.attribute.remove(attr)
    node.attribute.extend(
        [
            helper.make_attribute("ceil_mode", 0),
            helper.make_attribute("pads", [0] * len(ends) + ends),
            helper.make_attribute("count_include_pad", 0),
        ]
    )


def _sizes_to_scales(node: onnx.NodeProto, shape: list, constants: dict[str, np.ndarray], graph) -> None:
    """Resize by output sizes → Resize by scales. The backend drops empty input names, so in
    Resize(x, "", "", sizes) it reads `sizes` as the scales; Resize(x, "", scales) it reads right."""
    if len(node.input) != 4 or node.input[3] not in constants or not all(isinstance(d, int) for d in shape):
        return
    sizes = constants[node.input[3]].astype(np.int64)
    scales = (sizes / np.array(shape)).astype(np.float32)
    short = np.floor(np.array(shape) * scales.astype(np.float64)) < sizes  # float32 rounding below the size
    scales[short] = np.nextafter(scales[short], np.float32(np.inf))
    name = f"{node.name or node.output[0]}_scales"
    graph.initializer.append(numpy_helper.from_array(scales, name))
    node.input[:] = [node.input[0], "", name]


def _widen_strided_pointwise(node: onnx.NodeProto, constants: dict[str, np.ndarray], graph) -> None:
    """A 1×1 Conv with stride s → an s×s Conv, stride s, whose only non-zero tap is the top-left one, with
    s-1 zero pixels of end padding (so the output size is the same). The backend's packed 1×1 path
    ignores strides; the extra taps multiply zeros, so the sums are the same numbers."""
    a = _attrs(node)
    strides = a.get("strides", [1, 1])
    if (
        a.get("kernel_shape") != [1, 1]
        or strides == [1, 1]
        or any(a.get("pads", [0]))
        or node.input[1] not in constants
    ):
        return
    if (
        a.get("group", 1) != 1
        or any(d != 1 for d in a.get("dilations", []))
        or a.get("auto_pad", b"NOTSET") != b"NOTSET"
    ):
        return
    weight = constants[node.input[1]]
    wide = np.zeros((*weight.shape[:2], *strides), weight.dtype)
    wide[:, :, 0, 0] = weight[:, :, 0, 0]
    name = f"{node.input[1]}_{strides[0]}x{strides[1]}"
    graph.initializer.append(numpy_helper.from_array(wide, name))
    node.input[1] = name
    for attr in list(node.attribute):
        if attr.name in ("kernel_shape", "pads"):
            node.attribute.remove(attr)
    pads = [0, 0, strides[0] - 1, strides[1] - 1]
    node.attribute.extend([helper.make_attribute("kernel_shape", strides), helper.make_attribute("pads", pads)])


def problems(path: Path) -> list[str]:
    """What in the graph at `path` onnxruntime-web's WebGL backend cannot run (empty when it can run it all)."""
    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)), strict_mode=True)
    found = []
    ops = {n.op_type for n in model.graph.node if n.domain in ("", "ai.onnx")}
    if unknown := sorted(ops - WEBGL_OPS) + sorted({n.op_type for n in model.graph.node} - ops):
        found.append(f"operators {', '.join(unknown)}")
    initializers = {i.name for i in model.graph.initializer}
    values = [
        v for v in (*model.graph.input, *model.graph.value_info, *model.graph.output) if v.name not in initializers
    ]
    if other := sorted(v.name for v in values if v.type.tensor_type.elem_type != onnx.TensorProto.FLOAT):
        found.append(f"non-float32 tensors ({', '.join(other[:3])})")
    dynamic = [v.name for v in values if any(not d.HasField("dim_value") for d in v.type.tensor_type.shape.dim)]
    if dynamic:
        found.append(f"dynamic shapes ({', '.join(dynamic[:3])})")
    for node in model.graph.node:
        a = _attrs(node)
        if node.op_type in ("AveragePool", "MaxPool") and a.get("ceil_mode", 0):
            found.append(f"{node.op_type} in ceil mode")
        if node.op_type == "Resize" and (
            a.get("mode") != b"linear"
            or a.get("coordinate_transformation_mode", b"half_pixel").decode() not in _RESIZE_MODES
        ):
            found.append("Resize other than linear")
    return list(dict.fromkeys(found))
