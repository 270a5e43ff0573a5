"""The training-time logit upsampling equals F.interpolate in values and gradients; export keeps Resize."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from liveseg import models
from liveseg.models.layers import upsample_logits


@pytest.mark.parametrize(("src", "dst"), [((45, 60), (360, 480)), ((32, 40), (256, 320)), ((7, 9), (20, 31))])
def test_matmul_upsampling_equals_interpolate(src: tuple[int, int], dst: tuple[int, int]) -> None:
    x = torch.randn(2, 11, *src, dtype=torch.float64, requires_grad=True)
    ours = upsample_logits(x, dst)
    ref = F.interpolate(x, size=dst, mode="bilinear", align_corners=False)
    assert torch.allclose(ours, ref, atol=1e-12)
    weights = torch.randn_like(ref)
    (g_ours,) = torch.autograd.grad((ours * weights).sum(), x)
    (g_ref,) = torch.autograd.grad((ref * weights).sum(), x)
    assert torch.allclose(g_ours, g_ref, atol=1e-10)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit.trace: only used to read the graph
def test_inference_and_export_use_interpolate() -> None:
    net = models.create("ddrnet_tiny", num_classes=11).eval()
    with torch.no_grad():
        out = net(torch.randn(1, 3, 64, 96))
    assert out.shape == (1, 11, 64, 96)
    traced = torch.jit.trace(net, torch.randn(1, 3, 64, 96))
    assert "upsample_bilinear2d" in str(traced.inlined_graph) and "aten::matmul" not in str(traced.inlined_graph)
