"""Training augmentation for segmentation (albumentations): scale, crop, flip and colour jitter.

Geometry moves image and label together; labels are only ever resampled with nearest-neighbour, so no
invented class ids appear at object borders, and every pixel added by padding is the ignore index so it
never counts in the loss. Transforms take and return `transform(image=HxWx3 uint8, mask=HxW uint8)` dicts.
"""

from __future__ import annotations

import os

# albumentations asks PyPI for a newer version on import unless told not to; training must not touch the net.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import albumentations as A
import cv2

from liveseg.data import NORMALIZATION

# Padding colour for images: the normalisation mean, which becomes 0 after normalising.
MEAN_RGB = tuple(round(255 * m) for m in NORMALIZATION["mean"])


def build_train_transform(
    crop: tuple[int, int],
    scale: tuple[float, float] = (0.5, 2.0),
    ignore_index: int = 255,
    hflip: float = 0.5,
    jitter: float = 0.8,
    colour: float = 0.25,
    hue: float = 0.05,
    blur: float = 0.0,
    sigma: tuple[float, float] = (0.3, 1.5),
    white_balance: float = 0.0,
) -> A.Compose:
    """Random scale in `scale`, pad to at least `crop` (ignore-filled labels), random `crop` (h, w),
    horizontal flip with probability `hflip`, per-channel gains in [1 - white_balance, 1 + white_balance],
    photometric jitter of strength `colour` (hue turns up to `hue`) with probability `jitter`, a Gaussian blur of
    sigma in `sigma` px with probability `blur`."""
    height, width = crop
    return A.Compose(
        [
            A.RandomScale(
                scale_limit=(scale[0] - 1.0, scale[1] - 1.0),
                interpolation=cv2.INTER_LINEAR,
                mask_interpolation=cv2.INTER_NEAREST,
                p=1.0,
            ),
            A.PadIfNeeded(
                min_height=height,
                min_width=width,
                position="random",
                border_mode=cv2.BORDER_CONSTANT,
                fill=MEAN_RGB,
                fill_mask=ignore_index,
            ),
            A.RandomCrop(height=height, width=width),
            A.HorizontalFlip(p=hflip),
            A.MultiplicativeNoise(
                multiplier=(1 - white_balance, 1 + white_balance),
                per_channel=True,
                elementwise=False,
                p=1.0 if white_balance else 0.0,
            ),
            A.ColorJitter(brightness=colour, contrast=colour, saturation=colour, hue=hue, p=jitter),
            A.GaussianBlur(blur_limit=(7, 7), sigma_limit=sigma, p=blur),
        ],
        mask_interpolation=cv2.INTER_NEAREST,
    )


def build_eval_transform() -> A.Compose:
    """Evaluation sees the full image unchanged; kept as a transform so loaders treat both the same."""
    return A.Compose([])
