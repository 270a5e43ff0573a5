"""Inputs for calibration and parity checks, and the numbers the checks compare."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from liveseg.runtime.io import resize  # the runtime's own, so parity inputs are what it feeds the graph

# Pass criteria, against the PyTorch fp32 graph: share of identical class pixels, or mIoU drop (0..1 scale).
MIN_AGREEMENT = {"fp32": 0.999, "fp16": 0.995}
MIN_LOGITS_AGREEMENT = 0.999  # the logits graph, decoded, against the fp32 labels graph
MAX_INT8_MIOU_DROP = 0.015


def spread(total: int, count: int | None) -> list[int]:
    """`count` indices spread evenly over `total` items (all of them when count is None or larger)."""
    if count is None or count >= total:
        return list(range(total))
    return sorted({int(i) for i in np.linspace(0, total - 1, count)})


def synthetic_images(count: int, height: int, width: int, seed: int = 0) -> list[np.ndarray]:
    """Street-like scenes (sky gradient, façades, road, textured noise), for when no dataset is at hand.

    Uniform noise would exercise only a sliver of the activation ranges a real photo produces; these keep
    large smooth regions, edges and texture, so calibration ranges and argmax margins are closer to real.
    """
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        rows = np.linspace(0, 1, height)[:, None, None]
        sky = np.array([110, 150, 220]) * (1 - rows) + np.array([200, 210, 230]) * rows
        canvas = np.broadcast_to(sky, (height, width, 3)).astype(np.uint8)
        im = Image.fromarray(np.ascontiguousarray(canvas))
        draw = ImageDraw.Draw(im)
        horizon = int(height * rng.uniform(0.45, 0.65))
        for _ in range(rng.integers(3, 9)):  # buildings
            x0 = int(rng.uniform(0, width))
            w = int(rng.uniform(0.1, 0.35) * width)
            top = int(rng.uniform(0.05, 0.5) * horizon)
            draw.rectangle([x0, top, x0 + w, horizon], fill=tuple(int(c) for c in rng.integers(40, 200, 3)))
        draw.rectangle([0, horizon, width, height], fill=tuple(int(c) for c in rng.integers(60, 120, 3)))
        for _ in range(rng.integers(1, 4)):  # cars / pedestrians
            x0, y0 = int(rng.uniform(0, width)), int(rng.uniform(horizon, height))
            draw.ellipse(
                [x0, y0 - height // 8, x0 + width // 6, y0], fill=tuple(int(c) for c in rng.integers(0, 255, 3))
            )
        arr = np.asarray(im.filter(ImageFilter.GaussianBlur(1.0)), dtype=np.int16)
        noise = rng.normal(0, 8, arr.shape)
        images.append(np.clip(arr + noise, 0, 255).astype(np.uint8))
    return images


def run_batched(run: Callable[[np.ndarray], np.ndarray], images: np.ndarray, batch: int = 8) -> np.ndarray:
    """Class maps of N×H×W×3 uint8 `images`, `batch` at a time."""
    return np.concatenate([run(images[i : i + batch]) for i in range(0, len(images), batch)])


def pixel_agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def stack(images: Sequence[np.ndarray], height: int, width: int) -> np.ndarray:
    return np.stack([resize(im, height, width) for im in images])


def _axis(n: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights of 1-D linear interpolation from `n` to `size` samples, half-pixel centres."""
    pos = np.maximum(0.0, (np.arange(size) + 0.5) * (n / size) - 0.5)
    low = np.minimum(np.floor(pos).astype(np.int64), n - 1)
    return low, np.minimum(low + 1, n - 1), (pos - low).astype(np.float32)


def decode_logits(logits: np.ndarray, height: int, width: int) -> np.ndarray:
    """N×C×h×w logits → N×H×W uint8 class ids: bilinear upsampling (align_corners=False) and arg-max, as the
    labels graph does inside itself and the web app's logits decoder (web/src/lib/logits.ts) does in JS."""
    (y0, y1, fy), (x0, x1, fx) = _axis(logits.shape[2], height), _axis(logits.shape[3], width)
    rows = logits[:, :, y0] * (1 - fy)[:, None] + logits[:, :, y1] * fy[:, None]
    full = rows[..., x0] * (1 - fx) + rows[..., x1] * fx
    return full.argmax(axis=1).astype(np.uint8)
