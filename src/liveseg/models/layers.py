"""Small building blocks shared by the architectures."""

from __future__ import annotations

import functools
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

M = TypeVar("M", bound=nn.Module)


class ConvBNAct(nn.Sequential):
    """Conv → BatchNorm → activation (ReLU by default, None for linear); BN folds into the conv at export."""

    def __init__(
        self,
        cin: int,
        cout: int,
        k: int = 3,
        stride: int = 1,
        groups: int = 1,
        dilation: int = 1,
        act: type[nn.Module] | None = nn.ReLU,
    ):
        pad = dilation * (k - 1) // 2
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act is not None:
            layers.append(act(inplace=True))
        super().__init__(*layers)


class DSConv(nn.Sequential):
    """Depthwise-separable conv: depthwise 3x3 then pointwise 1x1, each with BN + ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__(ConvBNAct(cin, cin, 3, stride, groups=cin), ConvBNAct(cin, cout, 1))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand → depthwise k x k (3 in MobileNetV2) → linear 1x1 project, residual when
    shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int, dilation: int = 1, k: int = 3):
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNAct(cin, hidden, 1, act=nn.ReLU6))
        layers += [
            ConvBNAct(hidden, hidden, k, stride, groups=hidden, dilation=dilation, act=nn.ReLU6),
            ConvBNAct(hidden, cout, 1, act=None),
        ]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


def upsample_like(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Bilinear resize of `x` to the spatial size of `ref` (the size comes from the tensor, so any input works)."""
    return F.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=False)


@functools.lru_cache(maxsize=32)
def _resize_matrix(n_in: int, n_out: int, dtype: torch.dtype) -> torch.Tensor:
    """(n_out, n_in) weights of 1-D linear interpolation, align_corners=False, exactly F.interpolate's rule."""
    pos = ((torch.arange(n_out, dtype=torch.float64) + 0.5) * (n_in / n_out) - 0.5).clamp(min=0)
    low = pos.floor().long().clamp(max=n_in - 1)
    high = (low + 1).clamp(max=n_in - 1)
    frac = pos - low
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    m[torch.arange(n_out), low] += 1 - frac
    m[torch.arange(n_out), high] += frac
    return m.to(dtype)


def upsample_logits(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of class logits to the input size. In training it is two matrix products (the resize is
    separable): the same values as F.interpolate with a much faster backward pass on a CPU, where the
    full-resolution upsampling of logits and aux logits dominated each step (BENCHMARKS.md, "Design
    measurements"). Export traces the
    F.interpolate form, which becomes one ONNX Resize."""
    if not torch.is_grad_enabled() or torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    rows = _resize_matrix(x.shape[-2], size[0], x.dtype).to(x.device)
    cols = _resize_matrix(x.shape[-1], size[1], x.dtype).to(x.device)
    return torch.matmul(torch.matmul(rows, x.contiguous()), cols.T)


def tensorflow_batchnorm(module: M) -> M:
    """Give every BatchNorm in `module` TensorFlow's settings (eps 1e-3, momentum 0.01): the running variances of
    weights trained there are only right with the eps they were computed for. Returns `module`."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps, m.momentum = 1e-3, 0.01
    return module


def init_weights(module: nn.Module) -> None:
    """He init for convs, unit BN: the usual start for training from scratch."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class SegmentationModel(nn.Module):
    """Base: subclasses compute `logits_and_aux(x)`; this returns full-resolution logits (and aux when training)."""

    def logits_and_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        raise NotImplementedError

    def forward(self, x: torch.Tensor):
        logits, aux = self.logits_and_aux(x)
        size = (x.shape[-2], x.shape[-1])
        out = upsample_logits(logits, size)
        if self.training and aux:
            return {"out": out, "aux": [upsample_logits(a, size) for a in aux]}
        return out
