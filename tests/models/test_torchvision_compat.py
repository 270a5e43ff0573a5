"""liveseg's LR-ASPP and DeepLabV3 on MobileNetV3-Large take torchvision's weight files as they are (a plain state
dict, loaded strictly) and compute torchvision's outputs, and the result exports through liveseg's bundle graph.

The torchvision models are built without downloads and their weights randomised, BatchNorm affine parameters and
running statistics included, so a wrong eps, a misplaced BN or a swapped layer changes the outputs instead of hiding
behind unit statistics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from liveseg import models
from liveseg.data import NORMALIZATION
from liveseg.export.graph import NETWORK_OUTPUT, trace_network
from liveseg.export.wrap import labels_graph

NAMES = ("lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large")


@pytest.fixture(scope="module", params=NAMES)
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, torchvision_model):
    """(name, torchvision's model, liveseg's model with torchvision's weight file loaded), both in eval mode."""
    name = request.param
    theirs = torchvision_model(name, seed=1)
    path = tmp_path_factory.mktemp(name) / f"{name}.pth"
    torch.save(theirs.state_dict(), path)
    ours = models.create(name, num_classes=21)
    ours.load_state_dict(torch.load(path, weights_only=True), strict=True)
    return name, theirs, ours.eval()


def test_state_dict_keys_and_shapes_are_torchvisions(pair) -> None:
    _, theirs, ours = pair
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}


@pytest.mark.parametrize("shape", [(1, 3, 97, 131), (2, 3, 128, 160)])
def test_outputs_equal_torchvisions(pair, shape: tuple[int, ...]) -> None:
    name, theirs, ours = pair
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        want = theirs(x)["out"]
        got = ours(x)
    assert got.shape == want.shape == (shape[0], 21, *shape[2:])
    assert want.abs().max() > 1, "the comparison needs logits of some size"
    diff = (got - want).abs().max().item()
    assert diff < 1e-4, f"{name}: max abs difference {diff:.2e} at {shape}"


@pytest.mark.parametrize("pair", ["deeplabv3_mobilenet_v3_large"], indirect=True)  # LR-ASPP has no aux head
def test_deeplabv3_aux_head_is_torchvisions(pair) -> None:
    _, theirs, ours = pair
    x = torch.randn(1, 3, 97, 131, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        want = theirs(x)["aux"]  # torchvision computes the aux head in eval mode too
        low, _ = ours.backbone(x)
        got = nn.functional.interpolate(ours.aux_classifier(low), size=x.shape[-2:], mode="bilinear")
    assert (got - want).abs().max().item() < 1e-4


def test_exports_through_the_bundle_graph(pair, tmp_path: Path) -> None:
    name, _, ours = pair
    height, width = 96, 128
    path = tmp_path / f"{name}.onnx"
    trace_network(ours, height, width, path)
    with torch.no_grad():
        classes, *low = ours.logits_and_aux(torch.zeros(1, 3, height, width))[0].shape[1:]
    wrapped = labels_graph(onnx.load(str(path)), NETWORK_OUTPUT, *NORMALIZATION.values(), (height, width), low, classes)
    onnx.save(wrapped, str(path))
    image = np.random.default_rng(4).integers(0, 256, (2, height, width, 3), dtype=np.uint8)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    labels, _ = session.run(None, {"image": image})
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in NORMALIZATION.values())
    x = (torch.from_numpy(image).permute(0, 3, 1, 2).float() / 255.0 - mean) / std
    with torch.no_grad():
        want = ours(x).argmax(1).numpy()
    agreement = float(np.mean(labels == want))
    assert agreement >= 0.999, f"{name}: ONNX and PyTorch agree on {agreement:.4%} of pixels"


def test_deeplabv3_trains_with_its_aux_head_and_builds_without_it() -> None:
    net = models.create("deeplabv3_mobilenet_v3_large", num_classes=5).train()
    out = net(torch.randn(2, 3, 64, 96))
    assert out["out"].shape == (2, 5, 64, 96) and [a.shape for a in out["aux"]] == [(2, 5, 64, 96)]
    (out["out"].mean() + out["aux"][0].mean()).backward()
    bare = models.create("deeplabv3_mobilenet_v3_large", num_classes=5, aux=False).train()
    assert not any(k.startswith("aux_classifier.") for k in bare.state_dict())
    assert bare(torch.randn(2, 3, 64, 96)).shape == (2, 5, 64, 96)
