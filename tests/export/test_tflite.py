"""The TFLite converter, operator by operator: each small model built here runs in TFLite's own runtime (LiteRT)
and, converted, in onnxruntime; the outputs must agree. MediaPipe's custom transposed convolution, which LiteRT
does not know, is checked against its definition in NumPy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from liveseg.errors import LivesegError
from liveseg.export.tflite import CUSTOM_TRANSPOSE_CONV, OPERATORS, convert
from liveseg.runtime.session import create_session

from .tflite_models import Graph, serialize

Interpreter = pytest.importorskip(
    "ai_edge_litert.interpreter", reason="LiteRT (pip install ai-edge-litert) is the reference runtime"
).Interpreter

RNG = np.random.default_rng(7)
SHAPE = (1, 8, 8, 3)


def _weights(*shape: int) -> np.ndarray:
    return RNG.normal(0, 0.5, shape).astype(np.float32)


def _image(shape=SHAPE) -> tuple[Graph, int]:
    g = Graph()
    x = g.add(shape)
    g.inputs = [x]
    return g, x


def _finish(g: Graph, out: int) -> Graph:
    g.outputs = [out]
    return g


def conv_same_stride2_relu6() -> Graph:
    g, x = _image()
    opts = {
        "Padding": 0,
        "StrideW": 2,
        "StrideH": 2,
        "FusedActivationFunction": 3,
        "DilationWFactor": 1,
        "DilationHFactor": 1,
    }
    return _finish(
        g,
        g.op(
            "CONV_2D", [x, g.const(_weights(5, 3, 3, 3)), g.const(_weights(5))], (1, 4, 4, 5), ("Conv2DOptions", opts)
        ),
    )


def conv_valid_dilated() -> Graph:
    g, x = _image()
    opts = {"Padding": 1, "StrideW": 1, "StrideH": 1, "DilationWFactor": 2, "DilationHFactor": 2}
    return _finish(
        g,
        g.op(
            "CONV_2D", [x, g.const(_weights(4, 3, 3, 3)), g.const(_weights(4))], (1, 4, 4, 4), ("Conv2DOptions", opts)
        ),
    )


def conv_odd_same_stride2() -> Graph:
    g, x = _image((1, 7, 9, 3))
    opts = {"Padding": 0, "StrideW": 2, "StrideH": 2, "DilationWFactor": 1, "DilationHFactor": 1}
    return _finish(
        g,
        g.op(
            "CONV_2D", [x, g.const(_weights(2, 4, 4, 3)), g.const(_weights(2))], (1, 4, 5, 2), ("Conv2DOptions", opts)
        ),
    )


def depthwise_same_stride2_relu() -> Graph:
    g, x = _image()
    opts = {
        "Padding": 0,
        "StrideW": 2,
        "StrideH": 2,
        "DepthMultiplier": 1,
        "FusedActivationFunction": 1,
        "DilationWFactor": 1,
        "DilationHFactor": 1,
    }
    w, b = g.const(_weights(1, 5, 5, 3)), g.const(_weights(3))
    return _finish(g, g.op("DEPTHWISE_CONV_2D", [x, w, b], (1, 4, 4, 3), ("DepthwiseConv2DOptions", opts)))


def transpose_conv() -> Graph:
    g, x = _image()
    shape = g.const(np.array([1, 16, 16, 4], np.int32))
    opts = {"Padding": 0, "StrideW": 2, "StrideH": 2}
    return _finish(
        g,
        g.op(
            "TRANSPOSE_CONV", [shape, g.const(_weights(4, 3, 3, 3)), x], (1, 16, 16, 4), ("TransposeConvOptions", opts)
        ),
    )


def _pool(code: str, filt: int, stride: int, padding: int, out: int) -> Callable[[], Graph]:
    def build() -> Graph:
        g, x = _image()
        opts = {"Padding": padding, "StrideW": stride, "StrideH": stride, "FilterWidth": filt, "FilterHeight": filt}
        return _finish(g, g.op(code, [x], (1, out, out, 3), ("Pool2DOptions", opts)))

    build.__name__ = f"{code.lower()}_{filt}x{filt}_s{stride}_{'valid' if padding else 'same'}"
    return build


def mean_keepdims() -> Graph:
    g, x = _image()
    return _finish(
        g, g.op("MEAN", [x, g.const(np.array([1, 2], np.int32))], (1, 1, 1, 3), ("ReducerOptions", {"KeepDims": True}))
    )


def _binary(code: str, operand: Callable[[Graph, int], int], activation: int = 0) -> Callable[[], Graph]:
    def build() -> Graph:
        g, x = _image()
        return _finish(
            g,
            g.op(code, [x, operand(g, x)], SHAPE, (f"{code.title()}Options", {"FusedActivationFunction": activation})),
        )

    build.__name__ = f"{code.lower()}_{operand.__name__}_act{activation}"
    return build


def vector(g: Graph, x: int) -> int:
    return g.const(_weights(3) + 2.0)


def nhwc4d(g: Graph, x: int) -> int:
    return g.const(_weights(1, 1, 1, 3) + 2.0)


def itself(g: Graph, x: int) -> int:
    return g.op("TANH", [x], SHAPE)


def _unary(code: str, options=None) -> Callable[[], Graph]:
    def build() -> Graph:
        g, x = _image()
        y = g.op(code, [x], SHAPE, options)
        zero = g.const(np.zeros(3, np.float32))  # an ADD after it, so that LOGISTIC is not the model's head
        return _finish(g, g.op("ADD", [y, zero], SHAPE, ("AddOptions", {})))

    build.__name__ = code.lower()
    return build


def prelu() -> Graph:
    g, x = _image()
    return _finish(g, g.op("PRELU", [x, g.const(_weights(1, 1, 3))], SHAPE))


def concatenation() -> Graph:
    g, x = _image()
    y = g.op("TANH", [x], SHAPE)
    return _finish(g, g.op("CONCATENATION", [x, y], (1, 8, 8, 6), ("ConcatenationOptions", {"Axis": -1})))


def _resize(code: str, size: tuple[int, int], align: bool, half: bool) -> Callable[[], Graph]:
    def build() -> Graph:
        g, x = _image()
        opts = "ResizeBilinearOptions" if code == "RESIZE_BILINEAR" else "ResizeNearestNeighborOptions"
        fields = {"AlignCorners": align, "HalfPixelCenters": half}
        return _finish(g, g.op(code, [x, g.const(np.array(size, np.int32))], (1, *size, 3), (opts, fields)))

    build.__name__ = f"{code.lower()}_{size[0]}x{size[1]}_{'align' if align else 'half' if half else 'asym'}"
    return build


def pad() -> Graph:
    g, x = _image()
    pads = g.const(np.array([[0, 0], [1, 2], [3, 0], [0, 0]], np.int32))
    return _finish(g, g.op("PAD", [x, pads], (1, 11, 11, 3)))


def reshape() -> Graph:
    g, x = _image()
    return _finish(g, g.op("RESHAPE", [x, g.const(np.array([1, 16, 4, 3], np.int32))], (1, 16, 4, 3)))


def dequantized_fp16_conv() -> Graph:
    g, x = _image()
    w16 = g.const(_weights(4, 1, 1, 3).astype(np.float16))
    w = g.op("DEQUANTIZE", [w16], (4, 1, 1, 3))
    opts = {"Padding": 1, "StrideW": 1, "StrideH": 1, "DilationWFactor": 1, "DilationHFactor": 1}
    return _finish(g, g.op("CONV_2D", [x, w, g.const(_weights(4))], (1, 8, 8, 4), ("Conv2DOptions", opts)))


def dequantized_int8_per_channel_conv() -> Graph:
    g, x = _image()
    q = RNG.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8)
    scale = np.array([0.01, 0.02, 0.005, 0.03], np.float32)
    wq = g.add(q.shape, q, quantization=(scale, np.zeros(4, np.int64), 0))
    w = g.op("DEQUANTIZE", [wq], (4, 3, 3, 3))
    opts = {"Padding": 0, "StrideW": 1, "StrideH": 1, "DilationWFactor": 1, "DilationHFactor": 1}
    return _finish(g, g.op("CONV_2D", [x, w, g.const(_weights(4))], (1, 8, 8, 4), ("Conv2DOptions", opts)))


def four_channel_input() -> Graph:
    g, x = _image((1, 8, 8, 4))
    opts = {"Padding": 0, "StrideW": 1, "StrideH": 1, "DilationWFactor": 1, "DilationHFactor": 1}
    return _finish(
        g, g.op("CONV_2D", [x, g.const(_weights(3, 3, 3, 4)), g.const(_weights(3))], SHAPE, ("Conv2DOptions", opts))
    )


CASES = [
    conv_same_stride2_relu6,
    conv_valid_dilated,
    conv_odd_same_stride2,
    depthwise_same_stride2_relu,
    transpose_conv,
    _pool("AVERAGE_POOL_2D", 2, 2, 0, 4),
    _pool("AVERAGE_POOL_2D", 3, 2, 0, 4),
    _pool("AVERAGE_POOL_2D", 8, 1, 1, 1),
    _pool("MAX_POOL_2D", 3, 2, 0, 4),
    mean_keepdims,
    _binary("ADD", vector, activation=1),
    _binary("SUB", itself),
    _binary("MUL", nhwc4d),
    _binary("DIV", vector, activation=3),
    _unary("RELU"),
    _unary("RELU6"),
    _unary("RELU_N1_TO_1"),
    _unary("HARD_SWISH"),
    _unary("LOGISTIC"),
    _unary("TANH"),
    _unary("LEAKY_RELU", ("LeakyReluOptions", {"Alpha": 0.2})),
    prelu,
    concatenation,
    _resize("RESIZE_BILINEAR", (16, 16), False, True),
    _resize("RESIZE_BILINEAR", (13, 11), True, False),
    _resize("RESIZE_BILINEAR", (16, 24), False, False),
    _resize("RESIZE_NEAREST_NEIGHBOR", (16, 16), False, False),
    _resize("RESIZE_NEAREST_NEIGHBOR", (16, 16), False, True),
    pad,
    reshape,
    dequantized_fp16_conv,
    dequantized_int8_per_channel_conv,
    four_channel_input,
]


def _litert(data: bytes, image: np.ndarray) -> np.ndarray:
    interpreter = Interpreter(model_content=data)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def _ours(data: bytes, image: np.ndarray, tmp_path: Path) -> np.ndarray:
    """The converted network on the RGB planes of `image` (extra input channels are fed zeros)."""
    path = tmp_path / "model.tflite"
    path.write_bytes(data)
    converted = convert(path)
    session = create_session(converted.model.SerializeToString())
    return session.run(None, {"image": image[..., :3].transpose(0, 3, 1, 2)})[0].transpose(0, 2, 3, 1)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_operator_matches_litert(case: Callable[[], Graph], tmp_path: Path) -> None:
    graph = case()
    shape = graph.tensors[graph.inputs[0]].shape
    image = RNG.uniform(-1, 1, shape).astype(np.float32)
    if shape[-1] > 3:
        image[..., 3:] = 0  # what the converter feeds the extra channels
    expected = _litert(serialize(graph), image)
    np.testing.assert_allclose(_ours(serialize(graph), image, tmp_path), expected, rtol=1e-4, atol=1e-4)


def test_every_operator_has_a_case() -> None:
    covered = {op.code for case in CASES for op in case().ops} | {CUSTOM_TRANSPOSE_CONV, "SOFTMAX"}
    assert set(OPERATORS) <= covered


def _head(code: str, channels: int) -> Graph:
    g, x = _image()
    opts = {"Padding": 0, "StrideW": 1, "StrideH": 1, "DilationWFactor": 1, "DilationHFactor": 1}
    y = g.op(
        "CONV_2D",
        [x, g.const(_weights(channels, 1, 1, 3)), g.const(_weights(channels))],
        (1, 8, 8, channels),
        ("Conv2DOptions", opts),
    )
    options = ("SoftmaxOptions", {"Beta": 1.5}) if code == "SOFTMAX" else None
    return _finish(g, g.op(code, [y], (1, 8, 8, channels), options))


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_single_channel_sigmoid_becomes_background_and_foreground(tmp_path: Path) -> None:
    graph = _head("LOGISTIC", 1)
    image = RNG.uniform(-1, 1, SHAPE).astype(np.float32)
    p = _litert(serialize(graph), image)[..., 0]
    logits = _ours(serialize(graph), image, tmp_path)
    probs = _softmax(logits)
    np.testing.assert_allclose(probs[..., 1], p, atol=1e-5)  # softmax of (−x/2, x/2) is (1 − p, p)
    assert np.array_equal(logits.argmax(-1) == 1, p > 0.5)
    assert convert(tmp_path / "model.tflite").foreground


def test_softmax_head_is_dropped_keeping_its_probabilities(tmp_path: Path) -> None:
    graph = _head("SOFTMAX", 5)
    image = RNG.uniform(-1, 1, SHAPE).astype(np.float32)
    expected = _litert(serialize(graph), image)
    np.testing.assert_allclose(_softmax(_ours(serialize(graph), image, tmp_path)), expected, atol=1e-5)


def _conv_transpose_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int) -> np.ndarray:
    """MediaPipe's Convolution2DTransposeBias by its definition: each input pixel scatters its kernel, then bias."""
    n, h, wd, _ = x.shape
    cout, kh, kw, _ = w.shape
    full = np.zeros((n, (h - 1) * stride + kh, (wd - 1) * stride + kw, cout), np.float64)
    for i in range(h):
        for j in range(wd):
            full[:, i * stride : i * stride + kh, j * stride : j * stride + kw] += np.einsum(
                "nc,okmc->nkmo", x[:, i, j], w
            )
    out_h, out_w = h * stride, wd * stride
    top, left = (full.shape[1] - out_h) // 2, (full.shape[2] - out_w) // 2
    return full[:, top : top + out_h, left : left + out_w] + b


@pytest.mark.parametrize("kernel", [2, 4])
def test_mediapipe_transposed_convolution_with_bias(kernel: int, tmp_path: Path) -> None:
    g, x = _image()
    w, b = _weights(2, kernel, kernel, 3), _weights(2)
    options = np.array([1, 2, 2], "<i4").tobytes()  # TfLitePadding SAME, stride W, stride H
    out = g.op(CUSTOM_TRANSPOSE_CONV, [x, g.const(w), g.const(b)], (1, 16, 16, 2), custom=options)
    image = RNG.uniform(-1, 1, SHAPE).astype(np.float32)
    ours = _ours(serialize(_finish(g, out)), image, tmp_path)
    np.testing.assert_allclose(ours, _conv_transpose_reference(image, w, b, 2), rtol=1e-4, atol=1e-4)


def test_unsupported_operator_is_named(tmp_path: Path) -> None:
    g, x = _image()
    path = tmp_path / "sqrt.tflite"
    path.write_bytes(serialize(_finish(g, g.op("SQRT", [x], SHAPE))))
    with pytest.raises(LivesegError, match="SQRT"):
        convert(path)


def test_not_a_tflite_file(tmp_path: Path) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(LivesegError, match="not a TFLite model"):
        convert(path)
