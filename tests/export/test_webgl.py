"""Fitting a graph to onnxruntime-web's WebGL backend: same values out, only forms that backend runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from liveseg.export import webgl


def _unfit_graph(path: Path) -> None:
    """Each opset-18 form the rewrites cover: ReduceMean with axes as input, ceil-mode AveragePool (sizes
    where ceil and floor differ), Resize by sizes, and a strided 1×1 Conv."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
        numpy_helper.from_array(np.array([1, 4, 10, 12], np.int64), "sizes"),
        numpy_helper.from_array(rng.standard_normal((8, 4, 1, 1)).astype(np.float32), "w"),
    ]
    nodes = [
        helper.make_node("ReduceMean", ["x", "axes"], ["mean"], keepdims=1),
        helper.make_node("AveragePool", ["x"], ["pool"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        helper.make_node("Resize", ["pool", "", "", "sizes"], ["up"], mode="linear"),
        helper.make_node("Add", ["up", "mean"], ["y"]),
        helper.make_node("Conv", ["x", "w"], ["z"], strides=[2, 2]),
    ]
    graph = helper.make_graph(
        nodes,
        "unfit",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 10, 12])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 10, 12]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 8, 5, 6]),
        ],
        inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))


def _run(path: Path, x: np.ndarray) -> list[np.ndarray]:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})


def test_fit_keeps_the_values_and_leaves_no_problems(tmp_path: Path) -> None:
    src, dst = tmp_path / "unfit.onnx", tmp_path / "fit.onnx"
    _unfit_graph(src)
    assert webgl.problems(src) == ["operators ReduceMean", "AveragePool in ceil mode"]
    webgl.fit(src, dst)
    assert webgl.problems(dst) == []
    ops = [n.op_type for n in onnx.load(str(dst)).graph.node]
    assert ops == ["GlobalAveragePool", "AveragePool", "Resize", "Add", "Conv"]
    x = np.random.default_rng(1).standard_normal((1, 4, 10, 12)).astype(np.float32)
    for ours, theirs in zip(_run(dst, x), _run(src, x), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
