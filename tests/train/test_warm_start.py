"""`--init`: a run starts from a checkpoint's weights or from those recovered from a bundle's fp32 graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import liveseg
from liveseg import models
from liveseg.data import NORMALIZATION
from liveseg.errors import LivesegError
from liveseg.runtime.bundle import open_bundle
from liveseg.train.warm_start import load_initial

MIN_AGREEMENT = 0.999
# The architecture the shipped default was trained as, and its arguments: what these tests rebuild.
DEFAULT = open_bundle("default").manifest.model


def normalised(images: list[np.ndarray]) -> torch.Tensor:
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0
    mean, std = (torch.tensor(NORMALIZATION[k]).view(1, 3, 1, 1) for k in ("mean", "std"))
    return (x - mean) / std


@pytest.fixture(scope="module")
def frames(camvid_root: Path) -> list[np.ndarray]:
    """Four CamVid train frames at the default bundle's own size (neither side resamples them)."""
    variant = open_bundle("default").variant(precision="fp32")
    paths = sorted((camvid_root / "train").iterdir())[:4]
    return [np.asarray(Image.open(p).convert("RGB").resize((variant.width, variant.height))) for p in paths]


def default_network() -> torch.nn.Module:
    return models.create(DEFAULT["name"], num_classes=11, **DEFAULT["kwargs"])


def test_weights_recovered_from_a_bundle_compute_its_class_maps(frames: list[np.ndarray]) -> None:
    net = default_network()
    missing = load_initial(net, "default", DEFAULT["name"], [normalised(frames[:2]), normalised(frames[2:])])
    assert missing and all(name.startswith("aux") for name in missing)  # the export drops the aux head
    with torch.no_grad():
        labels = net.eval()(normalised(frames)).argmax(1).to(torch.uint8).numpy()
    segmenter = liveseg.load("default", precision="fp32")
    for frame, ours in zip(frames, labels, strict=True):
        theirs = segmenter.segment(frame).labels
        assert float((ours == theirs).mean()) >= MIN_AGREEMENT


def test_recovered_batchnorms_see_the_statistics_they_were_calibrated_on(frames: list[np.ndarray]) -> None:
    """Train mode normalises by batch statistics: after calibration they are the running ones, so fine-tuning
    starts from the bundle's function instead of a perturbed one (dropout, which differs by design, held off)."""
    net = default_network()
    batch = normalised(frames)
    load_initial(net, "default", DEFAULT["name"], [batch])
    with torch.no_grad():
        eval_out = net.eval()(batch)
        net.train()
        for dropout in (m for m in net.modules() if isinstance(m, torch.nn.Dropout)):
            dropout.eval()
        train_out = net(batch)["out"]
    agreement = (eval_out.argmax(1) == train_out.argmax(1)).float().mean().item()
    assert agreement >= MIN_AGREEMENT


def test_init_of_another_architecture_is_refused_in_one_sentence() -> None:
    net = models.create("fast_scnn", num_classes=11)
    with pytest.raises(LivesegError, match=f"holds a {DEFAULT['name']}, not a fast_scnn"):
        load_initial(net, "default", "fast_scnn", [])


@pytest.fixture
def width_16_checkpoint(tmp_path: Path, camvid_root: Path) -> Path:
    from liveseg.data import get_dataset
    from liveseg.models import checkpoint

    net = models.create("ddrnet_tiny", num_classes=11)
    info = get_dataset("camvid", "val", str(camvid_root)).info
    ckpt = checkpoint.make("ddrnet_tiny", {}, net.state_dict(), info, {}, 1, 0.0, {})
    return checkpoint.save(tmp_path / "best.pt", ckpt)


def test_init_from_a_checkpoint_loads_every_weight(width_16_checkpoint: Path) -> None:
    net = models.create("ddrnet_tiny", num_classes=11)
    assert load_initial(net, str(width_16_checkpoint), "ddrnet_tiny", []) == []
    saved = torch.load(width_16_checkpoint, weights_only=True)["state_dict"]
    assert all(torch.equal(saved[k], v) for k, v in net.state_dict().items())


def test_init_from_a_checkpoint_of_another_width_is_one_sentence(width_16_checkpoint: Path) -> None:
    net = models.create("ddrnet_tiny", num_classes=11, width=24)
    with pytest.raises(LivesegError, match=r"does not fit this model \(size mismatch .*\); pass its --model-arg"):
        load_initial(net, str(width_16_checkpoint), "ddrnet_tiny", [])
