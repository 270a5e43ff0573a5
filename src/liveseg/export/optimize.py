"""Graph clean-up and the reduced-precision variants (fp16, int8) of an exported fp32 graph."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx

from liveseg.export.wrap import INPUT, POST, PRE
from liveseg.runtime.session import create_session


def optimize(src: Path, dst: Path) -> None:
    """onnxruntime's offline *basic* optimisations (constant folding, Conv+BN/Add/Mul fusion, dead nodes).

    Basic is the highest level whose output uses only standard ONNX operators: the extended and layout
    levels emit CPU-specific contrib ops (and NCHWc layouts) that onnxruntime-web's WebGPU backend lacks.
    """
    create_session(src, level="basic", optimized_path=dst)
    model = onnx.load(str(dst))
    _drop_unused_opsets(model)
    _drop_exporter_metadata(model)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(dst))


def _drop_exporter_metadata(model: onnx.ModelProto) -> None:
    """The exporter annotates nodes and values with Python stack traces and module paths of the machine that
    exported them: nothing a runtime reads, and not something a shipped file should carry."""
    for item in [*model.graph.node, *model.graph.value_info, *model.graph.input, *model.graph.output]:
        del item.metadata_props[:]
    for node in model.graph.node:
        node.doc_string = ""


def _drop_unused_opsets(model: onnx.ModelProto) -> None:
    # onnxruntime declares every domain it knows (com.microsoft, training...) in the files it saves.
    used = {n.domain or "" for n in model.graph.node} | {""}
    keep = [o for o in model.opset_import if (o.domain or "") in used]
    del model.opset_import[:]
    model.opset_import.extend(keep)


def boundary_nodes(model: onnx.ModelProto) -> set[str]:
    """Names of the in-graph pre-processing and decoding nodes (`liveseg.export.wrap`): they stay fp32 and
    unquantised, so that the pixel normalisation and the arg-max/confidence are exact."""
    return {n.name for n in model.graph.node if n.name.startswith((PRE, POST))}


def to_fp16(src: Path, dst: Path) -> None:
    """Weights and activations in float16; uint8 IO, normalisation, upsampling and argmax stay as they were."""
    from onnxconverter_common import float16

    model = onnx.load(str(src))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "number will be truncated" for tiny weights is expected, per tensor
        converted = float16.convert_float_to_float16(
            model, keep_io_types=True, node_block_list=sorted(boundary_nodes(model))
        )
    _retarget_float_casts(converted)
    _drop_cast_round_trips(converted, model)
    onnx.checker.check_model(converted, full_check=True)
    onnx.save(converted, str(dst))


def _retarget_float_casts(model: onnx.ModelProto) -> None:
    """The converter retypes a Cast's output to float16 but leaves its `to=FLOAT`; make them agree."""
    fp16_values = {v.name for v in model.graph.value_info if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT16}
    for node in model.graph.node:
        if node.op_type == "Cast" and node.output[0] in fp16_values:
            for attr in node.attribute:
                if attr.name == "to" and attr.i == onnx.TensorProto.FLOAT:
                    attr.i = onnx.TensorProto.FLOAT16


def _drop_cast_round_trips(model: onnx.ModelProto, original: onnx.ModelProto) -> None:
    """Remove the float32→float16→float32 Casts the converter leaves next to blocked nodes.

    They cost time and, worse, round the normalisation constants and the logits before the argmax to
    float16; constants get their original float32 initializer back.
    """
    graph = model.graph
    types = {v.name: v.type.tensor_type.elem_type for v in [*graph.value_info, *graph.input, *graph.output]}
    fp32_inits = {i.name: i for i in original.graph.initializer if i.data_type == onnx.TensorProto.FLOAT}
    by_output = {o: n for n in graph.node for o in n.output}
    keep_outputs = {o.name for o in graph.output}
    rename: dict[str, str] = {}
    for node in graph.node:
        if _cast_to(node) != onnx.TensorProto.FLOAT or node.output[0] in keep_outputs:
            continue
        src = node.input[0]
        up = by_output.get(src)
        if (
            up is not None
            and _cast_to(up) == onnx.TensorProto.FLOAT16
            and types.get(up.input[0]) == onnx.TensorProto.FLOAT
        ):
            rename[node.output[0]] = up.input[0]
        elif up is None and src in fp32_inits:
            if f"{src}_fp32" not in rename.values():
                restored = onnx.TensorProto()
                restored.CopyFrom(fp32_inits[src])
                restored.name = f"{src}_fp32"
                graph.initializer.append(restored)
            rename[node.output[0]] = f"{src}_fp32"
    for node in graph.node:
        node.input[:] = [rename.get(i, i) for i in node.input]
    kept = [n for n in graph.node if n.output[0] not in rename]
    used = {i for n in kept for i in n.input} | keep_outputs
    kept = [n for n in kept if _cast_to(n) != onnx.TensorProto.FLOAT16 or n.output[0] in used]
    del graph.node[:]
    graph.node.extend(kept)
    used_inits = {i for n in graph.node for i in n.input}
    inits = [i for i in graph.initializer if i.name in used_inits]
    del graph.initializer[:]
    graph.initializer.extend(inits)


def _cast_to(node: onnx.NodeProto) -> int | None:
    if node.op_type != "Cast":
        return None
    return next((a.i for a in node.attribute if a.name == "to"), None)


class _Calibration:
    """onnxruntime's CalibrationDataReader protocol over an N×H×W×3 uint8 array, one image at a time."""

    def __init__(self, images: np.ndarray) -> None:
        self._it: Iterator[np.ndarray] = iter(images)

    def get_next(self) -> dict[str, np.ndarray] | None:
        image = next(self._it, None)
        return None if image is None else {INPUT: image[None]}


def to_int8(src: Path, dst: Path, calibration: np.ndarray) -> None:
    """Static QDQ quantisation (7-bit int8 weights per channel, uint8 activations) calibrated on real images."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    model = onnx.load(str(src))
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(src), str(prepared), skip_optimization=True, skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(dst),
            _Calibration(calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            # 7-bit weights: x86 CPUs without VNNI (AVX2) multiply u8 by s8 with a saturating 16-bit pairwise
            # sum, which full-range weights overflow (BENCHMARKS.md, "Design measurements"). onnxruntime
            # recommends this for such CPUs.
            reduce_range=True,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=sorted(boundary_nodes(model)),
        )
    onnx.checker.check_model(onnx.load(str(dst)), full_check=True)
