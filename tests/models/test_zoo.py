"""Every architecture builds, runs at CamVid's size, and exports to ONNX with matching predictions."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from liveseg import models
from liveseg.errors import LivesegError
from liveseg.models.complexity import count_gflops
from liveseg.models.layers import upsample_logits

NAMES = models.list_models()


def test_registry_has_the_required_architectures():
    for name in (
        "fast_scnn",
        "lwrefinenet_mbv2",
        "deeplabv3plus_mbv2",
        "ddrnet_23_slim",
        "ddrnet_tiny",
        "fpn_resnet18",
    ):
        assert name in NAMES
        assert models.get_config(name).paper


@pytest.mark.parametrize("name", NAMES)
def test_forward_at_camvid_size(name):
    torch.manual_seed(0)
    net = models.create(name, num_classes=11).eval()
    with torch.no_grad():
        out = net(torch.randn(1, 3, 360, 480))
    assert out.shape == (1, 11, 360, 480) and out.dtype == torch.float32
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["fast_scnn", "ddrnet_tiny"])
def test_train_mode_returns_aux_logits_at_full_resolution(name):
    net = models.create(name, num_classes=5).train()
    out = net(torch.randn(2, 3, 96, 128))
    assert out["out"].shape == (2, 5, 96, 128)
    assert [a.shape for a in out["aux"]] == [(2, 5, 96, 128)]


@pytest.mark.parametrize("name", NAMES)
def test_onnx_export_matches_pytorch(name, tmp_path):
    torch.manual_seed(0)
    net = models.create(name, num_classes=11).eval()
    x = torch.randn(1, 3, 96, 160)
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), dynamo=True, opset_version=18, verbose=False).save(str(path))
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    with torch.no_grad():
        want = net(x).numpy()
    agreement = (got.argmax(1) == want.argmax(1)).mean()
    assert agreement > 0.999, f"{name}: ONNX and PyTorch agree on {agreement:.4%} of pixels"


def test_any_input_size_works_for_the_default_candidates():
    for name in ("fast_scnn", "ddrnet_tiny"):
        net = models.create(name, num_classes=3).eval()
        with torch.no_grad():
            assert net(torch.randn(1, 3, 257, 257)).shape == (1, 3, 257, 257)


def test_unknown_model_names_the_choices():
    with pytest.raises(LivesegError, match="fast_scnn"):
        models.create("nope", num_classes=11)


def test_complexity_is_positive_and_stable():
    net = models.create("fast_scnn", num_classes=11)
    first = models.complexity(net, (360, 480))
    assert first[0] > 1e6 and first[1] > 0.5
    assert models.complexity(net, (360, 480)) == first
    # FLOPs scale with the number of pixels.
    assert np.isclose(models.count_gflops(net, (720, 960)) / first[1], 4, rtol=0.05)


def test_cli_lists_models_with_flops():
    out = subprocess.run(
        [sys.executable, "-m", "liveseg", "models", "--size", "180x240"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "ddrnet_tiny" in out and "GFLOPs" in out


def test_ddrnet_detail_head_starts_as_the_network_without_it():
    """The 1/4 correction starts at zero: fine-tuning from a trained 1/8 network begins at its accuracy (the
    logits differ only by being upsampled in two steps, 1/8 → 1/4 → full, instead of one)."""
    torch.manual_seed(0)
    plain = models.create("ddrnet_tiny", num_classes=11).eval()
    detailed = models.create("ddrnet_tiny", num_classes=11, detail=24).eval()
    missing, unexpected = detailed.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(name.startswith("detail.") for name in missing)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        coarse, _ = plain.logits_and_aux(x)
        expected = upsample_logits(F.interpolate(coarse, (16, 24), mode="bilinear"), (64, 96))
        assert torch.allclose(detailed(x), expected, atol=1e-5)
    assert count_gflops(detailed, (288, 384)) < 1.1 * count_gflops(plain, (288, 384))
