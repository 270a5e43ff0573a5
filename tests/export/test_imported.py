"""`liveseg import`: an ONNX network made here (the form other toolkits export) becomes a parity-checked bundle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from liveseg.data import NORMALIZATION, get_info
from liveseg.errors import LivesegError
from liveseg.export import imported, parity
from liveseg.export.settings import ExportSettings
from liveseg.export.writer import BundleMeta
from liveseg.runtime.bundle import open_bundle
from liveseg.runtime.session import create_session

MEAN, STD = NORMALIZATION["mean"], NORMALIZATION["std"]


def _meta(classes: int = 5) -> BundleMeta:
    info = get_info("camvid")
    return BundleMeta(
        name="tiny-imported",
        model={"name": "onnx", "kwargs": {}},
        dataset="custom",
        classes=info.classes[:classes],
        palette=info.palette[:classes],
        ignore_index=255,
        normalization={"mean": MEAN, "std": STD},
        source={"imported": "tiny.onnx"},
    )


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory, make_onnx) -> Path:
    return make_onnx(tmp_path_factory.mktemp("onnx") / "tiny.onnx")


def test_import_matches_the_original_graph_on_real_images(tiny_onnx: Path, tmp_path: Path, camvid_root: Path) -> None:
    from PIL import Image

    network = imported.load_network(tiny_onnx, MEAN, STD)
    settings = ExportSettings(
        sizes=[(96, 128)], precisions=["fp32", "fp16"], no_data=True, parity_images=4, calib_images=4
    )
    result = imported.import_bundle(network, tmp_path / "bundle", settings, _meta())
    assert result.out is not None and not result.failed
    bundle = open_bundle(tmp_path / "bundle")
    assert bundle.manifest.model["gflops"] > 0 and bundle.manifest.source == {"imported": "tiny.onnx"}
    assert {v.precision for v in bundle.variants} == {"fp32", "fp16"}

    # The bundle's uint8-in, labels-out graph against the original file fed by hand-written NumPy pre/post.
    images = [np.asarray(Image.open(p).convert("RGB")) for p in sorted((camvid_root / "val").iterdir())[:3]]
    batch = parity.stack(images, 96, 128)
    session = create_session(bundle.variant("fp32").path)
    labels, confidence = session.run(["labels", "confidence"], {"image": batch})
    original = create_session(tiny_onnx)
    x = (batch.transpose(0, 3, 1, 2).astype(np.float32) / 255 - np.float32(MEAN).reshape(1, 3, 1, 1)) / np.float32(
        STD
    ).reshape(1, 3, 1, 1)
    logits = original.run(None, {"pixel_values": x})[0]
    assert logits.shape == (3, 5, 24, 32)
    assert parity.pixel_agreement(labels, parity.decode_logits(logits, 96, 128)) >= 0.999
    assert confidence.dtype == np.uint8 and confidence.shape == (3, 96, 128) and confidence.min() >= 255 // 5 - 1


def test_named_channel_axis_is_fixed_to_three(tiny_onnx: Path) -> None:
    """The fixture has the form of the Optimum exports `liveseg pull` fetches (SegFormer from Xenova)."""
    original = onnx.load(str(tiny_onnx))
    assert [d.dim_param for d in original.graph.input[0].type.tensor_type.shape.dim] == [
        "batch_size",
        "num_channels",
        "height",
        "width",
    ]
    assert imported._opset(original) == 14
    network = imported.load_network(tiny_onnx, MEAN, STD)
    assert imported._dims(network.model.graph.input[0]) == ["batch_size", 3, "height", "width"]


def test_nhwc_logits_and_rgba_input(tmp_path: Path, make_onnx) -> None:
    network = imported.load_network(make_onnx(tmp_path / "nhwc.onnx", layout="nhwc"), MEAN, STD, layout="nhwc")
    settings = ExportSettings(sizes=[(64, 64)], precisions=["fp32"], no_data=True, parity_images=2, calib_images=2)
    result = imported.import_bundle(network, tmp_path / "bundle", settings, _meta())
    assert result.out is not None
    session = create_session(open_bundle(tmp_path / "bundle").variant().path)
    rgba = np.random.default_rng(0).integers(0, 256, (1, 64, 64, 4), dtype=np.uint8)
    rgb_labels = session.run(["labels"], {"image": np.ascontiguousarray(rgba[..., :3])})[0]
    assert np.array_equal(session.run(["labels"], {"image": rgba})[0], rgb_labels)


def test_class_count_must_match(tiny_onnx: Path, tmp_path: Path) -> None:
    network = imported.load_network(tiny_onnx, MEAN, STD)
    settings = ExportSettings(sizes=[(64, 64)], no_data=True)
    with pytest.raises(LivesegError, match="outputs 5 classes but the class list has 11"):
        imported.import_bundle(network, tmp_path / "bundle", settings, _meta(11))


def _graph_with(node: onnx.NodeProto, inputs: list, opset_imports: list) -> onnx.ModelProto:
    graph = helper.make_graph(
        [node], "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])]
    )
    return helper.make_model(graph, opset_imports=opset_imports)


def test_unsupported_graphs_are_one_sentence(tmp_path: Path) -> None:
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    custom = _graph_with(
        helper.make_node("FancyUpsample", ["x"], ["y"], domain="com.example"),
        [image],
        [helper.make_opsetid("", 18), helper.make_opsetid("com.example", 1)],
    )
    onnx.save(custom, tmp_path / "custom.onnx")
    with pytest.raises(LivesegError, match=r"com\.example::FancyUpsample.*does not implement"):
        imported.load_network(tmp_path / "custom.onnx", MEAN, STD)

    unknown = _graph_with(helper.make_node("NotAnOp", ["x"], ["y"]), [image], [helper.make_opsetid("", 18)])
    onnx.save(unknown, tmp_path / "unknown.onnx")
    with pytest.raises(LivesegError, match="uses the operator 'NotAnOp'"):
        imported.load_network(tmp_path / "unknown.onnx", MEAN, STD)

    gray = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])
    onnx.save(
        _graph_with(helper.make_node("Identity", ["x"], ["y"]), [gray], [helper.make_opsetid("", 18)]),
        tmp_path / "g.onnx",
    )
    with pytest.raises(LivesegError, match=r"float32 1×1×8×8.*takes a float32 N×3×H×W"):
        imported.load_network(tmp_path / "g.onnx", MEAN, STD)

    (tmp_path / "junk.onnx").write_bytes(b"not a protobuf at all")
    with pytest.raises(LivesegError, match="is not a readable ONNX file"):
        imported.load_network(tmp_path / "junk.onnx", MEAN, STD)


def test_complexity_counts_convolutions_and_matmuls(tiny_onnx: Path) -> None:
    network = imported.load_network(tiny_onnx, MEAN, STD)
    params, gflops = imported.complexity(network, (64, 64))
    patch = 2 * 16 * 16 * 16 * 3 * 7 * 7  # the 7x7 stride-4 conv alone: 16x16 outputs, 16 channels
    assert params > 1000 and gflops * 1e9 > patch
    assert json.dumps({"gflops": gflops})  # a plain float for the manifest
