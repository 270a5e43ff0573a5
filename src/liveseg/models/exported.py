"""A liveseg network as a bundle's graph holds it, and back: the module that export traces (`Logits`, whose
weights the graph names `net.<parameter>`) and the network recovered from a bundle's fp32 graph. Export
(`liveseg.export.graph`, exporting a bundle again) and training (`--init` from a bundle) both use it, so the
graph's naming is defined once, below both.

The graph has each BatchNorm folded into the convolution before it; `load_folded` puts the folded weights back
into the convolutions with identity BatchNorms, so the recovered network's eval output equals the bundle's logits.
"""

from __future__ import annotations

import torch
from torch import nn

from liveseg.errors import LivesegError
from liveseg.models.layers import SegmentationModel

GRAPH_PREFIX = "net."  # `Logits.net`: the tracer names the network's weights after that attribute


class Logits(nn.Module):
    """The network's main logits only (no auxiliary heads), as it runs in eval mode: what export traces."""

    def __init__(self, net: SegmentationModel) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.logits_and_aux(x)[0]


def check_model(theirs: str | None, mine: str, source: str) -> None:
    if theirs != mine:
        raise LivesegError(f"--init {source} holds a {theirs}, not a {mine}; pass --model {theirs} or another --init.")


def network_from_bundle(source: str) -> SegmentationModel:
    """The network of a bundle liveseg exported, in eval mode: its fp32 graph's weights with identity
    BatchNorms, so it computes exactly the bundle's logits (for exporting it again, at other sizes or with
    another graph). Bundles of imported or pulled models hold no liveseg network and are refused."""
    from liveseg import models
    from liveseg.runtime.bundle import open_bundle

    manifest = open_bundle(source).manifest
    name = manifest.model.get("name")
    if manifest.source is not None or name not in models.list_models():
        raise LivesegError(f"{source} holds no network liveseg trained; export its checkpoint instead.")
    net = models.create(name, num_classes=len(manifest.classes), **manifest.model.get("kwargs", {}))
    load_folded(net, source, name)
    return net.eval()


def _folded_weights(source: str, model_name: str) -> dict[str, torch.Tensor]:
    import onnx
    from onnx import numpy_helper

    from liveseg.runtime.bundle import open_bundle

    bundle = open_bundle(source)
    check_model(bundle.manifest.model.get("name"), model_name, source)
    graph = onnx.load(str(bundle.variant(precision="fp32").path)).graph
    return {
        i.name.removeprefix(GRAPH_PREFIX): torch.from_numpy(numpy_helper.to_array(i).copy())
        for i in graph.initializer
        if i.name.startswith(GRAPH_PREFIX)
    }


def _conv_bn_pairs(model: nn.Module) -> list[tuple[str, nn.Conv2d, nn.BatchNorm2d]]:
    """(conv name, conv, bn) for every Sequential whose item 0 is a bias-free conv and item 1 a BatchNorm."""
    pairs = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Sequential) and len(module) > 1:
            conv, bn = module[0], module[1]
            if isinstance(conv, nn.Conv2d) and conv.bias is None and isinstance(bn, nn.BatchNorm2d):
                pairs.append((f"{name}.0", conv, bn))
    return pairs


def running_stats(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """A BatchNorm's running mean and variance buffers (torch types them optional: absent without tracking)."""
    if bn.running_mean is None or bn.running_var is None:
        raise LivesegError("A BatchNorm without running statistics cannot take a bundle's folded weights.")
    return bn.running_mean, bn.running_var


@torch.no_grad()
def load_folded(model: nn.Module, source: str, model_name: str) -> tuple[set[str], list[tuple[str, nn.BatchNorm2d]]]:
    """Put a bundle's folded weights into `model`, each BatchNorm the identity: (the parameter names loaded,
    the (name, BatchNorm) pairs whose convolution was loaded)."""
    folded = _folded_weights(source, model_name)
    pairs = _conv_bn_pairs(model)
    loaded: set[str] = set()
    for name, conv, bn in pairs:
        weight, bias = folded.get(f"{name}.weight"), folded.get(f"{name}.weight_bias")
        if weight is None or bias is None:
            continue
        if weight.shape != conv.weight.shape:
            raise LivesegError(f"--init {source}: {name} has shape {tuple(weight.shape)}, the model wants "
                               f"{tuple(conv.weight.shape)}; pass the bundle's --model-arg values.")  # fmt: skip
        conv.weight.copy_(weight)
        # An identity BatchNorm plus the folded bias: eval output is exactly the bundle's.
        mean, var = running_stats(bn)
        bn.weight.fill_(1.0), bn.bias.copy_(bias), mean.zero_(), var.fill_(1.0 - bn.eps)
        loaded |= {f"{name}.weight", f"{name[:-2]}.1.weight", f"{name[:-2]}.1.bias"}
    for name, param in model.named_parameters():  # convolutions with their own bias (classifiers)
        if name not in loaded and name in folded and folded[name].shape == param.shape:
            param.copy_(folded[name])
            loaded.add(name)
    if not loaded:
        raise LivesegError(f"--init {source}: no weight of its graph fits model {model_name}.")
    return loaded, [(n, bn) for n, _, bn in pairs if f"{n}.weight" in loaded]
