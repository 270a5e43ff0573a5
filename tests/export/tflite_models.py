"""Small TFLite files for the converter's tests, written with the flatbuffer builders of the `tflite` package:
one graph per operator, so that each converted operator is compared with TFLite's own runtime (LiteRT)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import flatbuffers
import numpy as np
import tflite

# TFLite TensorType of the NumPy dtypes the tests store.
TYPES = {
    np.dtype(np.float32): 0,
    np.dtype(np.float16): 1,
    np.dtype(np.int32): 2,
    np.dtype(np.int64): 4,
    np.dtype(np.int8): 9,
}


@dataclass
class Tensor:
    shape: tuple[int, ...]
    data: np.ndarray | None = None  # a constant's value; None for activations
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float32))
    quantization: tuple[np.ndarray, np.ndarray, int] | None = None  # (scale, zero point, axis)


@dataclass
class Op:
    code: str  # a BuiltinOperator name, or a custom operator's name
    inputs: list[int]
    outputs: list[int]
    options: tuple[str, dict[str, object]] | None = None  # ("Conv2DOptions", {"Padding": 0, ...})
    custom: bytes | None = None  # custom options, for a custom operator


@dataclass
class Graph:
    tensors: list[Tensor] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    metadata: bytes | None = None  # a TFLite metadata flatbuffer (`metadata_buffer`), stored as TFLITE_METADATA

    def add(self, shape, data: np.ndarray | None = None, **kw) -> int:
        self.tensors.append(
            Tensor(tuple(shape), data, np.dtype(data.dtype) if data is not None else np.dtype(np.float32), **kw)
        )
        return len(self.tensors) - 1

    def const(self, value) -> int:
        value = np.asarray(value)
        return self.add(value.shape, value)

    def op(self, code: str, inputs: list[int], out_shape, options=None, custom=None) -> int:
        out = self.add(out_shape)
        self.ops.append(Op(code, inputs, [out], options, custom))
        return out


def _fb(name: str):
    """The flatbuffer builder functions of one `tflite` table (the package's attributes are the reader classes)."""
    return importlib.import_module(f"tflite.{name}")


def _vector(b: flatbuffers.Builder, start, values, prepend) -> int:
    start(b, len(values))
    for v in reversed(values):
        prepend(v)
    return b.EndVector()


def _ints(b: flatbuffers.Builder, values) -> int:
    return _vector(b, lambda b, n: b.StartVector(4, n, 4), [int(v) for v in values], b.PrependInt32)


def _offsets(b: flatbuffers.Builder, values) -> int:
    return _vector(b, lambda b, n: b.StartVector(4, n, 4), values, b.PrependUOffsetTRelative)


def _options(b: flatbuffers.Builder, name: str, fields: dict[str, object]) -> int:
    module = _fb(name)
    getattr(module, f"{name}Start")(b)
    for key, value in fields.items():
        getattr(module, f"{name}Add{key}")(b, value)
    return getattr(module, f"{name}End")(b)


def _quantization(b: flatbuffers.Builder, scale: np.ndarray, zero: np.ndarray, axis: int) -> int:
    s = _vector(b, lambda b, n: b.StartVector(4, n, 4), [float(v) for v in scale], b.PrependFloat32)
    z = _vector(b, lambda b, n: b.StartVector(8, n, 8), [int(v) for v in zero], b.PrependInt64)
    _fb("QuantizationParameters").QuantizationParametersStart(b)
    _fb("QuantizationParameters").QuantizationParametersAddScale(b, s)
    _fb("QuantizationParameters").QuantizationParametersAddZeroPoint(b, z)
    _fb("QuantizationParameters").QuantizationParametersAddQuantizedDimension(b, axis)
    return _fb("QuantizationParameters").QuantizationParametersEnd(b)


def serialize(graph: Graph) -> bytes:
    """The TFLite flatbuffer of `graph` (one subgraph; buffer 0 empty, one buffer per constant)."""
    b = flatbuffers.Builder(1024)
    codes = list(dict.fromkeys(op.code for op in graph.ops))
    builtin = {k: v for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    buffers = [_buffer(b, None)]
    tensor_offsets = []
    for i, t in enumerate(graph.tensors):
        buffer = 0
        if t.data is not None:
            buffers.append(_buffer(b, np.ascontiguousarray(t.data).tobytes()))
            buffer = len(buffers) - 1
        name = b.CreateString(f"t{i}")
        shape = _ints(b, t.shape)
        quant = _quantization(b, *t.quantization) if t.quantization else None
        _fb("Tensor").TensorStart(b)
        _fb("Tensor").TensorAddShape(b, shape)
        _fb("Tensor").TensorAddType(b, TYPES[t.dtype])
        _fb("Tensor").TensorAddBuffer(b, buffer)
        _fb("Tensor").TensorAddName(b, name)
        if quant is not None:
            _fb("Tensor").TensorAddQuantization(b, quant)
        tensor_offsets.append(_fb("Tensor").TensorEnd(b))
    op_offsets = [_operator(b, op, codes.index(op.code)) for op in graph.ops]
    code_offsets = [_opcode(b, code, builtin) for code in codes]
    tensors, ops = _offsets(b, tensor_offsets), _offsets(b, op_offsets)
    inputs, outputs = _ints(b, graph.inputs), _ints(b, graph.outputs)
    _fb("SubGraph").SubGraphStart(b)
    _fb("SubGraph").SubGraphAddTensors(b, tensors)
    _fb("SubGraph").SubGraphAddInputs(b, inputs)
    _fb("SubGraph").SubGraphAddOutputs(b, outputs)
    _fb("SubGraph").SubGraphAddOperators(b, ops)
    subgraph = _fb("SubGraph").SubGraphEnd(b)
    metadata = None
    if graph.metadata is not None:
        buffers.append(_buffer(b, graph.metadata))
        metadata = _offsets(b, [_metadata_entry(b, len(buffers) - 1)])
    subgraphs, codes_vec, buffers_vec = _offsets(b, [subgraph]), _offsets(b, code_offsets), _offsets(b, buffers)
    description = b.CreateString("liveseg test model")
    _fb("Model").ModelStart(b)
    _fb("Model").ModelAddVersion(b, 3)
    _fb("Model").ModelAddOperatorCodes(b, codes_vec)
    _fb("Model").ModelAddSubgraphs(b, subgraphs)
    _fb("Model").ModelAddDescription(b, description)
    _fb("Model").ModelAddBuffers(b, buffers_vec)
    if metadata is not None:
        _fb("Model").ModelAddMetadata(b, metadata)
    b.Finish(_fb("Model").ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _buffer(b: flatbuffers.Builder, data: bytes | None) -> int:
    vec = b.CreateByteVector(data) if data else None
    _fb("Buffer").BufferStart(b)
    if vec is not None:
        _fb("Buffer").BufferAddData(b, vec)
    return _fb("Buffer").BufferEnd(b)


def _opcode(b: flatbuffers.Builder, code: str, builtin: dict[str, int]) -> int:
    custom = None if code in builtin else b.CreateString(code)
    value = builtin.get(code, builtin["CUSTOM"])
    _fb("OperatorCode").OperatorCodeStart(b)
    _fb("OperatorCode").OperatorCodeAddDeprecatedBuiltinCode(b, min(value, 127))
    _fb("OperatorCode").OperatorCodeAddBuiltinCode(b, value)
    _fb("OperatorCode").OperatorCodeAddVersion(b, 1)
    if custom is not None:
        _fb("OperatorCode").OperatorCodeAddCustomCode(b, custom)
    return _fb("OperatorCode").OperatorCodeEnd(b)


def _operator(b: flatbuffers.Builder, op: Op, index: int) -> int:
    inputs, outputs = _ints(b, op.inputs), _ints(b, op.outputs)
    options = _options(b, op.options[0], op.options[1]) if op.options else None
    custom = b.CreateByteVector(op.custom) if op.custom is not None else None
    _fb("Operator").OperatorStart(b)
    _fb("Operator").OperatorAddOpcodeIndex(b, index)
    _fb("Operator").OperatorAddInputs(b, inputs)
    _fb("Operator").OperatorAddOutputs(b, outputs)
    if options is not None:
        _fb("Operator").OperatorAddBuiltinOptionsType(b, getattr(tflite.BuiltinOptions, op.options[0]))
        _fb("Operator").OperatorAddBuiltinOptions(b, options)
    if custom is not None:
        _fb("Operator").OperatorAddCustomOptions(b, custom)
    return _fb("Operator").OperatorEnd(b)


def _metadata_entry(b: flatbuffers.Builder, buffer: int) -> int:
    name = b.CreateString("TFLITE_METADATA")
    _fb("Metadata").MetadataStart(b)
    _fb("Metadata").MetadataAddName(b, name)
    _fb("Metadata").MetadataAddBuffer(b, buffer)
    return _fb("Metadata").MetadataEnd(b)


def _table(b: flatbuffers.Builder, slots: int, fields: dict[int, int]) -> int:
    """A table of `slots` fields whose `fields` (slot → offset of a table, vector or string) are set."""
    b.StartObject(slots)
    for slot, offset in fields.items():
        b.PrependUOffsetTRelativeSlot(slot, offset, 0)
    return b.EndObject()


def _process_unit(b: flatbuffers.Builder, kind: int, options: int) -> int:
    b.StartObject(2)
    b.PrependUint8Slot(0, kind, 0)
    b.PrependUOffsetTRelativeSlot(1, options, 0)
    return b.EndObject()


def metadata_buffer(mean: list[float], std: list[float], name: str = "test segmenter") -> bytes:
    """A TFLite metadata flatbuffer (metadata_schema.fbs, identifier M001) written field by field as the schema
    orders them: ModelMetadata{name, subgraph_metadata: [{input_tensor_metadata: [{process_units: [a
    ScoreThresholdingOptions unit (ignored), NormalizationOptions{mean, std}]}]}], license}."""
    b = flatbuffers.Builder(256)
    floats = [_vector(b, lambda b, n: b.StartVector(4, n, 4), v, b.PrependFloat32) for v in (mean, std)]
    normalization = _table(b, 2, {0: floats[0], 1: floats[1]})
    units = [_process_unit(b, 3, _table(b, 1, {})), _process_unit(b, 1, normalization)]
    tensor = _table(b, 7, {4: _offsets(b, units)})
    subgraph = _table(b, 10, {2: _offsets(b, [tensor])})
    subgraphs, title, licence = _offsets(b, [subgraph]), b.CreateString(name), b.CreateString("Apache-2.0")
    b.Finish(_table(b, 8, {0: title, 3: subgraphs, 5: licence}), file_identifier=b"M001")
    return bytes(b.Output())


def segmenter(
    size: tuple[int, int], classes: int, channels: int = 3, metadata: bytes | None = None, seed: int = 0
) -> tuple[Graph, np.ndarray, np.ndarray]:
    """A stand-in segmentation model as MediaPipe's end: a 1x1 convolution to `classes` channels, then a
    LOGISTIC head (one class: a foreground probability) or a SOFTMAX head; (graph, weight, bias) so that a test
    can compute its logits in NumPy."""
    rng = np.random.default_rng(seed)
    weight = rng.normal(0, 1.0, (classes, 1, 1, channels)).astype(np.float32)
    # Centred on mid-grey of either input range (0..1 or -1..1), so that a photo gets more than one class.
    bias = (-0.25 * weight.sum(axis=(1, 2, 3)) + rng.normal(0, 0.1, classes)).astype(np.float32)
    g = Graph(metadata=metadata)
    x = g.add((1, *size, channels))
    opts = {"Padding": 1, "StrideW": 1, "StrideH": 1, "DilationWFactor": 1, "DilationHFactor": 1}
    logits = g.op("CONV_2D", [x, g.const(weight), g.const(bias)], (1, *size, classes), ("Conv2DOptions", opts))
    head = ("LOGISTIC", None) if classes == 1 else ("SOFTMAX", ("SoftmaxOptions", {"Beta": 1.0}))
    g.inputs, g.outputs = [x], [g.op(head[0], [logits], (1, *size, classes), head[1])]
    return g, weight[:, 0, 0, :], bias
