"""Initial weights for a run (`--init`): a checkpoint's, or those of an exported bundle's fp32 graph.

A bundle is often all that is left of a model (it is what ships; run folders are not kept), so fine-tuning
starts from it too. Its graph has each BatchNorm folded into the convolution before it; `from_bundle` puts
the folded weights back into the convolutions and re-parameterises every BatchNorm so that it computes the
same function in eval mode *and* in train mode: its running statistics are measured on training batches and
its affine parameters undo them. The recovered network's eval output equals the bundle's logits.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from torch import nn

from liveseg.errors import LivesegError
from liveseg.models import checkpoint

_GRAPH_PREFIX = "net."  # the network's module name inside the exported graph (liveseg.export.graph)


def load_initial(model: nn.Module, source: str, model_name: str, batches: Iterable[torch.Tensor]) -> list[str]:
    """Load `source` (checkpoint file, or bundle folder/name) into `model`; the names of the parameters the
    source did not have (e.g. auxiliary heads, which are not exported) keep their random initialisation."""
    path = Path(source)
    if path.is_file() and path.suffix == ".pt":
        ckpt = checkpoint.load(path)
        _check_model(ckpt["model"]["name"], model_name, source)
        try:
            missing, unexpected = model.load_state_dict(ckpt["state_dict"], strict=False)
        except RuntimeError as exc:  # shapes differ: another width or class count
            first = str(exc).strip().splitlines()[-1].strip().rstrip(".")
            raise LivesegError(
                f"--init {source} does not fit this model ({first}); pass its --model-arg values."
            ) from None
        if unexpected:
            raise LivesegError(f"--init {source} has weights this model lacks ({unexpected[0]}, ...).")
        return list(missing)
    return from_bundle(model, source, model_name, batches)


def _check_model(theirs: str, mine: str, source: str) -> None:
    if theirs != mine:
        raise LivesegError(f"--init {source} holds a {theirs}, not a {mine}; pass --model {theirs} or another --init.")


def _folded_weights(source: str, model_name: str) -> dict[str, torch.Tensor]:
    import onnx
    from onnx import numpy_helper

    from liveseg.runtime.bundle import open_bundle

    bundle = open_bundle(source)
    _check_model(bundle.manifest.model.get("name"), model_name, source)
    graph = onnx.load(str(bundle.variant(precision="fp32").path)).graph
    return {
        i.name.removeprefix(_GRAPH_PREFIX): torch.from_numpy(numpy_helper.to_array(i).copy())
        for i in graph.initializer
        if i.name.startswith(_GRAPH_PREFIX)
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


@torch.no_grad()
def from_bundle(model: nn.Module, source: str, model_name: str, batches: Iterable[torch.Tensor]) -> list[str]:
    """Recover trainable weights from a bundle's fp32 graph (see the module docstring); returns the names of
    the model's parameters the graph does not hold."""
    loaded, norms = _load_folded(model, source, model_name)
    _calibrate(model, norms, batches)
    return [n for n, _ in model.named_parameters() if n not in loaded]


def network_from_bundle(source: str) -> nn.Module:
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
    _load_folded(net, source, name)
    return net.eval()


@torch.no_grad()
def _load_folded(model: nn.Module, source: str, model_name: str) -> tuple[set[str], list[tuple[str, nn.BatchNorm2d]]]:
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
        bn.weight.fill_(1.0), bn.bias.copy_(bias), bn.running_mean.zero_(), bn.running_var.fill_(1.0 - bn.eps)
        loaded |= {f"{name}.weight", f"{name[:-2]}.1.weight", f"{name[:-2]}.1.bias"}
    for name, param in model.named_parameters():  # convolutions with their own bias (classifiers)
        if name not in loaded and name in folded and folded[name].shape == param.shape:
            param.copy_(folded[name])
            loaded.add(name)
    if not loaded:
        raise LivesegError(f"--init {source}: no weight of its graph fits model {model_name}.")
    return loaded, [(n, bn) for n, _, bn in pairs if f"{n}.weight" in loaded]


def _calibrate(model: nn.Module, norms: list[tuple[str, nn.BatchNorm2d]], batches: Iterable[torch.Tensor]) -> None:
    """Give each identity BatchNorm the statistics of its input and the affine map that undoes them."""
    sums: dict[str, list[torch.Tensor]] = {n: [] for n, _ in norms}

    def recorder(name: str):
        def hook(_module: nn.Module, inputs: tuple[torch.Tensor]) -> None:
            x = inputs[0].float().transpose(0, 1).flatten(1)
            sums[name].append(torch.stack([x.mean(1), (x * x).mean(1)]))

        return hook

    handles = [bn.register_forward_pre_hook(recorder(n)) for n, bn in norms]
    was_training = model.training
    model.eval()
    try:
        for images in batches:
            model(images)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    for name, bn in norms:
        mean, square = torch.stack(sums[name]).mean(0)
        var = (square - mean * mean).clamp_min(0.0)
        bn.running_mean.copy_(mean), bn.running_var.copy_(var)
        bn.weight.copy_(torch.sqrt(var + bn.eps)), bn.bias.add_(mean)
