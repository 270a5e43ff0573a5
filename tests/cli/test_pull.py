"""`liveseg pull` and `liveseg import` as users run them: a subprocess, real files, one sentence per failure."""

from __future__ import annotations

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
