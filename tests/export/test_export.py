"""`liveseg export` on a really trained checkpoint: the bundle contract, the graphs, parity, val mIoU."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from liveseg import models
from liveseg.data import get_dataset
from liveseg.data.loader import to_tensor
from liveseg.evaluate.metrics import ConfusionMatrix
from liveseg.export import parity, webgl
from liveseg.export.wrap import POST
from liveseg.models import checkpoint as ckpt_io
from liveseg.runtime import load, open_bundle

SIZE = (96, 128)  # the size the session bundle is exported at (conftest)


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _val_images(camvid_root: Path, count: int) -> list[np.ndarray]:
    val = get_dataset("camvid", "val", root=camvid_root)
    return [val[i][0] for i in parity.spread(len(val), count)]


def test_bundle_follows_the_contract(exported, checkpoint: Path) -> None:
    bundle = open_bundle(exported.root)
    bundle.verify()
    ckpt = ckpt_io.load(checkpoint)
    m = bundle.manifest
    assert m.name == "test-fast-scnn" and m.dataset == "camvid" and m.ignore_index == 11
    assert [c["name"] for c in bundle.classes] == ckpt["dataset"]["classes"]
    assert [c["color"] for c in bundle.classes] == [list(c) for c in ckpt["dataset"]["palette"]]
    params, gflops = models.complexity(ckpt_io.build_model(ckpt), SIZE)
    assert m.model == {"name": "fast_scnn", "kwargs": {}, "params": params, "gflops": round(gflops, 4)}
    assert m.default_variant == {"precision": "fp32", "height": SIZE[0], "width": SIZE[1]}
    assert [v.precision for v in bundle.variants] == ["fp32", "fp16", "int8"]
    for v in bundle.variants:
        assert re.fullmatch(rf"model-96x128-{v.precision}\.{v.sha256[:8]}\.onnx", v.file)
        assert v.bytes == v.path.stat().st_size
    sizes = {v.precision: v.bytes for v in bundle.variants}
    assert sizes["int8"] < sizes["fp16"] < sizes["fp32"]
    assert not [p for p in exported.root.iterdir() if p.name != "manifest.json" and p.suffix != ".onnx"]


def test_graphs_have_the_contract_io_and_run(exported, camvid_root: Path) -> None:
    images = np.stack(parity.stack(_val_images(camvid_root, 3), *SIZE))
    rgba = np.concatenate([images, np.full((*images.shape[:3], 1), 17, np.uint8)], axis=-1)
    for v in open_bundle(exported.root).variants:
        model = onnx.load(str(v.path))
        onnx.checker.check_model(model, full_check=True)
        assert {o.domain for o in model.opset_import} == {""}  # standard ops only: portable to onnxruntime-web
        assert model.opset_import[0].version >= 17
        assert "BatchNormalization" not in {n.op_type for n in model.graph.node}, "BN is folded into the convs"
        (inp,) = model.graph.input
        dims = [d.dim_value or d.dim_param for d in inp.type.tensor_type.shape.dim]
        assert inp.name == "image" and inp.type.tensor_type.elem_type == onnx.TensorProto.UINT8
        assert isinstance(dims[0], str) and dims[1:3] == list(SIZE) and isinstance(dims[3], str)
        assert [(o.name, o.type.tensor_type.elem_type) for o in model.graph.output] == [
            ("labels", onnx.TensorProto.UINT8),
            ("confidence", onnx.TensorProto.UINT8),
        ]
        labels, confidence = _session(v.path).run(None, {"image": images})
        labels4, _ = _session(v.path).run(None, {"image": rgba})
        assert labels.shape == confidence.shape == (3, *SIZE) and labels.dtype == np.uint8
        assert np.array_equal(labels, labels4), "alpha must be ignored"
        assert labels.max() < 11 and len(np.unique(labels)) > 1
        assert confidence.min() >= 255 // 11  # the top class of 11 has at least 1/11 of the probability


def test_in_graph_preprocessing_is_bit_exact(exported, camvid_root: Path, tmp_path: Path) -> None:
    """The normalised tensor the fp32 graph feeds its first layer equals training's, bit for bit."""
    fp32 = open_bundle(exported.root).variant("fp32")
    model = onnx.load(str(fp32.path))
    first_conv = next(n for n in model.graph.node if n.op_type == "Conv")
    sub = tmp_path / "pre.onnx"
    onnx.utils.extract_model(str(fp32.path), str(sub), ["image"], [first_conv.input[0]])
    images = np.stack(parity.stack(_val_images(camvid_root, 4), *SIZE))
    (ours,) = _session(sub).run(None, {"image": images})
    theirs = torch.stack([to_tensor(im) for im in images]).numpy()
    assert ours.dtype == np.float32 and np.array_equal(ours, theirs)


def test_fp32_matches_pytorch_on_real_images(exported, checkpoint: Path, camvid_root: Path) -> None:
    ckpt = ckpt_io.load(checkpoint)
    net = ckpt_io.build_model(ckpt)
    images = np.stack(parity.stack(_val_images(camvid_root, 6), *SIZE))
    x = torch.stack([to_tensor(im) for im in images])
    with torch.no_grad():
        logits = net.logits_and_aux(x)[0]
        up = torch.nn.functional.interpolate(logits, SIZE, mode="bilinear")
        top = torch.nn.functional.interpolate(logits.softmax(1).amax(1, keepdim=True), SIZE, mode="bilinear")
    ref_labels, ref_conf = up.argmax(1).numpy(), torch.round(top[:, 0] * 255).numpy()
    labels, confidence = _session(open_bundle(exported.root).variant("fp32").path).run(None, {"image": images})
    assert parity.pixel_agreement(labels, ref_labels) >= parity.MIN_AGREEMENT["fp32"]
    assert np.abs(confidence.astype(int) - ref_conf).max() <= 1


def test_parity_numbers_meet_the_thresholds(exported) -> None:
    variants = {v.precision: v for v in open_bundle(exported.root).variants}
    for precision in ("fp32", "fp16"):
        p = variants[precision].parity
        assert p["images"] == 8 and p["inputs"] == "camvid/val"
        assert p["pixel_agreement"] >= parity.MIN_AGREEMENT[precision]
    q = variants["int8"].parity
    assert q["miou_drop"] <= parity.MAX_INT8_MIOU_DROP
    assert q["miou"] == pytest.approx(variants["int8"].val_miou, abs=1e-6)
    assert q["reference_miou"] == pytest.approx(variants["fp32"].val_miou, abs=1e-6)
    assert f"{exported.eval_images} images" in q["miou_on"]
    for line in ("fp32", "fp16", "int8"):
        assert re.search(rf"96x128\s*│\s*{line}.*ok", exported.stdout), exported.stdout


def test_val_miou_is_what_the_runtime_scores(exported, camvid_root: Path) -> None:
    """The manifest's val mIoU is reproduced by the Python runtime (any image size in, same resizing)."""
    val = get_dataset("camvid", "val", root=camvid_root)
    bundle = open_bundle(exported.root)
    for precision in ("fp32", "int8"):
        segmenter = load(bundle, precision=precision)
        cm = ConfusionMatrix(11)
        for i in parity.spread(len(val), exported.eval_images):
            image, label = val[i]
            cm.update(label, segmenter.predict(image))
        expected = bundle.variant(precision).val_miou
        assert 0.08 < expected < 1, "the test model learned something, so parity is measured on real margins"
        assert cm.summary()["miou"] == pytest.approx(expected, abs=1e-6)


def test_webgl_logits_variant(exported, camvid_root: Path) -> None:
    """Float32 RGBA in, fixed shape, WebGL operators only; decoded, it gives the labels graph's class maps."""
    bundle = open_bundle(exported.root)
    (logits,) = bundle.logits
    assert next(e for e in bundle.manifest.variants if e.graph == "logits").precision == "fp32"
    assert re.fullmatch(rf"model-96x128-logits\.{logits.sha256[:8]}\.onnx", logits.file) and logits.size == SIZE
    assert bundle.manifest.outputs["logits"] == {"name": "logits", "dtype": "float32"}
    model = onnx.load(str(logits.path))
    onnx.checker.check_model(model, full_check=True)
    assert {n.op_type for n in model.graph.node} <= webgl.WEBGL_OPS and not webgl.problems(logits.path)
    (inp,), (out,) = model.graph.input, model.graph.output
    dims = {v.name: [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim] for v in (inp, out)}
    assert inp.name == "image" and inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert out.name == "logits" and out.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert dims == {"image": [1, *SIZE, 4], "logits": [1, 11, SIZE[0] // 8, SIZE[1] // 8]}  # Fast-SCNN: stride 8
    assert logits.parity["images"] == 8 and logits.parity["inputs"] == "camvid/val"
    assert logits.parity["pixel_agreement"] >= parity.MIN_LOGITS_AGREEMENT
    assert re.search(r"96x128\s*│\s*fp32 logits.*ok", exported.stdout), exported.stdout
    # Decoded as the web app decodes it (alpha 0 here: it is ignored), it gives the fp32 labels graph's maps.
    images = np.stack(parity.stack(_val_images(camvid_root, 5)[1::2], *SIZE))
    (labels,) = _session(bundle.variant("fp32").path).run(["labels"], {"image": images})
    rgba = np.concatenate([images, np.zeros((*images.shape[:3], 1), np.uint8)], axis=-1).astype(np.float32)
    session = _session(logits.path)
    decoded = np.concatenate([parity.decode_logits(session.run(None, {"image": im[None]})[0], *SIZE) for im in rgba])
    assert parity.pixel_agreement(decoded, labels) >= parity.MIN_LOGITS_AGREEMENT


def test_files_carry_no_exporter_metadata(exported) -> None:
    """Stack traces and module paths of the exporting machine stay out of the shipped files."""
    for variant in open_bundle(exported.root).all_variants:
        model = onnx.load(str(variant.path))
        assert not any(n.metadata_props or n.doc_string for n in model.graph.node)
        assert b"stack_trace" not in variant.path.read_bytes()


def test_fp16_and_int8_graphs_are_what_they_claim(exported) -> None:
    bundle = open_bundle(exported.root)
    fp16 = onnx.load(str(bundle.variant("fp16").path))
    init_types = {i.name: i.data_type for i in fp16.graph.initializer}
    convs = [n for n in fp16.graph.node if n.op_type == "Conv"]
    assert {init_types[n.input[1]] for n in convs if not n.name.startswith(POST)} == {onnx.TensorProto.FLOAT16}
    # The decoding's upsampling convolutions stay float32, so the arg-max sees float32 logits.
    assert {init_types[n.input[1]] for n in convs if n.name.startswith(POST)} == {onnx.TensorProto.FLOAT}
    # Normalisation constants stay float32 and no float32→float16→float32 round trip is left behind.
    constant_subs = [n for n in fp16.graph.node if n.op_type == "Sub" and n.input[1] in init_types]
    assert constant_subs and all(init_types[n.input[1]] == onnx.TensorProto.FLOAT for n in constant_subs)
    casts = [n for n in fp16.graph.node if n.op_type == "Cast"]
    producers = {o: n for n in fp16.graph.node for o in n.output}
    assert not [c for c in casts if producers.get(c.input[0]) in casts]
    int8 = onnx.load(str(bundle.variant("int8").path))
    ops = [n.op_type for n in int8.graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    inits = {i.name: i for i in int8.graph.initializer}
    int8_weights = {name for name, t in inits.items() if t.data_type == onnx.TensorProto.INT8}
    weights = [n for n in int8.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in int8_weights]
    assert weights and all(len(inits[n.input[1]].dims) == 1 and inits[n.input[1]].dims[0] > 1 for n in weights)


def test_export_requires_data_unless_told(liveseg_cli: str, checkpoint: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [liveseg_cli, "export", str(checkpoint), "--size", "64x64", "--out", str(tmp_path / "b"),
         "--data-root", str(tmp_path / "nowhere")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--no-data" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "b").exists()


def test_export_refuses_to_replace_a_directory_that_is_not_a_bundle(
    liveseg_cli: str, checkpoint: Path, tmp_path: Path
) -> None:
    (tmp_path / "keep.txt").write_text("precious")
    proc = subprocess.run(
        [liveseg_cli, "export", str(checkpoint), "--out", str(tmp_path), "--no-data"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and "not a bundle" in proc.stderr
    assert (tmp_path / "keep.txt").read_text() == "precious"


def test_a_bundle_exports_again_as_the_same_network(exported, liveseg_cli: str, camvid_root: Path, tmp_path) -> None:
    """`liveseg export BUNDLE`: the network recovered from the fp32 graph gives the same class maps."""
    out = tmp_path / "again"
    proc = subprocess.run(
        [liveseg_cli, "export", str(exported.root), "--size", f"{SIZE[0]}x{SIZE[1]}", "--precision", "fp32",
         "--no-webgl", "--data-root", str(camvid_root), "--parity-images", "4", "--eval-images", "0",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first, again = open_bundle(exported.root), open_bundle(out)
    assert again.manifest.name == first.manifest.name and again.manifest.training == first.manifest.training
    images = np.stack(parity.stack(_val_images(camvid_root, 4), *SIZE))
    (want, _), (got, _) = (_session(b.variant("fp32").path).run(None, {"image": images}) for b in (first, again))
    assert parity.pixel_agreement(got, want) >= 0.9999


def test_only_bundles_of_liveseg_networks_export_again(liveseg_cli: str, tmp_path: Path) -> None:
    from liveseg.runtime.manifest import Manifest

    bundle = tmp_path / "imported"
    shutil.copytree(open_bundle("default").root, bundle)
    manifest = Manifest.load(bundle / "manifest.json")
    path = bundle / "manifest.json"
    Manifest.from_dict(manifest.to_dict() | {"source": {"origin": "elsewhere"}}, path).dump(path)
    proc = subprocess.run(
        [liveseg_cli, "export", str(bundle), "--no-data", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and "holds no network liveseg trained" in proc.stderr
    assert not (tmp_path / "out").exists()
