"""`liveseg pull` and `liveseg import` as users run them: a subprocess, real files, one sentence per failure."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def models(tmp_path: Path) -> dict[str, str]:
    """An environment whose models folder and download cache are the test's own."""
    return {"LIVESEG_MODELS": str(tmp_path / "models"), "LIVESEG_CACHE": str(tmp_path / "cache")}


def test_list_shows_voc_ade20k_and_cityscapes_with_licences(cli, models) -> None:
    proc = cli("pull", "--list", env=models)
    assert proc.returncode == 0, proc.stderr
    for name in (
        "voc-lraspp-mobilenetv3",
        "voc-deeplabv3-mobilenetv3",
        "ade20k-segformer-b0",
        "cityscapes-segformer-b0",
    ):
        assert name in proc.stdout
    assert "BSD-3-Clause" in proc.stdout and "non-commercial (needs --accept-licence)" in proc.stdout


def test_list_fits_80_columns_with_sizes_licences_and_one_flop_unit(cli, models) -> None:
    proc = cli("pull", "--list", env={**models, "COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    text = " ".join(proc.stdout.split())
    for shown in ("voc-deeplabv3-mobilenetv3 44.4 MB", "voc-lraspp-mobilenetv3 13.1 MB", "style-candy 6.7 MB"):
        assert shown in text
    assert "licence: NVIDIA SegFormer licence, non-commercial (needs --accept-licence)" in text
    assert text.count("2 FLOPs") == 1 and "GFLOPs ≈12.6" in text and "GFLOPs ≈35.3" in text


def test_list_json_gives_scripts_every_entry(cli, models) -> None:
    proc = cli("pull", "--list", "--json", env=models)
    assert proc.returncode == 0, proc.stderr
    entries = {e["name"]: e for e in json.loads(proc.stdout)}
    deeplab = entries["voc-deeplabv3-mobilenetv3"]
    assert deeplab["url"] == "https://download.pytorch.org/models/deeplabv3_mobilenet_v3_large-fc3c493d.pth"
    assert deeplab["bytes"] == 44_356_159 and deeplab["converter"] == "torchvision" and deeplab["classes"] == "voc"
    assert entries["ade20k-segformer-b0"]["accept_licence"] and entries["style-candy"]["classes"] is None
    assert all(re.fullmatch("[0-9a-f]{64}", e["sha256"] or "") for e in entries.values())  # every digest pinned
    assert entries["mediapipe-hair-segmenter"]["converter"] == "tflite" and entries["mediapipe-hair-segmenter"]["notes"]


def _blocking(*modules: str, pin: tuple[str, str | None] | None = None, patch: str = "") -> str:
    """`liveseg ARGS` in a Python where `modules` cannot be imported (as in tests/runtime/test_torch_free.py);
    `pin` (entry, sha256 or None) re-pins a registered model to a stand-in's digest, or unpins it; `patch` is code
    run before the command."""
    return f"""
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {modules!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
sys.meta_path.insert(0, _Block())
if {pin!r}:
    import dataclasses
    from liveseg import sources
    from liveseg.export import pretrained
    name, digest = {pin!r}
    entry = pretrained.PRETRAINED[name]
    source = dataclasses.replace(entry.source, sha256=digest)
    sources.SOURCES[source.name] = source
    pretrained.PRETRAINED[name] = dataclasses.replace(entry, source=source)
{patch}
from liveseg.cli import main
sys.argv = ["liveseg", *sys.argv[1:]]
main()
"""


# Without PyTorch or onnx at all; and a serve-only install, which has onnx (TFLite and ONNX conversion) but no PyTorch.
WITHOUT_TORCH = _blocking("torch", "onnx", "onnxscript", "onnxconverter_common")
SERVE_ONLY = _blocking("torch", "torchvision", "onnxscript")


def _without_torch(*args: str, env: dict[str, str], script: str = WITHOUT_TORCH) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "400", **env}
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120, env=full_env
    )


def test_without_torch_list_works_and_torchvision_entries_name_the_extra(one_error, models, http_files) -> None:
    proc = _without_torch("pull", "--list", env=models)
    assert proc.returncode == 0, proc.stderr
    assert "voc-lraspp-mobilenetv3" in proc.stdout
    proc = _without_torch("pull", "voc-lraspp-mobilenetv3", "--from", f"{http_files.url}/tv", env=models)
    assert "needs the torch package" in one_error(proc) and "pip install 'liveseg[train]'" in proc.stderr
    assert http_files.requests == []  # refused before anything was downloaded


def test_segment_with_a_model_not_yet_pulled_says_how_to_pull_it(
    one_error, models, street: Path, tmp_path: Path
) -> None:
    args = ("segment", str(street), "--model", "cityscapes-segformer-b0", "--out", str(tmp_path / "out"))
    proc = _without_torch(*args, env=models)
    command = "`liveseg pull cityscapes-segformer-b0 --accept-licence`"
    assert f"'cityscapes-segformer-b0' is not pulled yet; run {command} first." in one_error(proc)


def test_unknown_model_and_unaccepted_licence(cli, one_error, models) -> None:
    assert "Unknown pretrained model 'nope'" in one_error(cli("pull", "nope", env=models))
    text = one_error(cli("pull", "ade20k-segformer-b0", env=models))
    assert "NVIDIA Source Code License for SegFormer" in text and "pull again with --accept-licence" in text
    assert not Path(models["LIVESEG_CACHE"]).exists()  # nothing was downloaded


def test_unreachable_mirror_is_one_sentence(cli, models, http_files) -> None:
    proc = cli("pull", "voc-lraspp-mobilenetv3", "--from", f"{http_files.url}/missing/", env=models)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "licence: BSD-3-Clause" in proc.stderr  # what is about to be downloaded is said first
    error = " ".join(proc.stderr.split("error: ", 1)[1].split())
    assert "HTTP 404" in error and error.endswith("naming a reachable copy.")


def test_import_then_segment_by_name(cli, models, make_onnx, tmp_path: Path, street: Path) -> None:
    source = make_onnx(tmp_path / "net.onnx", classes=11)
    proc = cli(
        "import",
        source,
        "--name",
        "my-net",
        "--classes",
        "camvid",
        "--size",
        "64x96",
        "--precision",
        "fp32,fp16",
        env=models,
    )
    assert proc.returncode == 0, proc.stderr
    assert (Path(models["LIVESEG_MODELS"]) / "my-net" / "manifest.json").is_file()
    # Piped, the steps are plain lines as they happen (no live display a pipe would never show).
    steps = [line for line in proc.stderr.splitlines() if line.startswith("[") and " s] " in line]
    assert any("64x96: composing the labels graph" in line for line in steps), proc.stderr
    out = tmp_path / "masks"
    proc = cli("segment", street, "--model", "my-net", "--out", out, env=models)
    assert proc.returncode == 0, proc.stderr
    mask = np.asarray(Image.open(next(out.glob("*.png"))))
    assert mask.shape[:2] == np.asarray(Image.open(street)).shape[:2]


def test_import_refuses_bad_files_in_one_sentence(cli, one_error, models, make_onnx, tmp_path: Path) -> None:
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])
    node = helper.make_node("FancyUpsample", ["x"], ["y"], domain="com.example")
    graph = helper.make_graph([node], "g", [image], [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.example", 1)])
    onnx.save(model, tmp_path / "custom.onnx")
    text = one_error(cli("import", tmp_path / "custom.onnx", "--name", "x", "--classes", "voc", env=models))
    assert "com.example::FancyUpsample" in text
    five = make_onnx(tmp_path / "five.onnx", classes=5)
    text = one_error(cli("import", five, "--name", "x", "--classes", "voc", "--size", "64x64", env=models))
    assert "outputs 5 classes but the class list has 21" in text
    text = one_error(cli("import", five, "--name", "x", "--classes", "nope", env=models))
    assert "--classes 'nope' is neither a dataset" in text


# A small Keras network saved as a TF.js layers model, as the seeds' users hold them: it rescales 0..255 pixels
# itself (MobileNet's convention) and has a bias-less depthwise convolution (the TF.js converter's fused `NoOp`).
KERAS_LAYERS_MODEL = """
import sys, types
sys.modules["tensorflow_decision_forests"] = types.ModuleType("tensorflow_decision_forests")
import tf_keras as keras
import tensorflowjs

keras.utils.set_random_seed(0)
init = [keras.initializers.RandomNormal(stddev=0.3, seed=i) for i in range(4)]
image = keras.Input((None, None, 3))
x = keras.layers.Rescaling(1 / 127.5, offset=-1)(image)
x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", kernel_initializer=init[0],
                        bias_initializer=init[1])(x)
x = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, activation="relu6",
                                 depthwise_initializer=init[2])(x)
x = keras.layers.Conv2D(5, 1, kernel_initializer=init[3])(x)
tensorflowjs.converters.save_keras_model(keras.Model(image, x), sys.argv[1])
"""


@pytest.fixture(scope="module")
def layers_model(tmp_path_factory: pytest.TempPathFactory, tfjs_venv: Path) -> Path:
    from liveseg import tfenv

    out = tmp_path_factory.mktemp("tfjs-layers")
    tfenv.run([tfenv.python(tfjs_venv), "-c", KERAS_LAYERS_MODEL, out], out, "Saving the Keras model", 600)
    return out / "model.json"


def test_import_a_tfjs_layers_model_agrees_with_tfjs(cli, models, layers_model: Path, tfjs_venv: Path) -> None:
    from liveseg.export import parity, tfjs
    from liveseg.runtime.bundle import open_bundle
    from liveseg.runtime.session import create_session

    args = ["--name", "keras-net", "--classes", "a,b,c,d,e", "--size", "64x96", "--precision", "fp32,fp16"]
    proc = cli("import", layers_model, *args, "--tfjs-venv", tfjs_venv, env=models)
    assert proc.returncode == 0, proc.stderr
    bundle = open_bundle(Path(models["LIVESEG_MODELS"]) / "keras-net")
    assert bundle.manifest.source == {"imported": "model.json", "format": "tfjs-layers-model", "layout": "nchw"}
    assert bundle.manifest.normalization == {"mean": [0.0] * 3, "std": [1 / 255] * 3}  # TF.js's 0..255 pixels
    assert all(v.parity["pixel_agreement"] >= 0.999 for v in bundle.manifest.variants if v.precision == "fp32")

    # Against TF.js on images the import did not check.
    batch = parity.stack(parity.synthetic_images(3, 64, 96, seed=5), 64, 96)
    labels = create_session(bundle.variant("fp32").path).run(["labels"], {"image": batch})[0]
    expected = tfjs.reference(layers_model, tfjs_venv, *tfjs.PIXELS)(batch)
    assert len(np.unique(expected)) >= 3  # not a constant map, which would agree trivially
    assert parity.pixel_agreement(labels, expected) >= 0.999


def test_import_tfjs_without_the_conversion_environment_says_how_to_create_it(
    cli, one_error, models, tmp_path: Path
) -> None:
    model_json = tmp_path / "model.json"
    model_json.write_text(json.dumps({"format": "graph-model", "modelTopology": {}, "weightsManifest": []}))
    venv = tmp_path / "no-venv"
    text = one_error(cli("import", model_json, "--name", "x", "--classes", "voc", "--tfjs-venv", venv, env=models))
    assert text.endswith(
        f"create it with `liveseg setup-tfjs --venv {venv}` (a few minutes, about 2.5 GB), then try again."
    )


def test_import_tflite_takes_its_normalisation_from_the_metadata(cli, models, tmp_path: Path) -> None:
    from tests.export.tflite_models import metadata_buffer, segmenter, serialize

    path = tmp_path / "m.tflite"
    path.write_bytes(serialize(segmenter((32, 32), 3, metadata=metadata_buffer([127.5], [127.5]))[0]))
    proc = cli("import", path, "--name", "meta", "--classes", "a,b,c", "--precision", "fp32", env=models)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((Path(models["LIVESEG_MODELS"]) / "meta" / "manifest.json").read_text())
    assert manifest["normalization"] == {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}


def test_import_tflite_refusals_are_one_sentence(cli, one_error, models, tmp_path: Path) -> None:
    from tests.export.tflite_models import Graph, segmenter, serialize

    g = Graph()
    x = g.add((1, 32, 32, 3))
    g.inputs, g.outputs = [x], [g.op("SQRT", [x], (1, 32, 32, 3))]
    unsupported = tmp_path / "sqrt.tflite"
    unsupported.write_bytes(serialize(g))
    text = one_error(cli("import", unsupported, "--name", "x", "--classes", "a,b,c", env=models))
    assert "TFLite operator SQRT" in text
    foreground = tmp_path / "fg.tflite"
    foreground.write_bytes(serialize(segmenter((32, 32), 1)[0]))
    text = one_error(cli("import", foreground, "--name", "x", "--classes", "voc", env=models))
    assert "pass two --classes, e.g. background,person" in text


def test_serve_only_install_pulls_a_mediapipe_model(models, http_files) -> None:
    """MediaPipe's DeepLab from a mirror, without PyTorch: the TFLite file converts, normalised -1..1 as its metadata
    says; unpinned here, as an entry whose publisher gives no digest would be, its digest is announced."""
    from tests.export.tflite_models import metadata_buffer, segmenter, serialize

    mirror = http_files.root / "mirror"
    mirror.mkdir()
    graph = segmenter((257, 257), 21, metadata=metadata_buffer([127.5], [127.5]))[0]
    (mirror / "deeplab_v3.tflite").write_bytes(serialize(graph))
    args = ("pull", "mediapipe-deeplab-v3", "--from", f"{http_files.url}/mirror", "--precision", "fp32")
    unpinned = _blocking("torch", "torchvision", "onnxscript", pin=("mediapipe-deeplab-v3", None))
    proc = _without_torch(*args, env=models, script=unpinned)
    assert proc.returncode == 0, proc.stderr
    assert "licence: Apache-2.0" in proc.stderr and "No published checksum" in proc.stderr
    manifest = json.loads((Path(models["LIVESEG_MODELS"]) / "mediapipe-deeplab-v3" / "manifest.json").read_text())
    assert len(manifest["classes"]) == 21 and manifest["normalization"]["mean"] == [0.5, 0.5, 0.5]
    assert manifest["source"]["sha256"] is None and "Apache-2.0" in manifest["source"]["license"]


def _conv(path: Path, classes: int, height: int | str, width: int | str) -> Path:
    """A 1x1 convolution from the image to `classes` logits, its input fixed to `height`x`width` or symbolic."""
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, height, width])
    logits = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, classes, height, width])
    weight = helper.make_tensor("w", TensorProto.FLOAT, [classes, 3, 1, 1], [1.0] * classes * 3)
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"])], "g", [image], [logits], [weight])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)
    return path


def test_import_refuses_one_class_and_sizes_above_the_pixel_limit(cli, one_error, models, tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text('[{"name": "person", "color": [255, 0, 0]}]')
    one = _conv(tmp_path / "one.onnx", 1, "h", "w")
    text = one_error(
        cli("import", one, "--name", "x", "--classes", tmp_path / "one.json", "--size", "64x64", env=models)
    )
    assert "outputs 1 channel where liveseg needs one logit per class" in text
    huge = _conv(tmp_path / "huge.onnx", 2, 100_000, 100_000)
    text = one_error(cli("import", huge, "--name", "x", "--classes", "a,b", env=models))
    assert "fixed input 100000x100000 is 10,000,000,000 pixels, above liveseg's limit of 64,000,000" in text
    text = one_error(cli("import", one, "--name", "x", "--classes", "a,b", "--size", "9000x9000", env=models))
    assert text.endswith("above liveseg's limit of 64,000,000 (LIVESEG_MAX_PIXELS); pass a smaller --size.")
    assert not (tmp_path / "models" / "x").exists()


# Writing the pulled bundle's files hits a full disk, as a real ENOSPC would; the download itself goes through.
DISK_FULL = """
import errno, shutil
def copyfile(src, dst, *args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", str(dst))
shutil.copyfile = copyfile
"""


def test_a_full_disk_while_installing_is_one_sentence_and_installs_nothing(models, http_files) -> None:
    from tests.export.tflite_models import segmenter, serialize

    (http_files.root / "mirror").mkdir()
    stand_in = serialize(segmenter((257, 257), 21)[0])
    (http_files.root / "mirror" / "deeplab_v3.tflite").write_bytes(stand_in)
    args = ("pull", "mediapipe-deeplab-v3", "--from", f"{http_files.url}/mirror", "--precision", "fp32")
    pinned = _blocking(pin=("mediapipe-deeplab-v3", hashlib.sha256(stand_in).hexdigest()), patch=DISK_FULL)
    proc = _without_torch(*args, env=models, script=pinned)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    error = " ".join(proc.stderr.split("error: ")[-1].split())  # after the progress lines
    folder = models["LIVESEG_MODELS"]
    assert error == (
        f"Installing mediapipe-deeplab-v3 into {folder} failed (No space left on device); nothing was installed "
        "or changed; free some space, then pull again."
    )
    assert list(Path(folder).iterdir()) == []  # no bundle, no temporary folder left behind


def test_import_of_a_person_model_leaves_out_a_failing_int8_it_was_not_asked_for(cli, models) -> None:
    """MediaPipe's selfie model (the npm package's file): int8 calibrated on synthetic images loses the person,
    so by default it is left out with a warning and the command succeeds; named in --precision, the same failure
    is the command's (exit 1), the bundle written without it."""
    selfie = Path(__file__).parents[2] / "web" / "node_modules" / "@mediapipe" / "selfie_segmentation"
    args = ("import", selfie / "selfie_segmentation.tflite", "--classes", "background,person")
    tried = cli(*args, "--name", "tried", env=models)
    assert tried.returncode == 0, tried.stderr
    assert "int8 256x256 loses" in " ".join(tried.stderr.split())
    named = cli(*args, "--name", "named", "--precision", "fp32,int8", env=models)
    assert named.returncode == 1 and "1 requested variant(s) failed" in " ".join(named.stderr.split())
    for name, precisions in (("tried", {"fp32", "fp16"}), ("named", {"fp32"})):
        manifest = json.loads((Path(models["LIVESEG_MODELS"]) / name / "manifest.json").read_text())
        assert {v["precision"] for v in manifest["variants"] if v.get("graph", "labels") == "labels"} == precisions
