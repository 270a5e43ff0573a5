"""What every dataset shares: class metadata, the registry, and a numpy + Pillow reader of image/label pairs.

Readers stay torch-free so that evaluation, benchmarks and the CLI can read data where only numpy and
Pillow are installed; augmentation and the torch wrapper live in `transforms` and `loader`.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image, ImageOps

from liveseg import paths
from liveseg.errors import LivesegError
from liveseg.limits import MAX_PIXELS_ENV, max_image_pixels

Color = tuple[int, int, int]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"})

ImageLike = str | os.PathLike | Image.Image | np.ndarray

# Pillow modes with more than 8 bits per sample and the value that becomes 255: integer images are read as
# 16-bit (Pillow opens 16-bit PNG and TIFF files as I;16, and 32-bit "I" images usually hold such data),
# floating-point images as 0..1. Values outside the range are refused, never clipped.
_HIGH_BIT_TOP = {"I;16": 65535, "I;16B": 65535, "I;16L": 65535, "I;16N": 65535, "I": 65535, "F": 1.0}
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "PA"})


@dataclass(frozen=True)
class DatasetInfo:
    """Everything a model, a checkpoint or a bundle needs to know about a dataset's labels."""

    name: str
    classes: tuple[str, ...]
    palette: tuple[Color, ...]
    ignore_index: int
    license: str
    url: str

    def __post_init__(self) -> None:
        if len(self.classes) != len(self.palette):
            raise ValueError(f"{self.name}: {len(self.classes)} classes but {len(self.palette)} colours")
        if 0 <= self.ignore_index < len(self.classes):
            raise ValueError(f"{self.name}: ignore_index {self.ignore_index} is a real class id")

    @property
    def num_classes(self) -> int:
        return len(self.classes)


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


def read_label(path: Path) -> np.ndarray:
    """HxW uint8 raw label ids, or HxWx3 for colour-coded masks; palette PNGs give their indices."""
    try:
        with Image.open(path) as im:
            if im.mode in ("L", "P"):
                return np.array(im)
            if im.mode in ("RGB", "RGBA"):
                return np.array(im.convert("RGB"))
            arr = np.array(im)
    except (OSError, SyntaxError, ValueError) as exc:
        raise LivesegError(f"Cannot read label {path} ({exc}); replace or delete the file.") from exc
    if arr.ndim != 2 or arr.max(initial=0) > 255:
        raise LivesegError(f"Label {path} is a {im.mode} image; labels must be 8-bit single-channel PNGs.")
    return arr.astype(np.uint8)


def pair_by_stem(image_dir: Path, label_dir: Path, label_suffix: str = ".png") -> list[tuple[Path, Path]]:
    """Images and labels matched by file stem; an image without a label means a broken copy."""
    images = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    pairs = []
    for img in images:
        label = label_dir / (img.stem + label_suffix)
        if not label.is_file():
            raise LivesegError(f"Image {img} has no label {label}; the dataset copy is incomplete.")
        pairs.append((img, label))
    return pairs


class SegmentationDataset:
    """A list of (image, label) files read on demand; subclasses find the pairs and map raw label ids.

    Class attributes describe the dataset for the registry: `info`, `splits`, and `how_to_get` (the
    sentence fragment used when the data is not on disk).
    """

    name: ClassVar[str]  # set by @register
    info: ClassVar[DatasetInfo]
    splits: ClassVar[tuple[str, ...]] = ("train", "val")
    how_to_get: ClassVar[str] = ""
    # 256-entry table from raw label value to returned id; None keeps values as they are.
    label_lut: ClassVar[np.ndarray | None] = None

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train") -> None:
        self.root = self.check_root(root)
        splits = self.available_splits(self.root)
        if split not in splits:
            raise LivesegError(f"Unknown split {split!r} for {self.name}; choose one of {', '.join(splits)}.")
        self.split = split
        self.pairs: list[tuple[Path, Path]] = self.find_pairs()
        if not self.pairs:
            raise LivesegError(
                f"No {split} images found for {self.name} under {self.root}; "
                f"check the layout or --data-root ({self.how_to_get})"
            )

    @classmethod
    def default_root(cls) -> Path:
        return paths.data_dir() / cls.name

    @classmethod
    def check_root(cls, root: str | os.PathLike | None) -> Path:
        """The dataset folder (`root` or the default one); a missing folder says how to get the data."""
        path = Path(root).expanduser() if root is not None else cls.default_root()
        if not path.is_dir():
            raise LivesegError(f"{cls.name} not found at {path}; {cls.how_to_get}")
        return path

    @classmethod
    def load_info(cls, root: str | os.PathLike | None = None) -> DatasetInfo:
        """Metadata for this dataset; `root` matters only for datasets that describe themselves on disk."""
        return cls.info

    @classmethod
    def available_splits(cls, root: Path) -> tuple[str, ...]:
        """Split names this copy may hold; the folder dataset reads them from disk, others are fixed."""
        return cls.splits

    def find_pairs(self) -> list[tuple[Path, Path]]:
        raise NotImplementedError

    def map_label(self, raw: np.ndarray, path: Path) -> np.ndarray:
        if raw.ndim != 2:
            raise LivesegError(f"Label {path} is a colour image; {self.name} labels are single-channel.")
        return raw if self.label_lut is None else self.label_lut[raw]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        image_path, label_path = self.pairs[index]
        image = read_image(image_path, alpha=False, exif=False)
        label = self.label(index)
        if image.shape[:2] != label.shape:
            raise LivesegError(
                f"Image {image_path} is {image.shape[1]}x{image.shape[0]} but its label {label_path} is "
                f"{label.shape[1]}x{label.shape[0]}; the two files must have the same size."
            )
        return image, label

    def label(self, index: int) -> np.ndarray:
        """The mapped label alone, for statistics that need no image decoding."""
        path = self.pairs[index][1]
        return self.map_label(read_label(path), path)

    def image_path(self, index: int) -> Path:
        return self.pairs[index][0]

    def label_path(self, index: int) -> Path:
        return self.pairs[index][1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={str(self.root)!r}, split={self.split!r}, n={len(self)})"


_REGISTRY: dict[str, type[SegmentationDataset]] = {}


def register(name: str) -> Callable[[type[SegmentationDataset]], type[SegmentationDataset]]:
    """Class decorator that makes a dataset reachable by name from `get_dataset`, the CLI and training."""

    def wrap(cls: type[SegmentationDataset]) -> type[SegmentationDataset]:
        if name in _REGISTRY:
            raise ValueError(f"dataset {name!r} is registered twice")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return wrap


def dataset_class(name: str) -> type[SegmentationDataset]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LivesegError(f"Unknown dataset {name!r}; choose one of {', '.join(list_datasets())}.") from None


def list_datasets() -> list[str]:
    return sorted(_REGISTRY)


def get_info(name: str, root: str | os.PathLike | None = None) -> DatasetInfo:
    """Class names, palette and ignore index of a dataset (the folder dataset reads them from `root`)."""
    return dataset_class(name).load_info(root)


def get_dataset(name: str, split: str = "train", root: str | os.PathLike | None = None) -> SegmentationDataset:
    """A split of a dataset; `root` None means `liveseg.paths.data_dir() / name`."""
    return dataset_class(name)(root=root, split=split)


def bitwise_palette(n: int, start: int = 0) -> tuple[Color, ...]:
    """The Pascal VOC colour map: spreads the bits of each id over R, G and B, so neighbours differ."""
    colors = []
    for i in range(start, start + n):
        r = g = b = 0
        c = i
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        colors.append((r, g, b))
    return tuple(colors)


def lookup_table(mapping: dict[int, int], default: int) -> np.ndarray:
    lut = np.full(256, default, dtype=np.uint8)
    for raw, mapped in mapping.items():
        lut[raw] = mapped
    return lut
