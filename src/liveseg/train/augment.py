"""Training augmentation on batched tensors: random scale → crop (ignore-padded) → flip → photometric jitter → blur.

Why not per-sample albumentations: on a CPU the decoding and per-image augmentation of the file pipeline took the
cores the network needs (BENCHMARKS.md, "Design measurements"). Here one `grid_sample` call per
batch does scale, crop, padding and flip for image and label together, from uint8 images held in memory.

Label integrity: labels are sampled with nearest-neighbour only (no interpolated class ids) and every pixel that
falls outside the scaled image is the ignore index; image pixels there are 0 after normalisation (the mean colour).
Each sample's parameters come from its own generator seeded by (seed, epoch, index), so batches do not depend on
workers, batch composition or interruptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from liveseg.data import NORMALIZATION

_MEAN = torch.tensor(NORMALIZATION["mean"]).view(1, 3, 1, 1)
_STD = torch.tensor(NORMALIZATION["std"]).view(1, 3, 1, 1)
# RGB → YIQ and back: a hue shift is a rotation of the (I, Q) plane.
_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_RGB = torch.linalg.inv(_YIQ)


@dataclass(frozen=True)
class AugmentParams:
    """Per-sample draws, one row per sample (kept apart from the sampling so tests can pin them)."""

    scale: torch.Tensor  # (N,) resize factor
    top: torch.Tensor  # (N,) crop offset in scaled pixels (negative: padding above)
    left: torch.Tensor  # (N,)
    flip: torch.Tensor  # (N,) bool
    jitter: torch.Tensor  # (N, 4) brightness, contrast, saturation factors and hue shift (turns); identity if off
    blur: torch.Tensor  # (N,) Gaussian blur sigma in pixels; 0 = none
    gains: torch.Tensor  # (N, 3) red, green, blue gains (white balance); ones = unchanged

    def row(self, k: int) -> AugmentParams:
        """Sample k's parameters alone (for a batch whose images differ in size)."""
        return AugmentParams(**{name: getattr(self, name)[k : k + 1] for name in self.__dataclass_fields__})


@dataclass(frozen=True)
class BatchAugment:
    """Random scale in `scale`, a random `crop` (h, w) with ignore padding, flip with `hflip`, per-channel gains in
    [1 - white_balance, 1 + white_balance] (another camera's white balance), jitter with `jitter`, a Gaussian blur
    of sigma in `sigma` with probability `blur` (out-of-focus and motion-softened frames of other cameras).

    Its fields also set the file pipeline's (`liveseg.train.data.train_loader` hands them to
    liveseg.data.transforms.build_train_transform), so one object says what a run's augmentation is on either path."""

    crop: tuple[int, int]
    scale: tuple[float, float] = (0.5, 2.0)
    ignore_index: int = 255
    hflip: float = 0.5
    jitter: float = 0.8
    strength: float = 0.25  # brightness, contrast and saturation factors in [1 - s, 1 + s]
    hue: float = 0.05  # hue shift in [-hue, hue] turns
    blur: float = 0.0
    sigma: tuple[float, float] = (0.3, 1.5)
    white_balance: float = 0.0

    def draw(self, sizes: list[tuple[int, int]], seeds: list[int]) -> AugmentParams:
        """Parameters for samples of source sizes `sizes` (h, w), each from its own seed."""
        rows = []
        height, width = self.crop
        for (h, w), seed in zip(sizes, seeds, strict=True):
            g = torch.Generator().manual_seed(seed)
            # Draws 9 on come after the older ones, so runs without blur or gains keep their earlier augmentation.
            u = torch.rand(14, generator=g, dtype=torch.float64).tolist()
            s = self.scale[0] + u[0] * (self.scale[1] - self.scale[0])
            top = _offset(round(h * s), height, u[1])
            left = _offset(round(w * s), width, u[2])
            on = u[4] < self.jitter
            k = self.strength
            jit = [1 + k * (2 * u[5] - 1), 1 + k * (2 * u[6] - 1), 1 + k * (2 * u[7] - 1), self.hue * (2 * u[8] - 1)]
            sigma = self.sigma[0] + u[10] * (self.sigma[1] - self.sigma[0]) if u[9] < self.blur else 0.0
            gains = [1 + self.white_balance * (2 * v - 1) for v in u[11:14]]
            rows.append((s, top, left, u[3] < self.hflip, jit if on else [1.0, 1.0, 1.0, 0.0], sigma, gains))
        return AugmentParams(
            scale=torch.tensor([r[0] for r in rows], dtype=torch.float64),
            top=torch.tensor([r[1] for r in rows]),
            left=torch.tensor([r[2] for r in rows]),
            flip=torch.tensor([r[3] for r in rows]),
            jitter=torch.tensor([r[4] for r in rows], dtype=torch.float32),
            blur=torch.tensor([r[5] for r in rows], dtype=torch.float32),
            gains=torch.tensor([r[6] for r in rows], dtype=torch.float32),
        )

    def apply(
        self, images: torch.Tensor, labels: torch.Tensor, params: AugmentParams
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 images N×H×W×3 and labels N×H×W (one source size) → normalised float N×3×h×w, long N×h×w."""
        h, w = labels.shape[1:]
        grid = _grid(params, (h, w), self.crop)
        x = images.permute(0, 3, 1, 2).float().div_(255)
        valid_and_x = torch.cat([x, torch.ones_like(x[:, :1])], 1)
        sampled = F.grid_sample(valid_and_x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        x, valid = sampled[:, :3], sampled[:, 3:] > 0.999
        x = (x.clamp_(0, 1) * params.gains.view(-1, 3, 1, 1)).clamp_(0, 1)
        x = _photometric(x, params.jitter)
        if bool((params.blur > 0).any()):
            x = _blur(x, params.blur)
        x = torch.where(valid, (x - _MEAN) / _STD, torch.zeros(()))
        # Nearest lookups of (label + 1), so that 0 marks padding whatever the ignore index is.
        lab = F.grid_sample((labels.float() + 1).unsqueeze(1), grid, mode="nearest", align_corners=False)
        lab = lab.squeeze(1).long() - 1
        lab[lab < 0] = self.ignore_index
        return x.contiguous(), lab


def _offset(scaled: int, crop: int, u: float) -> int:
    """Crop start inside a scaled side; a side shorter than the crop is padded at a random position."""
    span = scaled - crop
    low, high = min(0, span), max(0, span)
    return low + min(int(u * (high - low + 1)), high - low)


def _grid(params: AugmentParams, source: tuple[int, int], crop: tuple[int, int]) -> torch.Tensor:
    """Sampling grid mapping each output pixel to its source position (align_corners=False convention)."""
    (h, w), (ch, cw) = source, crop
    s = params.scale
    sy, sx = ch / (s * h), cw / (s * w)
    ty = (2 * params.top + ch) / (s * h) - 1
    tx = (2 * params.left + cw) / (s * w) - 1
    sx = torch.where(params.flip, -sx, sx)
    zero = torch.zeros_like(s)
    theta = torch.stack([torch.stack([sx, zero, tx], 1), torch.stack([zero, sy, ty], 1)], 1).float()
    return F.affine_grid(theta, [len(s), 1, ch, cw], align_corners=False)


def _photometric(x: torch.Tensor, jitter: torch.Tensor) -> torch.Tensor:
    """Brightness, contrast, saturation (torchvision's definitions) and a YIQ hue rotation, per sample."""
    b, c, s, hue = (jitter[:, i].view(-1, 1, 1, 1) for i in range(4))
    gray_weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    x = (x * b).clamp_(0, 1)
    mean = (x * gray_weights).sum(1, keepdim=True).mean((2, 3), keepdim=True)
    x = ((x - mean) * c + mean).clamp_(0, 1)
    gray = (x * gray_weights).sum(1, keepdim=True)
    x = ((x - gray) * s + gray).clamp_(0, 1)
    angle = 2 * torch.pi * hue.view(-1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    rot = torch.zeros(len(angle), 3, 3)
    rot[:, 0, 0] = 1
    rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = cos, -sin, sin, cos
    mats = _RGB @ rot @ _YIQ  # (N, 3, 3)
    return torch.einsum("nij,njhw->nihw", mats, x).clamp_(0, 1)


def _blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur with one sigma per sample (0: unchanged), as one grouped convolution per axis."""
    n, c, h, w = x.shape
    radius = 3
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32)
    safe = sigma.clamp(min=1e-3).view(-1, 1)
    kernel = torch.exp(-0.5 * (taps / safe) ** 2)
    kernel = torch.where(sigma.view(-1, 1) > 0, kernel, (taps == 0).float())
    kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (N*C, taps)
    flat = x.reshape(1, n * c, h, w)
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="replicate"), kernel.view(n * c, 1, 1, -1), groups=n * c)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="replicate"), kernel.view(n * c, 1, -1, 1), groups=n * c)
    return flat.view(n, c, h, w)
