"""TF.js graph models: the TF.js peer of `liveseg bench browser` converts a network to one, the importer brings it
back as a bundle that agrees with TF.js itself; integer inputs and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from liveseg.data import NORMALIZATION
from liveseg.errors import LivesegError
from liveseg.export import imported, parity, tfjs
from liveseg.export.variants import ExportSettings
from liveseg.export.writer import BundleMeta
from liveseg.runtime.bundle import open_bundle
from liveseg.runtime.session import create_session

MEAN, STD = NORMALIZATION["mean"], NORMALIZATION["std"]
SIZE = (64, 96)
CLASSES = 5


def _conv_network(path: Path) -> Path:
    """A small MobileNet-like network, static 1×3×64×96 normalised input, logits at half resolution: the form of
    the bench's logits graph, with weights that give every class somewhere on street-like images. Its depthwise
    convolution reads a residual sum, as an FPN's smoothing convolutions do."""
    rng = np.random.default_rng(0)

    def weight(name: str, *shape: int, scale: float = 0.5) -> onnx.TensorProto:
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    weights = [weight("w1", 8, 3, 3, 3), weight("b1", 8, scale=0.1), weight("w2", 8, 1, 3, 3)]
    weights += [weight("b2", 8, scale=0.1), weight("w3", CLASSES, 8, 1, 1), weight("b3", CLASSES)]
    weights += [weight("w4", 8, 8, 1, 1), weight("b4", 8, scale=0.1)]
    weights += [numpy_helper.from_array(np.float32(v), n) for n, v in (("zero", 0), ("six", 6))]
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w4", "b4"], ["c4"], kernel_shape=[1, 1]),
        helper.make_node("Add", ["r1", "c4"], ["sum"], name="residual"),
        helper.make_node("Conv", ["sum", "w2", "b2"], ["c2"], kernel_shape=[3, 3], pads=[1] * 4, group=8),
        helper.make_node("Clip", ["c2", "zero", "six"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["logits"], kernel_shape=[1, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-mobilenet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, *SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, CLASSES, SIZE[0] // 2, SIZE[1] // 2])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def graph_model(tmp_path_factory: pytest.TempPathFactory, tfjs_venv: Path) -> tuple[Path, Path]:
    """(the ONNX network, its TF.js graph model made by the bench's TF.js peer conversion)."""
    from liveseg.bench import tfjs as peer

    work = tmp_path_factory.mktemp("tfjs-graph")
    pictures = []
    for i, image in enumerate(parity.synthetic_images(2, *SIZE, seed=1)):
        pictures.append(work / f"calibration-{i}.png")
        Image.fromarray(image).save(pictures[-1])
    network = _conv_network(work / "tiny.onnx")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIVESEG_CACHE", str(work / "cache"))
        model_dir = peer.convert(network, tfjs_venv, pictures)
    return network, model_dir / "model.json"


def _meta() -> BundleMeta:
    return BundleMeta(
        name="tfjs-graph",
        model={"name": "onnx", "kwargs": {}},
        dataset="custom",
        classes=[f"class{i}" for i in range(CLASSES)],
        palette=[[40 * i, 0, 0] for i in range(CLASSES)],
        ignore_index=255,
        normalization={"mean": MEAN, "std": STD},
        source={"imported": "model.json", "format": "tfjs-graph-model"},
    )


def test_the_bench_peers_graph_model_imports_back_with_parity_against_tfjs(
    graph_model: tuple[Path, Path], tfjs_venv: Path, tmp_path: Path
) -> None:
    original, model_json = graph_model
    network = tfjs.load(model_json, tfjs_venv, tmp_path, MEAN, STD)
    assert network.fixed_size == SIZE  # the peer's static 1×64×96×3 input, made NCHW by tf2onnx
    against_tfjs = tfjs.reference(model_json, tfjs_venv, MEAN, STD)
    settings = ExportSettings(sizes=[SIZE], precisions=["fp32", "fp16"], no_data=True, parity_images=4, calib_images=2)
    result = imported.import_bundle(network, tmp_path / "bundle", settings, _meta(), original=against_tfjs)
    assert result.out is not None and not result.failed and not result.warnings
    bundle = open_bundle(tmp_path / "bundle")
    records = {(v.precision, v.graph): v.parity for v in bundle.manifest.variants}
    assert records[("fp32", "labels")]["pixel_agreement"] >= 0.999
    assert records[("fp32", "logits")]["pixel_agreement"] >= 0.999  # the WebGL variant: the peer's model is static

    # Closing the loop: the bundle against TF.js and against the ONNX network the peer started from.
    batch = parity.stack(parity.synthetic_images(3, *SIZE, seed=7), *SIZE)
    labels = create_session(bundle.variant("fp32").path).run(["labels"], {"image": batch})[0]
    from_tfjs = against_tfjs(batch)
    assert len(np.unique(from_tfjs)) >= 3  # not a constant map, which would agree trivially
    assert parity.pixel_agreement(labels, from_tfjs) >= 0.999
    x = (batch.transpose(0, 3, 1, 2) / np.float32(255) - np.float32(MEAN)[:, None, None]) / np.float32(STD)[
        :, None, None
    ]
    start = create_session(original)
    logits = np.concatenate([start.run(None, {"input": image[None].astype(np.float32)})[0] for image in x])
    assert parity.pixel_agreement(labels, parity.decode_logits(logits, *SIZE)) >= 0.999


def test_the_peer_keeps_a_depthwise_convolution_after_a_sum_depthwise(tmp_path: Path) -> None:
    """Without the replacement, onnx2tf makes it a grouped convolution, which TF.js cannot run: the parity test
    above runs the converted model in TF.js."""
    from liveseg.bench import tfjs as peer

    fixes = peer.depthwise_after_add(_conv_network(tmp_path / "tiny.onnx"))
    assert [(f["op_name"], f["post_process_transpose_perm"]) for f in fixes] == [("residual", [0, 2, 3, 1])]


def test_integer_pixel_inputs_take_the_rounded_float_values(tmp_path: Path) -> None:
    """TF.js's DeepLab graphs take int32 pixels: liveseg feeds floats, which are rounded, then cast."""
    image = helper.make_tensor_value_info("image:0", TensorProto.INT32, [1, 3, 2, 2])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 2, 2])
    graph = helper.make_graph(
        [helper.make_node("Cast", ["image:0"], ["out"], to=TensorProto.FLOAT)], "g", [image], [out]
    )
    path = tmp_path / "int.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    tfjs._float_input(path)
    pixels = np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2) * 23
    fed = pixels / 255 / np.float32(1 / 255)  # what the bundle's pre-processing computes, off by rounding
    got = create_session(path).run(None, {"image:0": fed.astype(np.float32)})[0]
    np.testing.assert_array_equal(got, pixels)


def test_resizes_come_out_at_the_sizes_tfjs_resizes_to(tmp_path: Path) -> None:
    """tf2onnx writes ResizeBilinear 3×3 → 5×6 as scales (5/3, 2), which ONNX's shape inference floors to 4×6:
    onnxruntime then refuses to load the graph that adds it to a 5×6 tensor (DDRNet's branches do)."""
    small = helper.make_tensor_value_info("small", TensorProto.FLOAT, [1, 2, 3, 3])
    large = helper.make_tensor_value_info("large", TensorProto.FLOAT, [1, 2, 5, 6])
    out = helper.make_tensor_value_info("sum", TensorProto.FLOAT, None)
    scales = numpy_helper.from_array(np.array([1, 1, 5 / 3, 2], np.float32), "scales")
    roi = numpy_helper.from_array(np.array([], np.float32), "roi")
    nodes = [
        helper.make_node("Resize", ["small", "roi", "scales"], ["up"], mode="linear"),
        helper.make_node("Add", ["up", "large"], ["sum"]),
    ]
    graph = helper.make_graph(nodes, "g", [small, large], [out], [scales, roi])
    path = tmp_path / "resize.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    with pytest.raises(Exception, match="Incompatible dimensions"):
        create_session(path)
    tfjs._exact_resize_scales(path)
    feeds = {"small": np.ones((1, 2, 3, 3), np.float32), "large": np.zeros((1, 2, 5, 6), np.float32)}
    np.testing.assert_allclose(create_session(path).run(None, feeds)[0], 1.0)
    assert [i.name for i in onnx.load(str(path)).graph.initializer] == ["roi", "up/scales"]


def test_reshapes_of_a_batch_one_graph_keep_the_batch(tmp_path: Path) -> None:
    """onnx2tf and TF.js fix the batch at 1 (`Reshape(x, [1, 4])`); the labels graph runs any batch."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 1, 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    shape = numpy_helper.from_array(np.array([1, 4], np.int64), "shape")
    graph = helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["y"])], "g", [x], [y], [shape])
    path = tmp_path / "reshape.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    tfjs._batch_free_reshapes(path)
    model = onnx.load(str(path))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"  # as the labels graph declares it
    batch = np.arange(12, dtype=np.float32).reshape(3, 4, 1, 1)
    np.testing.assert_array_equal(
        create_session(model.SerializeToString()).run(None, {"x": batch})[0], batch[..., 0, 0]
    )
    assert [i.name for i in model.graph.initializer] == ["y/shape"]


def test_files_that_are_no_tfjs_model_are_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text(json.dumps({"classes": []}), encoding="utf-8")
    with pytest.raises(LivesegError, match=r"has no modelTopology and weightsManifest; pass a TF\.js model's"):
        tfjs.read(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(LivesegError, match=r"is not a readable TF\.js model\.json"):
        tfjs.read(tmp_path / "broken.json")
    (tmp_path / "saved.json").write_text(
        json.dumps({"format": "saved-model", "modelTopology": {}, "weightsManifest": []}), encoding="utf-8"
    )
    with pytest.raises(LivesegError, match=r"is a TF\.js 'saved-model'; liveseg imports layers and graph models"):
        tfjs.read(tmp_path / "saved.json")
