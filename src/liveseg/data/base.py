"""What every dataset shares: class metadata, the registry, and a numpy + Pillow reader of image/label pairs.

Readers stay torch-free so that evaluation, benchmarks and the CLI can read data where only numpy and
Pillow are installed; augmentation and the torch wrapper live in `transforms` and `loader`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image

from liveseg import paths, sources
from liveseg.data.settings import FetchSettings
from liveseg.errors import LivesegError
from liveseg.images import IMAGE_SUFFIXES, read_image
from liveseg.progress import QUIET, Progress
from liveseg.registry import Registry

Color = tuple[int, int, int]


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

    Class attributes describe the dataset for the registry: `info`, `splits`, `split_help` (what else a split
    argument may say) and `how_to_get` (the sentence fragment used when the data is not on disk).
    """

    name: ClassVar[str]  # set by @register
    # `info` and `label_lut` are class attributes that a dataset whose classes live in its files (folder) sets per
    # instance, hence not ClassVar.
    info: DatasetInfo
    splits: ClassVar[tuple[str, ...]] = ("train", "val")
    split_help: ClassVar[str] = "or several joined by +, e.g. train+val"
    how_to_get: ClassVar[str] = ""
    # 256-entry table from raw label value to returned id; None keeps values as they are.
    label_lut: np.ndarray | None = None

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train") -> None:
        self.root = self.check_root(root)
        splits = self.available_splits(self.root)
        for part in split.split("+"):
            if not self.knows_split(self.root, part):
                raise LivesegError(
                    f"Unknown split {part!r} for {self.name}; choose one of {', '.join(splits)} ({self.split_help})."
                )
        self.split = split
        self.pairs: list[tuple[Path, Path]] = [pair for part in split.split("+") for pair in self.find_pairs(part)]
        if not self.pairs:
            raise LivesegError(
                f"No {split} images found for {self.name} under {self.root}; "
                f"check that folder's layout, or {self.how_to_get}"
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

    @classmethod
    def knows_split(cls, root: Path, split: str) -> bool:
        """Whether `split` names one part of this dataset: one of `available_splits` unless a dataset adds more."""
        return split in cls.available_splits(root)

    def find_pairs(self, split: str) -> list[tuple[Path, Path]]:
        """The (image, label) files of one split, in a fixed order; [] when the split is not on disk."""
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


_REGISTRY: Registry[type[SegmentationDataset]] = Registry("dataset")


def register(name: str) -> Callable[[type[SegmentationDataset]], type[SegmentationDataset]]:
    """Class decorator that makes a dataset reachable by name from `get_dataset`, the CLI and training."""

    def wrap(cls: type[SegmentationDataset]) -> type[SegmentationDataset]:
        cls.name = name
        return _REGISTRY.add(name, cls)

    return wrap


def dataset_class(name: str) -> type[SegmentationDataset]:
    return _REGISTRY.lookup(name)


def list_datasets() -> list[str]:
    return _REGISTRY.names()


def get_info(name: str, root: str | os.PathLike | None = None) -> DatasetInfo:
    """Class names, palette and ignore index of a dataset (the folder dataset reads them from `root`)."""
    return dataset_class(name).load_info(root)


def get_dataset(name: str, split: str = "train", root: str | os.PathLike | None = None) -> SegmentationDataset:
    """A split of a dataset; `root` None means `liveseg.paths.data_dir() / name`."""
    return dataset_class(name)(root=root, split=split)


def fetch_dataset(settings: FetchSettings, progress: Progress = QUIET) -> Path:
    """Download a dataset, verify every file's sha256 and place it where its root defaults to (or at `dest`);
    one that cannot be downloaded says how to get it."""
    cls = dataset_class(settings.name)  # unknown names fail here, listing the known ones
    if settings.name not in sources.SOURCES:
        raise LivesegError(f"liveseg cannot download {settings.name}: {cls.how_to_get}")
    return sources.fetch(settings.name, dest=settings.dest, location=settings.location, progress=progress)


def label_histograms(
    dataset: SegmentationDataset, indices: Sequence[int] | None = None, progress: Progress = QUIET
) -> np.ndarray:
    """Pixels of each label value 0..255 in each image's label, one row an image (its images are not read)."""
    indices = range(len(dataset)) if indices is None else indices
    rows = np.zeros((len(indices), 256), dtype=np.int64)
    task = progress.add_task(f"counting {dataset.split} labels", total=len(indices))
    for row, i in enumerate(indices):
        rows[row] = np.bincount(dataset.label(i).ravel(), minlength=256)
        progress.advance(task)
    return rows


def pixel_counts(dataset: SegmentationDataset, progress: Progress = QUIET) -> np.ndarray:
    """Pixels of each label value 0..255 over the split's labels."""
    return label_histograms(dataset, progress=progress).sum(axis=0)


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
