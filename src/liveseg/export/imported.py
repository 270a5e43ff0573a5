"""An ONNX segmentation network made elsewhere → the same labels graph `liveseg export` writes.

Most toolkits export a network as "normalised float NCHW image in, logits out" (torchvision, mmsegmentation,
PaddleSeg, Hugging Face/Optimum). Importing wraps that graph, unchanged, between liveseg's in-graph
pre-processing and decoding (`liveseg.export.wrap`, the same nodes as around a network liveseg trained), so the
bundle behaves like one liveseg trained. Parity is then checked against the original file run by onnxruntime.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from liveseg.errors import LivesegError
from liveseg.export import parity, tflite
from liveseg.export.optimize import optimize
from liveseg.export.variants import (
    ExportResult,
    ExportSettings,
    VariantResult,
    check_out,
    check_settings,
    derive_variants,
    load_inputs,
    logits_variant,
    progress_steps,
)
from liveseg.export.wrap import labels_graph
from liveseg.export.writer import BundleMeta, finish
from liveseg.limits import above_pixel_limit
from liveseg.progress import Progress
from liveseg.runtime.session import create_session

MIN_OPSET = 18  # Split takes `num_outputs`, Resize and the Reduce* ops `axes`, from opset 18 on
LAYOUTS = ("nchw", "nhwc")


@dataclass(frozen=True)
class Network:
    """An imported network's graph and how to feed it: its input, its logits output and their conventions."""

    model: onnx.ModelProto
    input: str
    output: str
    mean: Sequence[float]  # on 0..1 RGB, as everywhere in liveseg
    std: Sequence[float]
    layout: str = "nchw"  # of the logits; the image input is always N×3×H×W

    @property
    def is_static(self) -> bool:
        """Batch 1 and a fixed size, logits NCHW: what onnxruntime-web's WebGL backend (the logits variant) needs."""
        return self.layout == "nchw" and self.fixed_size is not None and _dims(self.model.graph.input[0])[0] == 1

    @property
    def fixed_size(self) -> tuple[int, int] | None:
        """The H×W the graph is fixed to, if it is."""
        dims = _dims(self.model.graph.input[0])
        return (dims[2], dims[3]) if isinstance(dims[2], int) and isinstance(dims[3], int) else None


def load_network(
    path: Path, mean: Sequence[float], std: Sequence[float], layout: str = "nchw", output: str | None = None
) -> Network:
    """Read and check an ONNX file; every way it can be unusable is one sentence naming the problem."""
    if layout not in LAYOUTS:
        raise LivesegError(f"--layout {layout!r} is not one of {', '.join(LAYOUTS)}.")
    if len(mean) != 3 or len(std) != 3 or any(s <= 0 for s in std):
        raise LivesegError("--mean and --std need three values each (R,G,B on 0..1), std above zero.")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf and OS errors alike: the file is unusable
        raise LivesegError(f"{path} is not a readable ONNX file ({_first_line(exc)}).") from None
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise LivesegError(f"{path} takes {len(inputs)} inputs ({names}); an importable network takes one image.")
    dims = _dims(inputs[0])
    # A symbolic channel axis (Optimum names it `num_channels`) is taken to be the image's 3 and fixed to it.
    rgb = len(dims) == 4 and (dims[1] == 3 or isinstance(dims[1], str))
    if inputs[0].type.tensor_type.elem_type != TensorProto.FLOAT or not rgb:
        raise LivesegError(
            f"{path}'s input {inputs[0].name!r} is {_describe(inputs[0])}; an importable network takes a "
            "float32 N×3×H×W normalised image."
        )
    inputs[0].type.tensor_type.shape.dim[1].dim_value = 3
    outputs = [o.name for o in model.graph.output]
    chosen = output or outputs[0]
    if chosen not in outputs:
        raise LivesegError(f"{path} has no output {chosen!r}; choose one of {', '.join(outputs)}.")
    _check_ops(model, path)
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    return Network(model, inputs[0].name, chosen, tuple(mean), tuple(std), layout)


def load_tflite(
    path: Path,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    default: tuple[Sequence[float], Sequence[float]] = ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
) -> tuple[Network, tflite.Converted]:
    """A TFLite model converted to an ONNX network (`liveseg.export.tflite`), fed `(pixels / 255 - mean) / std`.
    A `mean` or `std` not given comes from the file's metadata (its publisher's normalisation), else `default`
    (RGB on 0..1, MediaPipe's convention)."""
    converted = tflite.convert(path)
    found = converted.metadata.normalization(str(path)) if converted.metadata else None
    mean = mean if mean is not None else (found or default)[0]
    std = std if std is not None else (found or default)[1]
    if len(mean) != 3 or len(std) != 3 or any(s <= 0 for s in std):
        raise LivesegError("--mean and --std need three values each (R,G,B on 0..1), std above zero.")
    return Network(converted.model, tflite.INPUT, tflite.OUTPUT, tuple(mean), tuple(std)), converted


def _dims(value: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in value.type.tensor_type.shape.dim]


def _describe(value: onnx.ValueInfoProto) -> str:
    dtype = helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type).name
    return f"{dtype} {'×'.join(str(d) for d in _dims(value))}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _check_ops(model: onnx.ModelProto, path: Path) -> None:
    """Refuse operators onnxruntime does not implement, by name, before any work is done."""
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        op = re.search(r"No Op registered for (\w+)", str(exc))
        what = f"the operator {op[1]!r}, which no ONNX runtime implements" if op else _first_line(exc)
        raise LivesegError(f"{path} cannot be imported: it uses {what}.") from None
    known = {"", "ai.onnx", "com.microsoft"}
    for node in model.graph.node:
        if node.domain not in known:
            raise LivesegError(
                f"{path} cannot be imported: node {node.name or node.op_type!r} uses the operator "
                f"{node.domain}::{node.op_type}, which onnxruntime(-web) does not implement."
            )


def _opset(model: onnx.ModelProto) -> int:
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def _runner(network: Network) -> Callable[[np.ndarray], np.ndarray]:
    """The original graph in onnxruntime: normalised N×3×H×W → N×C×h×w logits, one image at a time when the
    graph fixes its batch to 1."""
    try:
        session = create_session(network.model.SerializeToString())
    except Exception as exc:  # onnxruntime raises its own exception types
        raise LivesegError(f"onnxruntime cannot run this network: {_first_line(exc)}.") from None
    fixed_batch = _dims(network.model.graph.input[0])[0] == 1

    def run(x: np.ndarray) -> np.ndarray:
        parts = [x[i : i + 1] for i in range(len(x))] if fixed_batch else [x]
        out = np.concatenate([session.run([network.output], {network.input: p})[0] for p in parts])
        if out.ndim != 4:
            raise LivesegError(
                f"The output {network.output!r} has shape {out.shape}; logits must be 4-D "
                "(N×C×h×w, or N×h×w×C with --layout nhwc)."
            )
        return out.transpose(0, 3, 1, 2) if network.layout == "nhwc" else out

    return run


def reference(
    network: Network, run: Callable[[np.ndarray], np.ndarray] | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """Class maps of an N×H×W×3 uint8 batch from the original graph (`run`, default a new session on it),
    pre- and post-processed in NumPy."""
    run = run or _runner(network)
    mean = np.asarray(network.mean, np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(network.std, np.float32).reshape(1, 3, 1, 1)

    def labels(batch: np.ndarray) -> np.ndarray:
        x = batch[..., :3].transpose(0, 3, 1, 2).astype(np.float32)
        logits = run((x / np.float32(255.0) - mean) / std)
        return parity.decode_logits(logits, batch.shape[1], batch.shape[2])

    return labels


def compose(network: Network, size: tuple[int, int], logits_size: tuple[int, int], classes: int, path: Path) -> None:
    """Write the labels graph at `size`: liveseg's pre-processing → the network, unchanged → liveseg's decoding
    of its `classes` logits, `logits_size` at this input size."""
    model = onnx.ModelProto()
    model.CopyFrom(network.model)
    if _opset(model) < MIN_OPSET:
        try:
            model = onnx.version_converter.convert_version(model, MIN_OPSET)
        except Exception as exc:  # the converter raises bare RuntimeErrors
            raise LivesegError(
                f"The network's opset {_opset(model)} cannot be converted to {MIN_OPSET} ({_first_line(exc)}); "
                f"export it again with opset {MIN_OPSET} or newer."
            ) from None
    logits = network.output
    if network.layout == "nhwc":
        nchw = helper.make_node("Transpose", [logits], ["network/logits_nchw"], perm=[0, 3, 1, 2], name="network/nchw")
        model.graph.node.append(nchw)
        logits = nchw.output[0]
    graph = labels_graph(model, logits, network.mean, network.std, size, logits_size, classes)
    onnx.save(graph, str(path))


def complexity(network: Network, size: tuple[int, int]) -> tuple[int, float]:
    """(parameters, GFLOPs) at `size`: weights counted from initializers, FLOPs (2 × multiply-adds) of the
    Conv, ConvTranspose, MatMul and Gemm nodes from shapes measured by running the graph once."""
    model = onnx.ModelProto()
    model.CopyFrom(network.model)
    heavy = [n for n in model.graph.node if n.op_type in ("Conv", "ConvTranspose", "MatMul", "Gemm")]
    wanted = {name for n in heavy for name in [*n.input[:2], n.output[0]]}
    inits = {i.name: tuple(i.dims) for i in model.graph.initializer}
    have = {o.name for o in model.graph.output}
    model.graph.output.extend(helper.make_empty_tensor_value_info(v) for v in sorted(wanted - have - set(inits)))
    session = create_session(model.SerializeToString())
    names = [o.name for o in session.get_outputs()]
    shapes = dict(
        zip(
            names,
            (a.shape for a in session.run(names, {network.input: np.zeros((1, 3, *size), np.float32)})),
            strict=True,
        )
    )
    shapes |= inits
    flops = sum(_flops(n, shapes) for n in heavy)
    params = sum(int(np.prod(d)) for d in inits.values())
    return params, flops / 1e9


def _flops(node: onnx.NodeProto, shapes: dict[str, tuple[int, ...]]) -> float:
    out = shapes[node.output[0]]
    w = shapes[node.input[1]]
    if node.op_type == "Conv":  # weight Cout × Cin/groups × k...
        return 2.0 * np.prod(out) * np.prod(w[1:])
    if node.op_type == "ConvTranspose":  # weight Cin × Cout/groups × k...
        return 2.0 * np.prod(shapes[node.input[0]]) * np.prod(w[1:])
    a = shapes[node.input[0]]
    transposed = any(attr.name == "transA" and attr.i for attr in node.attribute)
    return 2.0 * np.prod(out) * (a[0] if transposed else a[-1])  # MatMul, Gemm: K is A's inner axis


def import_bundle(
    network: Network,
    out: Path,
    settings: ExportSettings,
    meta: BundleMeta,
    progress: Progress | None = None,
    original: Callable[[np.ndarray], np.ndarray] | None = None,
) -> ExportResult:
    """Write the bundle of an imported `network` to `out`: each size and precision parity-checked against the
    original graph in onnxruntime, as `export_bundle` checks a checkpoint's against PyTorch, or against
    `original` (class maps of a uint8 batch) where the network was converted from another framework's file."""
    check_out(out)
    check_settings(settings)
    fixed = network.fixed_size
    if fixed is not None and (why := above_pixel_limit(*fixed)):
        raise LivesegError(f"The network's fixed input {why}; it cannot be imported.")
    if fixed is not None and any(size != fixed for size in settings.sizes):
        raise LivesegError(f"The network only takes {fixed[0]}x{fixed[1]} images; pass --size {fixed[0]}x{fixed[1]}.")
    if why := next(filter(None, (above_pixel_limit(*size) for size in settings.sizes)), None):
        raise LivesegError(f"The input size {why}; pass a smaller --size.")
    run = _runner(network)
    classes = run(np.zeros((1, 3, *settings.sizes[0]), np.float32)).shape[1]
    if classes < 2:
        raise LivesegError(
            f"The network outputs {classes} channel where liveseg needs one logit per class, for two classes or "
            "more; export it with a background channel (a TFLite model's single foreground probability is imported "
            "as two classes)."
        )
    if classes != len(meta.classes):
        raise LivesegError(
            f"The network outputs {classes} classes but the class list has {len(meta.classes)}; "
            "pass the --classes that the network was trained on."
        )
    inputs = load_inputs(meta.dataset if settings.data_root else None, settings, progress)
    expected = original or reference(network, run)
    webgl = settings.webgl and network.is_static
    step, advance = progress_steps(progress, "import", len(settings.sizes) * (3 + len(settings.precisions) + webgl))
    with tempfile.TemporaryDirectory(prefix="liveseg-import-") as tmp:
        results: list[VariantResult] = []
        for size in settings.sizes:
            tag = f"{size[0]}x{size[1]}"
            step(f"{tag}: composing the labels graph")
            raw, fp32 = Path(tmp) / f"{tag}-raw.onnx", Path(tmp) / f"{tag}-fp32.onnx"
            logits = run(np.zeros((1, 3, *size), np.float32))
            compose(network, size, logits.shape[2:], classes, raw)
            optimize(raw, fp32)
            advance()
            derived = derive_variants(fp32, expected, size, settings, inputs, classes, Path(tmp), step, advance)
            results += derived.variants
            if webgl:
                step(f"{tag}: WebGL logits graph and its parity")
                batch = parity.stack(inputs.parity, *size)
                results.append(
                    logits_variant(
                        network.model,
                        network.output,
                        network.mean,
                        network.std,
                        size,
                        batch,
                        derived.fp32_labels,
                        inputs,
                        Path(tmp),
                    )
                )
                advance()
        return finish(out, meta, settings, results, lambda size: complexity(network, size))
