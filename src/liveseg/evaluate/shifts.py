"""Photometric shifts for `liveseg eval --shift`: what another drive's light, camera or compression does to the
same scene, applied to each image while its labels stay as they are.

CamVid's val split shares its drive with train, so val cannot show how a model does on other drives; a model
whose mIoU falls far under a shift that leaves the scene intact has learnt the drive's look, not the scene. The
figures are a probe, not a held-out score.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from liveseg.registry import Registry

Shift = Callable[[np.ndarray], np.ndarray]


def _pil(fn: Callable[[Image.Image], Image.Image]) -> Shift:
    return lambda rgb: np.asarray(fn(Image.fromarray(rgb)).convert("RGB"))


def _jpeg(image: Image.Image, quality: int = 25) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(buffer)


def _white_balance(gains: tuple[float, float, float]) -> Shift:
    return lambda rgb: np.clip(rgb * np.asarray(gains, dtype=np.float32), 0, 255).astype(np.uint8)


# name → (what it stands for, the shift); "none" is the image as it is.
SHIFTS: Registry[tuple[str, Shift]] = Registry("shift", "choose one of: ")
SHIFTS.add("none", ("the image as it is", lambda rgb: rgb))
SHIFTS.add("dark", ("dusk: brightness x0.5", _pil(lambda im: ImageEnhance.Brightness(im).enhance(0.5))))
SHIFTS.add("bright", ("glare: brightness x1.4", _pil(lambda im: ImageEnhance.Brightness(im).enhance(1.4))))
SHIFTS.add("low-contrast", ("haze: contrast x0.6", _pil(lambda im: ImageEnhance.Contrast(im).enhance(0.6))))
SHIFTS.add("warm", ("another white balance: red x1.15, blue x0.8", _white_balance((1.15, 1.0, 0.8))))
SHIFTS.add(
    "blur",
    ("a softer lens or motion: Gaussian blur, sigma 2 px", _pil(lambda im: im.filter(ImageFilter.GaussianBlur(2)))),
)
SHIFTS.add("jpeg", ("heavy compression: JPEG quality 25", _pil(_jpeg)))
