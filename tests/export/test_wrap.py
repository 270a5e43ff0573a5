"""The in-graph pre-processing and decoding every bundle graph shares, against their NumPy/PyTorch definitions."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper

from liveseg.data.loader import to_tensor
from liveseg.export import parity
from liveseg.export.optimize import boundary_nodes
from liveseg.export.wrap import (
    CONFIDENCE,
    INPUT,
    LABELS,
    LOGITS,
    STORAGE_BUFFERS,
    labels_graph,
    logits_graph,
    phase_kernel,
    upsample_factor,
)

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _network(classes: int, size: tuple[int, int], stride: int, batch: int | str = "batch") -> onnx.ModelProto:
    """A stand-in network: average pooling by `stride`, then a fixed 1×1 convolution to `classes` logits."""
    rng = np.random.default_rng(classes)
    weight = helper.make_tensor("w", TensorProto.FLOAT, [classes, 3, 1, 1], rng.normal(0, 2, classes * 3))
    nodes = [
        helper.make_node("AveragePool", ["x"], ["pooled"], kernel_shape=[stride, stride], strides=[stride, stride]),
        helper.make_node("Conv", ["pooled", "w"], ["logits"]),
    ]
    low = [s // stride for s in size]
    graph = helper.make_graph(
        nodes,
        "net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, *size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, classes, *low])],
        [weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)


def _run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _logits(network: onnx.ModelProto, pixels: np.ndarray) -> np.ndarray:
    x = pixels[..., :3].transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255) - np.float32(MEAN).reshape(3, 1, 1)
    x /= np.float32(STD).reshape(3, 1, 1)
    return _run(network, {"x": x})[0]


def _expected_confidence(logits: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    top = torch.from_numpy(logits).softmax(1).amax(1, keepdim=True)
    return torch.round(F.interpolate(top, size, mode="bilinear") * 255).to(torch.uint8)[:, 0].numpy()


@pytest.mark.parametrize("classes", [7, 2], ids=["7 classes", "2 classes (from their difference)"])
@pytest.mark.parametrize(
    ("size", "stride"),
    [((96, 128), 8), ((64, 64), 1), ((90, 120), 8), ((64, 96), 4)],
    ids=["factor 8", "same size", "no integer factor (Resize)", "factor 4"],
)
def test_decoding_is_bilinear_upsampling_then_argmax(size: tuple[int, int], stride: int, classes: int) -> None:
    network = _network(classes, size, stride)
    logits_size = tuple(s // stride for s in size)
    model = labels_graph(network, "logits", MEAN, STD, size, logits_size, classes)
    pixels = np.random.default_rng(1).integers(0, 256, (2, *size, 4), dtype=np.uint8)
    labels, confidence = _run(model, {INPUT: pixels})
    logits = _logits(network, pixels)
    assert labels.dtype == confidence.dtype == np.uint8 and labels.shape == confidence.shape == (2, *size)
    assert parity.pixel_agreement(labels, parity.decode_logits(logits, *size)) >= 0.9999
    assert np.abs(confidence.astype(int) - _expected_confidence(logits, size)).max() <= 1


def test_ties_go_to_the_first_class_as_argmax() -> None:
    network = _network(4, (32, 32), 8)
    weight = next(i for i in network.graph.initializer if i.name == "w")
    weight.CopyFrom(helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 1, 1], [0.0] * 3 + [1.0] * 9))
    model = labels_graph(network, "logits", MEAN, STD, (32, 32), (4, 4), 4)
    labels, _ = _run(model, {INPUT: np.full((1, 32, 32, 3), 200, np.uint8)})
    assert (labels == 1).all()  # classes 1, 2 and 3 tie above class 0


def test_a_two_class_tie_goes_to_class_0() -> None:
    network = _network(2, (32, 32), 8)
    weight = next(i for i in network.graph.initializer if i.name == "w")
    weight.CopyFrom(helper.make_tensor("w", TensorProto.FLOAT, [2, 3, 1, 1], [1.0] * 6))
    model = labels_graph(network, "logits", MEAN, STD, (32, 32), (4, 4), 2)
    labels, confidence = _run(model, {INPUT: np.full((1, 32, 32, 3), 200, np.uint8)})
    assert (labels == 0).all() and (confidence == 128).all()  # p = 0.5 each: round(127.5) = 128


def test_phase_kernel_is_torch_bilinear_upsampling() -> None:
    low = torch.randn(1, 1, 5, 7, generator=torch.Generator().manual_seed(0))
    for factor in (2, 3, 8):
        weight = torch.from_numpy(phase_kernel(factor))
        phases = F.conv2d(F.pad(low, (1, 1, 1, 1), mode="replicate"), weight)
        got = F.pixel_shuffle(phases, factor)
        want = F.interpolate(low, scale_factor=factor, mode="bilinear", align_corners=False)
        assert torch.allclose(got, want, atol=1e-6)
    assert upsample_factor((36, 48), (288, 384)) == 8 and upsample_factor((45, 60), (360, 480)) == 8
    assert upsample_factor((36, 48), (288, 380)) is None and upsample_factor((36, 48), (288, 432)) is None


@pytest.mark.parametrize("channels", [3, 4])
def test_preprocessing_is_trainings_bit_for_bit(channels: int) -> None:
    size = (48, 64)
    model = labels_graph(_network(3, size, 8), "logits", MEAN, STD, size, (6, 8), 3)
    model.graph.output.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, *size]))
    pixels = np.random.default_rng(2).integers(0, 256, (3, *size, channels), dtype=np.uint8)
    x = _run(model, {INPUT: pixels})[2]
    want = torch.stack([to_tensor(p[..., :3]) for p in pixels]).numpy()
    assert x.dtype == np.float32 and np.array_equal(x, want)


def test_logits_graph_takes_float_rgba_and_returns_the_networks_logits() -> None:
    size = (64, 96)
    network = _network(5, size, 8, batch=1)
    model = logits_graph(network, "logits", MEAN, STD, size)
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == [1, *size, 4]
    pixels = np.random.default_rng(3).integers(0, 256, (1, *size, 4)).astype(np.float32)
    (logits,) = _run(model, {INPUT: pixels})
    assert model.graph.output[0].name == LOGITS
    np.testing.assert_allclose(logits, _logits(network, pixels.astype(np.uint8)), rtol=0, atol=1e-5)


def test_wrapping_nodes_are_the_boundary_and_reserved_names_are_freed() -> None:
    size = (32, 32)
    network = _network(3, size, 8)
    for node in network.graph.node:  # a network whose own values use the bundle's IO names
        node.output[:] = [LABELS if o == "pooled" else o for o in node.output]
        node.input[:] = [LABELS if i == "pooled" else i for i in node.input]
    model = labels_graph(network, "logits", MEAN, STD, size, (4, 4), 3)
    names = {n.name for n in model.graph.node}
    assert boundary_nodes(model) == {n for n in names if n.startswith("liveseg/")}
    assert {n.name for n in model.graph.node if n.op_type == "AveragePool"}.isdisjoint(boundary_nodes(model))
    assert [o.name for o in model.graph.output] == [LABELS, CONFIDENCE]
    labels, _ = _run(model, {INPUT: np.zeros((1, *size, 3), np.uint8)})
    assert labels.shape == (1, *size)


def test_every_decoding_node_fits_one_webgpu_kernel() -> None:
    model = labels_graph(_network(21, (64, 64), 8), "logits", MEAN, STD, (64, 64), (8, 8), 21)
    assert max(len(n.input) + len(n.output) for n in model.graph.node) <= STORAGE_BUFFERS
    labels, _ = _run(model, {INPUT: np.random.default_rng(5).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)})
    assert labels.max() < 21
