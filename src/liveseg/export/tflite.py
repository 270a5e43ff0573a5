"""A TFLite segmentation model → an ONNX network in the contract `liveseg.export.imported` wraps (normalised float
N×3×H×W image in, N×C×h×w logits out), with no TensorFlow.

The flatbuffer is read with the `tflite` parser and each operator becomes ONNX nodes through one function in
`OPERATORS`, the one table of what is supported; anything else is refused by name before any work is done.
TFLite keeps 4-D activations NHWC; here every 4-D activation is NCHW, so weights, axes and paddings are
permuted once, at conversion. Weights stored as fp16 or int8 behind DEQUANTIZE are folded into fp32 constants.

The model's head decides the logits: a SOFTMAX or LOGISTIC over several channels is dropped (the arg-max is
unchanged and the bundle's decoding takes its own softmax); a single-channel LOGISTIC (a foreground
probability, as MediaPipe's selfie models end) becomes two-class logits (−x/2, x/2), whose softmax is exactly
(1 − p, p): the bundle's class 1 is the foreground where p > 0.5 and its confidence is max(p, 1 − p).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from liveseg.errors import LivesegError
from liveseg.export import tflite_metadata

OPSET = 18
# The file format version written: onnx's newest (14 with onnx 1.23) is past what onnxruntime-web 1.30 reads (13);
# 10 is what liveseg's exported bundles carry, and covers opset 18.
IR_VERSION = 10
INPUT = "image"  # the converted network's input: normalised float N×3×H×W
OUTPUT = "logits"
CUSTOM_TRANSPOSE_CONV = "Convolution2DTransposeBias"  # MediaPipe's custom op: transposed convolution + bias
TFLITE_IDENTIFIER = b"TFL3"

# TFLite tensor types the converter reads constants of (schema.fbs TensorType).
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8, 7: np.int16}
_NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def _tflite():
    """The `tflite` flatbuffer bindings, imported on first use (the runtime never needs them)."""
    import tflite

    return tflite


@dataclass(frozen=True)
class Converted:
    """An ONNX network converted from a TFLite file, and what the file says about its own output."""

    model: onnx.ModelProto
    size: tuple[int, int]  # the H×W the TFLite graph is fixed to
    classes: int  # logits channels (2 for a single-channel foreground probability)
    foreground: bool  # the head was a single-channel sigmoid, turned into (background, foreground)
    extra_channels: int  # input channels past RGB that were fed zeros (MediaPipe's hair model: the previous mask)
    description: str
    labels: list[str] | None  # from the file's metadata, when it has a label file
    metadata: tflite_metadata.Metadata | None = None  # TFLite metadata (normalisation), when the file has it


@dataclass
class _Graph:
    """The ONNX graph under construction: nodes, constants, and each TFLite tensor's ONNX name and rank."""

    tensors: dict[int, str] = field(default_factory=dict)
    consts: dict[int, np.ndarray] = field(default_factory=dict)  # TFLite index → folded value (TFLite layout)
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=f"{output}/{op}", **attrs))
        return output


class _Op:
    """One TFLite operator as the converter functions see it."""

    def __init__(self, model, subgraph, op, code: str) -> None:
        self.model, self.subgraph, self.op, self.code = model, subgraph, op, code
        self.inputs = [op.Inputs(i) for i in range(op.InputsLength())]
        self.outputs = [op.Outputs(i) for i in range(op.OutputsLength())]

    def options(self, cls):
        """The builtin options table as `cls` (a `tflite` options class)."""
        table = self.op.BuiltinOptions()
        opts = cls()
        if table is not None:
            opts.Init(table.Bytes, table.Pos)
        return opts

    def shape(self, index: int) -> list[int]:
        return [int(d) for d in self.subgraph.Tensors(index).ShapeAsNumpy()] if index >= 0 else []

    @property
    def out_shape(self) -> list[int]:
        return self.shape(self.outputs[0])


def convert(path: Path) -> Converted:
    """Convert the TFLite file at `path`; every way it can be unusable is one sentence naming the problem."""
    data = _read(path)
    model, subgraph, ops = _parse(data, path)
    g = _Graph()
    size, extra = _input(g, subgraph, path)
    out_index = _single_output(subgraph, path)
    skip, foreground = _head({o.outputs[0]: o for o in ops}.get(out_index))
    for op in ops:
        if op is skip:
            continue
        if any(_is_activation(op, i) and i not in g.tensors and i not in g.consts for i in op.inputs if i >= 0):
            raise LivesegError(f"{path} feeds {op.code} an input that nothing computes; the file is inconsistent.")
        OPERATORS[op.code](g, op)
    _emit_logits(g, g.tensors[skip.inputs[0] if skip is not None else out_index], skip, foreground)
    channels = 2 if foreground else _tensor_shape(subgraph, out_index)[-1]
    onnx_model = _model(g, size, channels, path)
    metadata = tflite_metadata.read(model, data)
    return Converted(onnx_model, size, channels, foreground, extra, _description(model), _labels(path), metadata)


def _parse(data: bytes, path: Path) -> tuple[object, object, list[_Op]]:
    """The model, its one subgraph and its operators, refusing operators outside `OPERATORS` by name."""
    tfl = _tflite()
    try:
        model = tfl.Model.GetRootAsModel(data, 0)
        subgraph = model.Subgraphs(0)
    except Exception as exc:  # the flatbuffer reader raises whatever a bad offset leads to
        raise LivesegError(f"{path} is not a readable TFLite model ({type(exc).__name__}).") from None
    if model.SubgraphsLength() != 1:
        raise LivesegError(f"{path} has {model.SubgraphsLength()} subgraphs; liveseg imports single-graph models.")
    ops = [
        _Op(model, subgraph, subgraph.Operators(i), _op_name(model, subgraph.Operators(i)))
        for i in range(subgraph.OperatorsLength())
    ]
    unknown = sorted({o.code for o in ops} - set(OPERATORS))
    if unknown:
        raise LivesegError(
            f"{path} uses the TFLite operator{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}, which liveseg "
            "cannot convert yet; convert the model to ONNX with another tool and run liveseg import on the .onnx file."
        )
    return model, subgraph, ops


def _emit_logits(g: _Graph, logits: str, skip: _Op | None, foreground: bool) -> None:
    """OUTPUT from the head's input: (−x/2, x/2) for a foreground probability, β·x under a dropped SOFTMAX."""
    if foreground:
        halves = [g.const(f"head/{n}", np.array(v, np.float32)) for n, v in (("minus_half", -0.5), ("half", 0.5))]
        parts = [g.node("Mul", [logits, h], f"head/{n}") for h, n in zip(halves, ("background", "fg"), strict=True)]
        g.node("Concat", parts, OUTPUT, axis=1)
    elif skip is not None and skip.code == "SOFTMAX":
        beta = skip.options(_tflite().SoftmaxOptions).Beta() or 1.0
        g.node("Mul", [logits, g.const("head/beta", np.array(beta, np.float32))], OUTPUT)
    else:
        g.node("Identity", [logits], OUTPUT)


def _read(path: Path) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise LivesegError(f"{path} cannot be read ({exc.strerror or exc}).") from None
    if data[4:8] != TFLITE_IDENTIFIER:
        raise LivesegError(f"{path} is not a TFLite model (its header lacks the TFL3 identifier).")
    return data


def _op_name(model, op) -> str:
    tfl = _tflite()
    code = model.OperatorCodes(op.OpcodeIndex())
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    if builtin == tfl.BuiltinOperator.CUSTOM:
        return (code.CustomCode() or b"?").decode()
    names = {v: k for k, v in vars(tfl.BuiltinOperator).items() if not k.startswith("_")}
    return names.get(builtin, f"builtin #{builtin}")


def _tensor_shape(subgraph, index: int) -> list[int]:
    return [int(d) for d in subgraph.Tensors(index).ShapeAsNumpy()]


def _input(g: _Graph, subgraph, path: Path) -> tuple[tuple[int, int], int]:
    """Map the TFLite NHWC float input onto the network's N×3×H×W input; channels past RGB get zeros."""
    if subgraph.InputsLength() != 1:
        raise LivesegError(f"{path} takes {subgraph.InputsLength()} inputs; an importable network takes one image.")
    index = subgraph.Inputs(0)
    tensor = subgraph.Tensors(index)
    shape = _tensor_shape(subgraph, index)
    if tensor.Type() != 0 or len(shape) != 4 or shape[3] < 3:
        raise LivesegError(
            f"{path}'s input is {'×'.join(map(str, shape))} of TFLite type {tensor.Type()}; liveseg imports models "
            "that take a float32 1×H×W×3 image (quantized models are not supported)."
        )
    _, h, w, c = shape
    if c == 3:
        g.tensors[index] = INPUT
    else:
        # Zero planes cut from the input itself, so that the batch size stays free.
        axis = g.const("input/axis", np.array([1], np.int64))
        first = g.node("Slice", [INPUT, g.const("input/0", np.array([0], np.int64)), axis, axis], "input/plane")
        zero = g.node("Mul", [first, g.const("input/zero", np.array(0.0, np.float32))], "input/zero_plane")
        g.tensors[index] = g.node("Concat", [INPUT, *[zero] * (c - 3)], "input/with_extra", axis=1)
    return (h, w), c - 3


def _single_output(subgraph, path: Path) -> int:
    if subgraph.OutputsLength() != 1:
        raise LivesegError(f"{path} has {subgraph.OutputsLength()} outputs; liveseg imports models with one.")
    index = subgraph.Outputs(0)
    if len(_tensor_shape(subgraph, index)) != 4:
        raise LivesegError(f"{path}'s output is not 1×H×W×C; liveseg imports per-pixel segmentation models.")
    return index


def _head(head: _Op | None) -> tuple[_Op | None, bool]:
    """(the final activation to drop, whether it is a single-channel foreground probability)."""
    if head is None or head.code not in ("LOGISTIC", "SOFTMAX"):
        return None, False
    return head, head.code == "LOGISTIC" and head.out_shape[-1] == 1


def _is_activation(op: _Op, index: int) -> bool:
    return op.subgraph.Tensors(index).Buffer() == 0 or not _buffer(op, index).size


def _buffer(op: _Op, index: int) -> np.ndarray:
    tensor = op.subgraph.Tensors(index)
    raw = op.model.Buffers(tensor.Buffer()).DataAsNumpy()
    if isinstance(raw, int) or raw is None:  # the binding returns 0 for an empty vector
        return np.zeros(0, np.uint8)
    return raw


def _value(g: _Graph, op: _Op, index: int) -> np.ndarray:
    """A constant tensor's value in TFLite layout (folded DEQUANTIZE outputs included)."""
    if index in g.consts:
        return g.consts[index]
    tensor = op.subgraph.Tensors(index)
    dtype = _DTYPES.get(tensor.Type())
    raw = _buffer(op, index)
    if dtype is None or not raw.size:
        raise LivesegError(f"The TFLite tensor {tensor.Name().decode()!r} should be a constant but has no data.")
    return np.frombuffer(raw.tobytes(), dtype).reshape(op.shape(index) or ())


def _activation(g: _Graph, op: _Op, index: int) -> str:
    if index in g.tensors:
        return g.tensors[index]
    value = _value(g, op, index)
    name = f"const/{index}"
    g.tensors[index] = g.const(name, _nchw(value) if value.ndim == 4 else value.astype(np.float32))
    return name


def _nchw(value: np.ndarray) -> np.ndarray:
    return value.transpose(0, 3, 1, 2).astype(np.float32)


def _out(op: _Op) -> str:
    name = op.subgraph.Tensors(op.outputs[0]).Name().decode() or f"t{op.outputs[0]}"
    return f"tfl/{name}"


def _fused(g: _Graph, op: _Op, value: str, function: int) -> None:
    """Apply a fused activation (schema ActivationFunctionType) and bind the op's output tensor."""
    out = _out(op)
    kinds: dict[int, tuple[str, Any] | None] = {
        0: None,
        1: ("Relu", {}),
        2: ("Clip", (-1.0, 1.0)),
        3: ("Clip", (0.0, 6.0)),
        4: ("Tanh", {}),
    }
    if function not in kinds:
        raise LivesegError(f"{op.code} has the fused activation #{function}, which liveseg cannot convert.")
    kind = kinds[function]
    if kind is None:
        result = g.node("Identity", [value], out)
    elif kind[0] == "Clip":
        lo, hi = (g.const(f"{out}/{n}", np.array(v, np.float32)) for n, v in zip(("min", "max"), kind[1], strict=True))
        result = g.node("Clip", [value, lo, hi], out)
    else:
        result = g.node(kind[0], [value], out)
    g.tensors[op.outputs[0]] = result


def _same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TFLite's SAME padding (the extra pixel goes after), as explicit (before, after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _pads(op: _Op, padding: int, kernel: tuple[int, int], stride: tuple[int, int], dilation=(1, 1)) -> list[int]:
    if padding == 1:  # VALID
        return [0, 0, 0, 0]
    h, w = op.shape(op.inputs[0])[1:3]
    (t, b), (left, r) = (
        _same_pads(h, kernel[0], stride[0], dilation[0]),
        _same_pads(w, kernel[1], stride[1], dilation[1]),
    )
    return [t, left, b, r]


def _conv(g: _Graph, op: _Op) -> None:
    o = op.options(_tflite().Conv2DOptions)
    weight = _value(g, op, op.inputs[1]).astype(np.float32)  # Cout × KH × KW × Cin
    kernel, stride, dilation = weight.shape[1:3], (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor())
    _emit_conv(
        g, op, weight.transpose(0, 3, 1, 2), 1, o.Padding(), kernel, stride, dilation, o.FusedActivationFunction()
    )


def _depthwise(g: _Graph, op: _Op) -> None:
    o = op.options(_tflite().DepthwiseConv2DOptions)
    weight = _value(g, op, op.inputs[1]).astype(np.float32)  # 1 × KH × KW × Cout
    groups = op.shape(op.inputs[0])[3]
    kernel, stride, dilation = weight.shape[1:3], (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor())
    weight = weight.transpose(3, 0, 1, 2)  # Cout × 1 × KH × KW
    _emit_conv(g, op, weight, groups, o.Padding(), kernel, stride, dilation, o.FusedActivationFunction())


def _emit_conv(g, op, weight, groups, padding, kernel, stride, dilation, activation) -> None:
    out = _out(op)
    inputs = [_activation(g, op, op.inputs[0]), g.const(f"{out}/weight", weight)]
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        inputs.append(g.const(f"{out}/bias", _value(g, op, op.inputs[2]).astype(np.float32)))
    conv = g.node(
        "Conv",
        inputs,
        f"{out}/conv",
        kernel_shape=list(kernel),
        strides=list(stride),
        dilations=list(dilation),
        group=groups,
        pads=_pads(op, padding, kernel, stride, dilation),
    )
    _fused(g, op, conv, activation)


def _transpose_conv(g: _Graph, op: _Op) -> None:
    """TRANSPOSE_CONV (output shape, weights, input[, bias]) and MediaPipe's custom Convolution2DTransposeBias
    (input, weights, bias; its options are three int32: padding, stride W, stride H)."""
    if op.code == CUSTOM_TRANSPOSE_CONV:
        raw = op.op.CustomOptionsAsNumpy()
        padding, stride_w, stride_h = (int(v) for v in np.frombuffer(np.asarray(raw, np.uint8).tobytes()[:12], "<i4"))
        padding = {1: 0, 2: 1}.get(padding, padding)  # TfLitePadding (SAME 1, VALID 2) → schema Padding
        x, w, b, activation = op.inputs[0], op.inputs[1], op.inputs[2], 0
    else:
        o = op.options(_tflite().TransposeConvOptions)
        padding, stride_w, stride_h, activation = o.Padding(), o.StrideW(), o.StrideH(), o.FusedActivationFunction()
        x, w = op.inputs[2], op.inputs[1]
        b = op.inputs[3] if len(op.inputs) > 3 else -1
    weight = _value(g, op, w).astype(np.float32)  # Cout × KH × KW × Cin
    kernel = weight.shape[1:3]
    out_h, out_w = op.out_shape[1:3]
    in_h, in_w = op.shape(x)[1:3]
    # The output size is given; the padding that the transposed convolution trims is what exceeds it.
    full_h, full_w = (in_h - 1) * stride_h + kernel[0], (in_w - 1) * stride_w + kernel[1]
    th, tw = full_h - out_h, full_w - out_w
    pads = [th // 2, tw // 2, th - th // 2, tw - tw // 2] if padding == 0 else [0, 0, max(th, 0), max(tw, 0)]
    out = _out(op)
    inputs = [_activation(g, op, x), g.const(f"{out}/weight", weight.transpose(3, 0, 1, 2))]
    if b >= 0:
        inputs.append(g.const(f"{out}/bias", _value(g, op, b).astype(np.float32)))
    conv = g.node(
        "ConvTranspose", inputs, f"{out}/deconv", kernel_shape=list(kernel), strides=[stride_h, stride_w], pads=pads
    )
    _fused(g, op, conv, activation)


def _pool(g: _Graph, op: _Op) -> None:
    o = op.options(_tflite().Pool2DOptions)
    x = _activation(g, op, op.inputs[0])
    h, w = op.shape(op.inputs[0])[1:3]
    kernel, stride = (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW())
    average = op.code == "AVERAGE_POOL_2D"
    if (kernel == (h, w) and op.out_shape[1:3] == [1, 1]) and o.Padding() == 1:
        value = g.node("GlobalAveragePool" if average else "GlobalMaxPool", [x], f"{_out(op)}/pool")
    else:
        value = g.node(
            "AveragePool" if average else "MaxPool",
            [x],
            f"{_out(op)}/pool",
            kernel_shape=list(kernel),
            strides=list(stride),
            pads=_pads(op, o.Padding(), kernel, stride),
        )
    _fused(g, op, value, o.FusedActivationFunction())


def _mean(g: _Graph, op: _Op) -> None:
    keep = op.options(_tflite().ReducerOptions).KeepDims()
    axes = sorted(int(a) % 4 for a in _value(g, op, op.inputs[1]).reshape(-1))
    x = _activation(g, op, op.inputs[0])
    if len(op.shape(op.inputs[0])) != 4:
        raise LivesegError("MEAN over a tensor that is not 4-D cannot be converted.")
    if axes == [1, 2] and keep:
        g.tensors[op.outputs[0]] = g.node("GlobalAveragePool", [x], _out(op))
        return
    if not keep:
        raise LivesegError("MEAN without keep_dims over a 4-D tensor cannot be converted.")
    mapped = g.const(f"{_out(op)}/axes", np.array(sorted(_NHWC_TO_NCHW_AXIS[a] for a in axes), np.int64))
    g.tensors[op.outputs[0]] = g.node("ReduceMean", [x, mapped], _out(op), keepdims=1)


def _binary(g: _Graph, op: _Op) -> None:
    onnx_op = {"ADD": "Add", "SUB": "Sub", "MUL": "Mul", "DIV": "Div"}[op.code]
    opts = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions", "DIV": "DivOptions"}[op.code]
    activation = op.options(getattr(_tflite(), opts)).FusedActivationFunction()
    a, b = (_operand(g, op, i) for i in op.inputs[:2])
    _fused(g, op, g.node(onnx_op, [a, b], f"{_out(op)}/{onnx_op.lower()}"), activation)


def _operand(g: _Graph, op: _Op, index: int) -> str:
    """An elementwise operand: activations as they are; constants broadcast the NHWC way, laid out NCHW."""
    if index in g.tensors:
        return g.tensors[index]
    value = _value(g, op, index).astype(np.float32)
    if 0 < value.ndim <= 4 and len(op.out_shape) == 4:
        # NumPy broadcasting aligns trailing axes: complete the shape to NHWC, then lay it out NCHW.
        value = value.reshape((1,) * (4 - value.ndim) + value.shape).transpose(0, 3, 1, 2)
    return g.const(f"{_out(op)}/c{index}", value)


def _unary(onnx_op: str, **attrs) -> Callable[[_Graph, _Op], None]:
    def convert_op(g: _Graph, op: _Op) -> None:
        g.tensors[op.outputs[0]] = g.node(onnx_op, [_activation(g, op, op.inputs[0])], _out(op), **attrs)

    return convert_op


def _clip(lo: float, hi: float) -> Callable[[_Graph, _Op], None]:
    def convert_op(g: _Graph, op: _Op) -> None:
        out = _out(op)
        bounds = [g.const(f"{out}/min", np.array(lo, np.float32)), g.const(f"{out}/max", np.array(hi, np.float32))]
        g.tensors[op.outputs[0]] = g.node("Clip", [_activation(g, op, op.inputs[0]), *bounds], out)

    return convert_op


def _leaky_relu(g: _Graph, op: _Op) -> None:
    alpha = op.options(_tflite().LeakyReluOptions).Alpha()
    g.tensors[op.outputs[0]] = g.node("LeakyRelu", [_activation(g, op, op.inputs[0])], _out(op), alpha=alpha)


def _prelu(g: _Graph, op: _Op) -> None:
    slope = _operand(g, op, op.inputs[1])
    g.tensors[op.outputs[0]] = g.node("PRelu", [_activation(g, op, op.inputs[0]), slope], _out(op))


def _concat(g: _Graph, op: _Op) -> None:
    o = op.options(_tflite().ConcatenationOptions)
    rank = len(op.out_shape)
    axis = o.Axis() % rank
    axis = _NHWC_TO_NCHW_AXIS[axis] if rank == 4 else axis
    parts = [_activation(g, op, i) for i in op.inputs]
    _fused(g, op, g.node("Concat", parts, f"{_out(op)}/concat", axis=axis), o.FusedActivationFunction())


def _resize(g: _Graph, op: _Op) -> None:
    tfl = _tflite()
    bilinear = op.code == "RESIZE_BILINEAR"
    o = op.options(tfl.ResizeBilinearOptions if bilinear else tfl.ResizeNearestNeighborOptions)
    if o.AlignCorners():
        mode = "align_corners"
    elif o.HalfPixelCenters():
        mode = "half_pixel" if bilinear else "tf_half_pixel_for_nn"
    else:
        mode = "asymmetric"
    (in_h, in_w), (h, w) = op.shape(op.inputs[0])[1:3], op.out_shape[1:3]
    out = _out(op)
    # Scales, not sizes: batch-free, and the form the fp16 conversion and onnxruntime-web's kernels handle.
    scales = g.const(f"{out}/scales", np.array([1.0, 1.0, h / in_h, w / in_w], np.float32))
    attrs = {"mode": "linear" if bilinear else "nearest", "coordinate_transformation_mode": mode}
    if not bilinear:
        attrs["nearest_mode"] = "round_prefer_ceil" if o.AlignCorners() else "floor"
    g.tensors[op.outputs[0]] = g.node("Resize", [_activation(g, op, op.inputs[0]), "", scales], out, **attrs)


def _pad(g: _Graph, op: _Op) -> None:
    pads = _value(g, op, op.inputs[1]).astype(np.int64).reshape(-1, 2)  # per NHWC axis: (before, after)
    if len(pads) != 4:
        raise LivesegError("PAD of a tensor that is not 4-D cannot be converted.")
    order = [0, 3, 1, 2]
    onnx_pads = np.array([pads[a, 0] for a in order] + [pads[a, 1] for a in order], np.int64)
    out = _out(op)
    g.tensors[op.outputs[0]] = g.node("Pad", [_activation(g, op, op.inputs[0]), g.const(f"{out}/pads", onnx_pads)], out)


def _softmax(g: _Graph, op: _Op) -> None:
    beta = op.options(_tflite().SoftmaxOptions).Beta() or 1.0
    x = _activation(g, op, op.inputs[0])
    out = _out(op)
    if beta != 1.0:
        x = g.node("Mul", [x, g.const(f"{out}/beta", np.array(beta, np.float32))], f"{out}/scaled")
    axis = 1 if len(op.out_shape) == 4 else -1
    g.tensors[op.outputs[0]] = g.node("Softmax", [x], out, axis=axis)


def _reshape(g: _Graph, op: _Op) -> None:
    """Reshape in TFLite's layout: 4-D tensors go to NHWC and back around it."""
    x = _activation(g, op, op.inputs[0])
    out = _out(op)
    if len(op.shape(op.inputs[0])) == 4:
        x = g.node("Transpose", [x], f"{out}/nhwc", perm=[0, 2, 3, 1])
    shape = g.const(f"{out}/shape", np.array([0, *op.out_shape[1:]], np.int64))  # 0: the batch, as it comes
    value = g.node("Reshape", [x, shape], f"{out}/reshape" if len(op.out_shape) == 4 else out)
    if len(op.out_shape) == 4:
        value = g.node("Transpose", [value], out, perm=[0, 3, 1, 2])
    g.tensors[op.outputs[0]] = value


def _dequantize(g: _Graph, op: _Op) -> None:
    """Fold a constant's DEQUANTIZE (fp16, or int8/uint8 with per-tensor or per-axis scales) into fp32."""
    index = op.inputs[0]
    if _is_activation(op, index):
        raise LivesegError("DEQUANTIZE of a computed tensor (a quantized model) cannot be converted.")
    value = _value(g, op, index)
    if value.dtype != np.float16:
        q = op.subgraph.Tensors(index).Quantization()
        scale, zero = q.ScaleAsNumpy(), q.ZeroPointAsNumpy()
        shape = [1] * value.ndim
        if np.size(scale) > 1:
            shape[q.QuantizedDimension()] = -1
        value = (value.astype(np.float32) - np.reshape(zero, shape)) * np.reshape(scale, shape)
    g.consts[op.outputs[0]] = value.astype(np.float32)


# The one table of what converts: TFLite operator → the function that emits its ONNX nodes.
OPERATORS: dict[str, Callable[[_Graph, _Op], None]] = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _depthwise,
    "TRANSPOSE_CONV": _transpose_conv,
    CUSTOM_TRANSPOSE_CONV: _transpose_conv,
    "AVERAGE_POOL_2D": _pool,
    "MAX_POOL_2D": _pool,
    "MEAN": _mean,
    "ADD": _binary,
    "SUB": _binary,
    "MUL": _binary,
    "DIV": _binary,
    "RELU": _unary("Relu"),
    "RELU6": _clip(0.0, 6.0),
    "RELU_N1_TO_1": _clip(-1.0, 1.0),
    "LEAKY_RELU": _leaky_relu,
    "PRELU": _prelu,
    "HARD_SWISH": _unary("HardSwish"),
    "LOGISTIC": _unary("Sigmoid"),
    "TANH": _unary("Tanh"),
    "CONCATENATION": _concat,
    "RESIZE_BILINEAR": _resize,
    "RESIZE_NEAREST_NEIGHBOR": _resize,
    "PAD": _pad,
    "SOFTMAX": _softmax,
    "RESHAPE": _reshape,
    "DEQUANTIZE": _dequantize,
}


def _model(g: _Graph, size: tuple[int, int], channels: int, path: Path) -> onnx.ModelProto:
    graph = helper.make_graph(
        g.nodes,
        "tflite",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, 3, *size])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, None)],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="liveseg tflite", ir_version=IR_VERSION
    )
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        onnx.checker.check_model(model)
    except Exception as exc:  # the checker's and shape inference's own error types
        text = str(exc).strip().splitlines()
        raise LivesegError(f"{path} converted to an invalid ONNX graph ({text[0] if text else exc}).") from None
    out = next(v for v in model.graph.output if v.name == OUTPUT)
    dims = [d.dim_value for d in out.type.tensor_type.shape.dim]
    if len(dims) != 4 or dims[1] != channels:
        raise LivesegError(f"{path}'s output converted to shape {dims}, not 1×{channels}×h×w logits.")
    return model


def _description(model) -> str:
    text = model.Description()
    return text.decode(errors="replace") if text else ""


def _labels(path: Path) -> list[str] | None:
    """Class names from a label file packed into the model (TFLite metadata appends a zip of associated files)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".txt")]
            if len(names) != 1:
                return None
            lines = archive.read(names[0]).decode("utf-8", errors="replace").splitlines()
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    labels = [line.strip() for line in lines if line.strip()]
    return labels or None
