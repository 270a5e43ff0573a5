"""liveseg's one image reader: every Pillow mode, EXIF orientation and a pixel limit, as numpy arrays.

It sits in the core, below both the dataset readers and the runtime, so that training, evaluation and inference
decode an image the same way without one of them importing the other.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from liveseg.errors import LivesegError
from liveseg.limits import MAX_PIXELS_ENV, max_image_pixels

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"})

ImageLike = str | os.PathLike | Image.Image | np.ndarray

# Pillow modes with more than 8 bits per sample and the value that becomes 255: integer images are read as
# 16-bit (Pillow opens 16-bit PNG and TIFF files as I;16, and 32-bit "I" images usually hold such data),
# floating-point images as 0..1. Values outside the range are refused, never clipped.
_HIGH_BIT_TOP = {"I;16": 65535, "I;16B": 65535, "I;16L": 65535, "I;16N": 65535, "I": 65535, "F": 1.0}
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "PA"})


def read_image(image: ImageLike, *, alpha: bool = True, exif: bool = True, max_pixels: int | None = None) -> np.ndarray:
    """HxWx3 uint8 RGB, or HxWx4 RGBA when `alpha` and the image has transparency: liveseg's one image reader.

    Every Pillow mode maps onto 0..255 by its nominal range (16-bit and float images are scaled, not clipped).
    `exif` applies a file's EXIF orientation (the runtime does; datasets read images as stored, like their
    labels). A file above `max_pixels` (default: `max_image_pixels()`) is refused before it is decoded.
    Anything unreadable becomes a LivesegError that names the image.
    """
    if isinstance(image, np.ndarray):
        return _check_array(image)
    if isinstance(image, Image.Image):
        return _to_array(image, alpha, "The image")
    path = Path(image)
    limit = max_pixels or max_image_pixels()
    if Image.MAX_IMAGE_PIXELS is not None and limit > 2 * Image.MAX_IMAGE_PIXELS:
        # Pillow refuses above twice its limit inside Image.open, before liveseg's check: let a raised limit through.
        Image.MAX_IMAGE_PIXELS = limit // 2 + 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except FileNotFoundError:
        raise LivesegError(f"Image {path} does not exist; check the path.") from None
    except Image.DecompressionBombError as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))  # Pillow's message names the size, not the sides
        raise _too_large(path, f"{int(pixels[1]) / 1e6:.0f} megapixels" if pixels else str(exc), limit) from None
    except Exception as exc:  # Pillow raises many types (OSError, ValueError, SyntaxError...) for bad files
        raise _corrupt(path, exc) from None
    with im:
        if im.width * im.height > limit:
            raise _too_large(path, f"{im.width}x{im.height}, {im.width * im.height / 1e6:.0f} megapixels", limit)
        try:
            im.load()
            if exif:
                ImageOps.exif_transpose(im, in_place=True)
        except Exception as exc:
            raise _corrupt(path, exc) from None
        return _to_array(im, alpha, f"Image {path}")


def _corrupt(path: Path, exc: Exception) -> LivesegError:
    return LivesegError(
        f"Cannot read image {path}: {path.name} is unreadable or corrupt ({exc}); replace or remove it."
    )


def _too_large(path: Path, detail: str, limit: int) -> LivesegError:
    return LivesegError(
        f"Image {path} ({detail}) is above the limit of {limit / 1e6:g} megapixels; downscale it or raise the "
        f"limit ({MAX_PIXELS_ENV}, or --max-pixels of liveseg segment)."
    )


def _to_array(im: Image.Image, alpha: bool, what: str) -> np.ndarray:
    if im.mode in _HIGH_BIT_TOP:
        return np.repeat(_high_bit_to_uint8(im, what)[..., None], 3, axis=2)
    keep_alpha = alpha and (im.mode in _ALPHA_MODES or (im.mode == "P" and "transparency" in im.info))
    try:
        return np.array(im.convert("RGBA" if keep_alpha else "RGB"))  # writable, as augmentation needs
    except ValueError:
        raise LivesegError(f"{what} has Pillow mode {im.mode}, which liveseg cannot convert; save it as RGB.") from None


def _high_bit_to_uint8(im: Image.Image, what: str) -> np.ndarray:
    """A 16-bit or float single-channel image as rounded 0..255; values outside its range are refused."""
    top = _HIGH_BIT_TOP[im.mode]
    values = np.asarray(im)
    low, high = (values.min(), values.max()) if values.size else (0, 0)
    if not (low >= 0 and high <= top):  # also refuses NaN
        raise LivesegError(
            f"{what} holds values from {low:g} to {high:g}, but liveseg reads {im.mode} images as 0..{top:g}; "
            "rescale it to that range or convert it to 8 bits first."
        )
    if im.mode == "F":
        return np.rint(values * np.float32(255)).astype(np.uint8)
    return ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)  # round(v * 255 / 65535)


def _check_array(arr: np.ndarray) -> np.ndarray:
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4) or 0 in arr.shape:
        raise LivesegError(
            f"Expected an HxWx3 or HxWx4 uint8 image array, got {arr.dtype} of shape {arr.shape}; "
            "convert it first (e.g. np.asarray(pil_image.convert('RGB')))."
        )
    return arr
