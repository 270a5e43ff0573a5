"""TF.js models (`model.json` and its weight shards, layers or graph format) → the network `liveseg import` wraps.

The conversion runs in the TensorFlow conversion environment (`liveseg.tfenv`): tensorflowjs turns a layers model
into a graph model, tf2onnx a graph model into ONNX with its NHWC image input and logits made NCHW, and the result
is an imported ONNX network like any other (`export.imported`), so pre/post-processing, variants and the
manifest are shared. Its parity reference is TF.js itself: the model.json run by @tensorflow/tfjs in Node on the
same images (`tfjs_reference.cjs`), so the gate covers both conversions.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from liveseg import tfenv
from liveseg.errors import LivesegError
from liveseg.export import parity
from liveseg.export.imported import Network, load_network

FORMATS = ("layers-model", "graph-model")
# TF.js models read tf.browser.fromPixels' values, 0..255, unless their app normalises: the default.
PIXELS = ((0.0, 0.0, 0.0), (1 / 255, 1 / 255, 1 / 255))
OPSET = 18
NODE_SCRIPT = Path(__file__).with_name("tfjs_reference.cjs")
TIMEOUT_S = 1800


def read(model_json: Path) -> dict:
    """The model.json, checked to be a TF.js layers or graph model."""
    try:
        model = json.loads(model_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LivesegError(f"{model_json} is not a readable TF.js model.json ({exc}).") from None
    if not isinstance(model, dict) or "weightsManifest" not in model or "modelTopology" not in model:
        raise LivesegError(f"{model_json} has no modelTopology and weightsManifest; pass a TF.js model's model.json.")
    topology = model["modelTopology"]
    keras = isinstance(topology, dict) and ("model_config" in topology or "class_name" in topology)
    kind = model.get("format") or ("layers-model" if keras else "graph-model")  # older converters wrote none
    if kind not in FORMATS:
        raise LivesegError(f"{model_json} is a TF.js {kind!r}; liveseg imports layers and graph models.")
    return model | {"format": kind}


def _names(graph_json: Path, output: str | None) -> tuple[list[str], list[str]]:
    """The TF tensor names (`name:0`) of a graph model's inputs and of the output to keep."""
    model = json.loads(graph_json.read_text(encoding="utf-8"))
    signature = model.get("signature") or {}
    if signature.get("inputs") and signature.get("outputs"):
        inputs = [v["name"] for v in signature["inputs"].values()]
        outputs = [v["name"] for v in signature["outputs"].values()]
    else:  # a converted frozen graph: its placeholders in, the nodes nothing reads out
        nodes = model["modelTopology"]["node"]
        consumed = {i.split(":")[0].lstrip("^") for n in nodes for i in n.get("input", [])}
        inputs = [f"{n['name']}:0" for n in nodes if n["op"] == "Placeholder"]
        outputs = [f"{n['name']}:0" for n in nodes if n["name"] not in consumed and n["op"] != "Const"]
    if output is not None:
        outputs = [output if ":" in output else f"{output}:0"]
    return inputs, outputs[:1]


def _without_noops(graph_json: Path, work: Path) -> Path:
    """A copy of a graph model whose fused ops list no `NoOp` (the TF.js converter's "no bias"), which tf2onnx
    turns into a dangling input; the fused activation then follows the convolution directly, as it does in TF.js."""
    model = json.loads(graph_json.read_text(encoding="utf-8"))
    noop = base64.b64encode(b"NoOp").decode()
    for node in model["modelTopology"].get("node", []):
        fused = node.get("attr", {}).get("fused_ops", {}).get("list", {})
        if noop in fused.get("s", []):
            fused["s"] = [op for op in fused["s"] if op != noop]
    target = work / "tf2onnx-input"
    target.mkdir()
    for shard in (p for group in model["weightsManifest"] for p in group["paths"]):
        shutil.copyfile(graph_json.parent / shard, target / shard)
    (target / "model.json").write_text(json.dumps(model), encoding="utf-8")
    return target / "model.json"


def convert(model_json: Path, venv: Path, work: Path, output: str | None = None) -> Path:
    """The ONNX file of a TF.js model: NCHW image in, NCHW logits out (`output`, default its first). Its tensors
    keep their TF names (`input:0`)."""
    python = tfenv.python(venv)
    graph_json = model_json
    if read(model_json)["format"] == "layers-model":
        graph_dir = work / "graph"
        formats = ["--input_format=tfjs_layers_model", "--output_format=tfjs_graph_model"]
        tfenv.run(
            [python, "-c", tfenv.TFJS_CONVERTER, *formats, model_json.resolve(), graph_dir],
            work,
            "tensorflowjs_converter (TF.js layers model → graph model)",
            TIMEOUT_S,
        )
        graph_json = graph_dir / "model.json"
    inputs, outputs = _names(graph_json, output)
    if len(inputs) != 1:
        raise LivesegError(f"{model_json} takes {len(inputs)} inputs; an importable network takes one image.")
    onnx_path = work / "tfjs.onnx"
    flags = ["--opset", OPSET, "--outputs", outputs[0], "--inputs-as-nchw", inputs[0], "--outputs-as-nchw", outputs[0]]
    tfenv.run(
        [python, "-m", "tf2onnx.convert", "--tfjs", _without_noops(graph_json, work), "--output", onnx_path, *flags],
        work,
        "tf2onnx (TF.js graph model → ONNX)",
        TIMEOUT_S,
    )
    return onnx_path


def _float_input(path: Path) -> None:
    """Give an integer-input graph (TF.js's DeepLab takes int32 pixels) the float input liveseg feeds: the
    de-normalised values are rounded, then cast to the graph's type."""
    model = onnx.load(str(path))
    value = model.graph.input[0]
    dtype = value.type.tensor_type.elem_type
    if dtype == TensorProto.FLOAT:
        return
    pixels = f"{value.name}/liveseg_int"
    for node in model.graph.node:
        node.input[:] = [pixels if i == value.name else i for i in node.input]
    model.graph.node.insert(0, helper.make_node("Cast", [f"{value.name}/round"], [pixels], to=dtype))
    model.graph.node.insert(0, helper.make_node("Round", [value.name], [f"{value.name}/round"]))
    value.type.tensor_type.elem_type = TensorProto.FLOAT
    onnx.save(model, str(path))


def _exact_resize_scales(path: Path) -> None:
    """Nudge the float scales of each Resize that tf2onnx wrote for TF's ResizeBilinear(size) on a known input
    size, so that ONNX's output size, input × scale floored, is the size TF.js resizes to.

    tf2onnx writes the scale size/input in float32: 3 → 5 becomes 3 × 1.6666666 = 4.9999998, floored to 4 by
    ONNX's shape inference, and onnxruntime then refuses the graph. The scale is raised by float32 steps until the
    size comes out (1e-7 relative: the sampling positions move by that much). Scales, not sizes: the labels graph
    runs any batch. One Resize at a time, in graph order, because the shapes after it depend on it.
    """
    model = onnx.load(str(path))
    constants = {i.name: i for i in model.graph.initializer}
    done: set[str] = set()
    while node := _next_inexact_resize(model, constants, done):
        resize, size = node
        scales = onnx.numpy_helper.to_array(constants[resize.input[2]]).astype(np.float32)
        target = np.round(size * scales)
        while np.any(short := np.floor(size * scales.astype(np.float64)) < target):  # as shape inference multiplies
            scales = np.where(short, np.nextafter(scales, np.float32(np.inf)), scales)
        name = f"{resize.output[0]}/scales"
        model.graph.initializer.append(onnx.numpy_helper.from_array(scales, name))
        resize.input[2] = name
        done.add(resize.output[0])
    _save_without_unread(model, path)


def _next_inexact_resize(
    model: onnx.ModelProto, constants: dict[str, onnx.TensorProto], done: set[str]
) -> tuple[onnx.NodeProto, np.ndarray] | None:
    """The first Resize not yet `done` with constant scales on an input whose H and W shape inference knows,
    and that input's size (N and C count as 1: their scales are 1)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {
        v.name: [d.dim_value if d.HasField("dim_value") else 1 for d in v.type.tensor_type.shape.dim]
        for v in [*inferred.graph.input, *inferred.graph.value_info]
        if len(v.type.tensor_type.shape.dim) == 4
        and all(d.HasField("dim_value") for d in v.type.tensor_type.shape.dim[2:])
    }
    for node in model.graph.node:
        if node.op_type != "Resize" or node.output[0] in done or len(node.input) != 3:
            continue
        if node.input[2] in constants and node.input[0] in shapes:
            return node, np.asarray(shapes[node.input[0]], np.float64)
    return None


def _batch_free_reshapes(path: Path) -> None:
    """Let a graph converted at batch 1 run any batch: a constant Reshape target that starts with 1 where its
    input's first axis is 1 copies that axis instead (ONNX's 0), as the labels graph declares a free batch."""
    model = onnx.load(str(path))
    inferred = onnx.shape_inference.infer_shapes(model)
    first = {
        v.name: v.type.tensor_type.shape.dim[0].dim_value
        for v in [*inferred.graph.input, *inferred.graph.value_info]
        if v.type.tensor_type.shape.dim
    }
    constants = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "Reshape" or node.input[1] not in constants or first.get(node.input[0]) != 1:
            continue
        target = onnx.numpy_helper.to_array(constants[node.input[1]]).copy()
        if target.size and target[0] == 1:
            target[0] = 0
            name = f"{node.output[0]}/shape"
            model.graph.initializer.append(onnx.numpy_helper.from_array(target, name))
            node.input[1] = name
    _save_without_unread(model, path)


def _save_without_unread(model: onnx.ModelProto, path: Path) -> None:
    """Save `model` less the constants that the rewrites above replaced and no node reads any more."""
    read = {i for n in model.graph.node for i in n.input}
    for initializer in [i for i in model.graph.initializer if i.name not in read]:
        model.graph.initializer.remove(initializer)
    onnx.save(model, str(path))


def load(
    model_json: Path, venv: Path, work: Path, mean: Sequence[float], std: Sequence[float], output: str | None = None
) -> Network:
    """A TF.js model converted to an imported network, fed `(pixels / 255 - mean) / std`."""
    onnx_path = convert(model_json, venv, work, output)
    _float_input(onnx_path)
    _exact_resize_scales(onnx_path)
    _batch_free_reshapes(onnx_path)
    return load_network(onnx_path, mean, std)


def reference(
    model_json: Path, venv: Path, mean: Sequence[float], std: Sequence[float], output: str | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """Class maps of an N×H×W×3 uint8 batch from TF.js itself: the model run by @tensorflow/tfjs in Node, its
    NHWC logits decoded as the labels graph decodes (bilinear upsampling, arg-max)."""
    node = shutil.which("node")
    if node is None:
        raise LivesegError("Checking a TF.js import against TF.js needs Node.js 20+; install it, then try again.")

    def labels(batch: np.ndarray) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="liveseg-tfjs-") as tmp:
            work = Path(tmp)
            (work / "pixels.u8").write_bytes(np.ascontiguousarray(batch[..., :3]).tobytes())
            request = {
                "model": str(model_json.resolve()),
                "pixels": str(work / "pixels.u8"),
                "shape": list(batch.shape[:3]),
                "mean": list(mean),
                "std": list(std),
                "output": output,
                "out": str(work / "out.f32"),
            }
            (work / "request.json").write_text(json.dumps(request), encoding="utf-8")
            step = "TF.js (@tensorflow/tfjs in Node, the parity reference)"
            tfenv.run([node, NODE_SCRIPT, work / "request.json"], work, step, TIMEOUT_S, tfenv.node_env(venv))
            shape = json.loads((work / "out.f32.json").read_text(encoding="utf-8"))["shape"]
            logits = np.fromfile(work / "out.f32", np.float32)
        if len(shape) != 4:
            raise LivesegError(f"The model outputs shape {shape} in TF.js; pass --output naming its N×h×w×C logits.")
        logits = logits.reshape(len(batch), *shape[1:]).transpose(0, 3, 1, 2)
        return parity.decode_logits(logits, batch.shape[1], batch.shape[2])

    return labels
