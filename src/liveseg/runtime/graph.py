"""What a bundle's ONNX file declares, read straight from its protobuf: the runtime checks a graph against its
manifest without the `onnx` package (not a runtime dependency) and without starting onnxruntime.

Only the fields the checks need are decoded (graph inputs and outputs with their types, initializer names, values
of the decoder's class-id constants, external-data flags); everything else, weights included, is skipped by length.
The class ids come from the decoding nodes liveseg puts after every network (`liveseg.export.wrap`): the labels
graph writes class k as the uint8 constant `liveseg/post/id<k>`, so those constants are the exact set of ids it
can output, whatever the network, the precision or the optimisations applied.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

CLASS_ID_PREFIX = "liveseg/post/id"
FLOAT, UINT8 = 1, 2  # TensorProto.DataType
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_EXTERNAL = 1  # TensorProto.DataLocation


@dataclass(frozen=True)
class Value:
    """A graph input or output: its name, element type and dimensions (an int, a symbolic name, or None)."""

    name: str
    elem_type: int
    dims: tuple[int | str | None, ...] | None  # None: no shape given


@dataclass
class GraphInfo:
    inputs: list[Value] = field(default_factory=list)  # initializers listed as inputs (old IR versions) left out
    outputs: list[Value] = field(default_factory=list)
    class_ids: list[int] = field(default_factory=list)  # values of the `liveseg/post/id<k>` constants
    external: list[str] = field(default_factory=list)  # initializers whose data lives in another file


def read_graph(data: bytes) -> GraphInfo:
    """Decode `data` (a serialised ModelProto); raises ValueError when it is not one."""
    view = memoryview(data)
    graphs = [v for f, _, v in _fields(view) if f == 7 and isinstance(v, memoryview)]
    if not graphs:
        raise ValueError("it holds no graph")
    info, initializers, inputs = GraphInfo(), set[str](), list[Value]()
    for f, _, v in _fields(graphs[-1]):
        if not isinstance(v, memoryview):
            continue
        if f == 5:
            _initializer(v, info, initializers)
        elif f == 11:
            inputs.append(_value(v))
        elif f == 12:
            info.outputs.append(_value(v))
    info.inputs = [i for i in inputs if i.name not in initializers]
    return info


def _fields(buf: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """(field number, wire type, value) of each field: an int, or a memoryview for length-delimited ones."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: int | memoryview
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
        elif wire in (_I64, _I32):
            size = 8 if wire == _I64 else 4
            value, pos = int.from_bytes(buf[pos : pos + size], "little"), pos + size
        elif wire == _LEN:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > end or number == 0:
            raise ValueError("truncated or corrupt protobuf")
        yield number, wire, value


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated or corrupt protobuf")
        byte = buf[pos]
        result |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return result, pos


def _text(v: object) -> str:
    return bytes(v).decode("utf-8", "replace") if isinstance(v, memoryview) else ""


def _initializer(buf: memoryview, info: GraphInfo, names: set[str]) -> None:
    """Note a TensorProto's name, whether its data is external, and the value of a class-id constant."""
    name, data_type, raw, ints, location = "", 0, None, list[int](), 0
    for f, wire, v in _fields(buf):
        if f == 8:
            name = _text(v)
        elif f == 2 and wire == _VARINT and isinstance(v, int):
            data_type = v
        elif f == 9 and isinstance(v, memoryview):
            raw = bytes(v)
        elif f == 5:
            ints += _packed(v) if isinstance(v, memoryview) else [v]
        elif f == 14 and wire == _VARINT and isinstance(v, int):
            location = v
    names.add(name)
    if location == _EXTERNAL:
        info.external.append(name)
    suffix = name[len(CLASS_ID_PREFIX) :] if name.startswith(CLASS_ID_PREFIX) else ""
    if suffix.isdigit() and data_type == UINT8:
        values = list(raw) if raw is not None else ints
        if len(values) == 1:
            info.class_ids.append(values[0])


def _packed(buf: memoryview) -> list[int]:
    values, pos = [], 0
    while pos < len(buf):
        value, pos = _varint(buf, pos)
        values.append(value)
    return values


def _value(buf: memoryview) -> Value:
    """A ValueInfoProto: name (1) and type (2) → tensor_type (1) → elem_type (1), shape (2) → dim (1)."""
    name, elem_type, dims = "", 0, None
    for f, _, v in _fields(buf):
        if f == 1 and isinstance(v, memoryview):
            name = _text(v)
        elif f == 2 and isinstance(v, memoryview):
            for tf, _, tensor in _fields(v):
                if tf == 1 and isinstance(tensor, memoryview):
                    elem_type, dims = _tensor_type(tensor)
    return Value(name, elem_type, dims)


def _tensor_type(buf: memoryview) -> tuple[int, tuple[int | str | None, ...] | None]:
    elem_type, dims = 0, None
    for f, wire, v in _fields(buf):
        if f == 1 and wire == _VARINT and isinstance(v, int):
            elem_type = v
        elif f == 2 and isinstance(v, memoryview):
            dims = tuple(_dim(d) for df, _, d in _fields(v) if df == 1 and isinstance(d, memoryview))
    return elem_type, dims


def _dim(buf: memoryview) -> int | str | None:
    for f, wire, v in _fields(buf):
        if f == 1 and wire == _VARINT and isinstance(v, int):
            return v
        if f == 2 and isinstance(v, memoryview):
            return _text(v)
    return None
