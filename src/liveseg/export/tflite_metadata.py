"""TFLite model metadata (TensorFlow Lite Support's `metadata_schema.fbs`): what the model's publisher says about
its input, read so that `liveseg import` and `liveseg pull` feed a model the way it was trained without being told.

The metadata is a flatbuffer stored in one of the model's buffers, named `TFLITE_METADATA` in the model's
`metadata` list. Only the path to the input's normalisation is read (ModelMetadata → subgraph_metadata[0] →
input_tensor_metadata[0] → process_units[] → NormalizationOptions), with the `flatbuffers` Table API: each
function below reads one table of the schema, whose field order gives the vtable slots. No generated bindings:
the `tflite` package has none for this schema, and the few fields needed do not justify vendoring them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from flatbuffers import encode, packer
from flatbuffers import number_types as types
from flatbuffers.table import Table

from liveseg.errors import LivesegError

METADATA_NAME = "TFLITE_METADATA"
NORMALIZATION_OPTIONS = 1  # ProcessUnitOptions union: NormalizationOptions is its first member


@dataclass(frozen=True)
class Metadata:
    """What liveseg uses of a model's metadata; `mean` and `std` are on the 0..255 scale, as the schema has them
    (one value for all channels, or one per channel), empty when the input has no NormalizationOptions."""

    name: str
    description: str
    version: str
    author: str
    license: str
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    def normalization(self, where: str) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        """(mean, std) per R, G, B on 0..1, as liveseg normalises (`(pixels / 255 - mean) / std`), or None."""
        if not self.mean and not self.std:
            return None
        mean, std = _per_channel(self.mean), _per_channel(self.std)
        if mean is None or std is None or any(s <= 0 for s in std):
            raise LivesegError(
                f"{where}'s metadata gives a normalisation liveseg cannot use (mean {list(self.mean)}, std "
                f"{list(self.std)}); pass --mean and --std."
            )
        return tuple(m / 255.0 for m in mean), tuple(s / 255.0 for s in std)


def _per_channel(values: Sequence[float]) -> tuple[float, ...] | None:
    """One value for every channel, or one per channel (RGB first; a 4th input channel is not the image's)."""
    if len(values) == 1:
        return (float(values[0]),) * 3
    return tuple(float(v) for v in values[:3]) if len(values) >= 3 else None


def read(model, data: bytes) -> Metadata | None:
    """The metadata of a parsed TFLite `model` (a `tflite.Model` over `data`), or None if it has none that reads."""
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if (entry.Name() or b"").decode(errors="replace") != METADATA_NAME:
            continue
        buffer = model.Buffers(entry.Buffer())
        raw = buffer.DataAsNumpy()
        blob = raw.tobytes() if isinstance(raw, np.ndarray) else data[buffer.Offset() : buffer.Offset() + buffer.Size()]
        try:
            return _model_metadata(_root(blob))
        except (struct.error, IndexError, UnicodeDecodeError):  # a malformed buffer: read as no metadata
            return None
    return None


def _root(blob: bytes) -> Table:
    return Table(bytearray(blob), encode.Get(packer.uoffset, blob, 0))


def _slot(table: Table, slot: int) -> int:
    """The field's offset in `table` (0 when absent); slot i of a table is at vtable offset 4 + 2i."""
    return table.Offset(4 + 2 * slot)


def _string(table: Table, slot: int) -> str:
    o = _slot(table, slot)
    return table.String(o + table.Pos).decode("utf-8") if o else ""


def _table(table: Table, slot: int) -> Table | None:
    o = _slot(table, slot)
    return Table(table.Bytes, table.Indirect(o + table.Pos)) if o else None


def _tables(table: Table, slot: int) -> list[Table]:
    o = _slot(table, slot)
    if not o:
        return []
    start = table.Vector(o)
    return [Table(table.Bytes, table.Indirect(start + 4 * i)) for i in range(table.VectorLen(o))]


def _floats(table: Table, slot: int) -> tuple[float, ...]:
    o = _slot(table, slot)
    return tuple(float(v) for v in table.GetVectorAsNumpy(types.Float32Flags, o)) if o else ()


def _model_metadata(table: Table) -> Metadata:
    """ModelMetadata: name 0, description 1, version 2, subgraph_metadata 3, author 4, license 5."""
    subgraphs = _tables(table, 3)
    mean, std = _subgraph(subgraphs[0]) if subgraphs else ((), ())
    return Metadata(
        name=_string(table, 0),
        description=_string(table, 1),
        version=_string(table, 2),
        author=_string(table, 4),
        license=_string(table, 5),
        mean=mean,
        std=std,
    )


def _subgraph(table: Table) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """SubGraphMetadata: name 0, description 1, input_tensor_metadata 2, ..."""
    inputs = _tables(table, 2)
    return _tensor(inputs[0]) if inputs else ((), ())


def _tensor(table: Table) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """TensorMetadata: name 0, description 1, dimension_names 2, content 3, process_units 4, ..."""
    for unit in _tables(table, 4):
        options = _process_unit(unit)
        if options is not None:
            return _normalization(options)
    return (), ()


def _process_unit(table: Table) -> Table | None:
    """ProcessUnit: the union `options` takes two slots, its type (0, a ubyte) then the table (1)."""
    o = _slot(table, 0)
    kind = table.Get(types.Uint8Flags, o + table.Pos) if o else 0
    return _table(table, 1) if kind == NORMALIZATION_OPTIONS else None


def _normalization(table: Table) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """NormalizationOptions: mean 0, std 1 (float vectors, on the input's 0..255 scale)."""
    return _floats(table, 0), _floats(table, 1)
