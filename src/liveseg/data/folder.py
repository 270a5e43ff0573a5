"""Your own data: a folder of images and masks paired by file stem, described by a `classes.json`.

Layout, either with one sub-folder per split::

    <root>/classes.json
    <root>/images/train/0001.jpg    <root>/masks/train/0001.png
    <root>/images/val/0002.jpg      <root>/masks/val/0002.png

or flat, with optional split lists (one file stem per line)::

    <root>/images/0001.jpg  <root>/masks/0001.png  <root>/train.txt  <root>/val.txt

In the flat layout the split `all` is every pair, and split `S` is the stems listed in `<root>/S.txt`.

`classes.json`::

    {
      "classes": [{"name": "background", "color": [0, 0, 0]}, {"name": "person", "color": [220, 20, 60]}],
      "ignore_index": 255,
      "license": "optional free text",
      "url": "optional homepage"
    }

Class ids are positions in `classes`; `ignore_index` must not be one of them. Images are any Pillow-readable
RGB file (.jpg, .png, ...). Masks are PNGs, either 8-bit single-channel (grey or palette) holding class ids,
or RGB painted with exactly the class colours. Ids or colours that are not a class become `ignore_index`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from liveseg.data.base import DatasetInfo, SegmentationDataset, lookup_table, pair_by_stem, register
from liveseg.errors import LivesegError

ALL = "all"


def _parse_classes(path: Path) -> DatasetInfo:
    try:
        spec = json.loads(path.read_text())
        classes = [(str(c["name"]), tuple(int(v) for v in c["color"])) for c in spec["classes"]]
        ignore = int(spec.get("ignore_index", 255))
        if not 0 <= ignore <= 255:
            raise ValueError(f"ignore_index {ignore} is not in 0..255")
        if not classes or any(len(color) != 3 or not all(0 <= v <= 255 for v in color) for _, color in classes):
            raise ValueError("each class needs a name and an [r, g, b] colour of 0..255")
        return DatasetInfo(
            name="folder",
            classes=tuple(name for name, _ in classes),
            palette=tuple(color for _, color in classes),  # type: ignore[misc]
            ignore_index=ignore,
            license=str(spec.get("license", "")),
            url=str(spec.get("url", "")),
        )
    except FileNotFoundError:
        raise LivesegError(f"{path} is missing; a folder dataset needs it (see `liveseg data info folder`).") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LivesegError(
            f"{path} is not a valid classes file ({exc}); it needs "
            '{"classes": [{"name": ..., "color": [r, g, b]}, ...], "ignore_index": 255}.'
        ) from exc


@register("folder")
class Folder(SegmentationDataset):
    splits = (ALL,)
    how_to_get = "pass --data-root to a folder with images/, masks/ and classes.json (format: liveseg.data.folder)."
    label_lut: np.ndarray  # always set, from classes.json

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train") -> None:
        root_path = self.check_root(root)
        self.info = _parse_classes(root_path / "classes.json")
        n = len(self.info.classes)
        self.label_lut = lookup_table({i: i for i in range(min(n, 256))}, default=self.info.ignore_index)
        keys = np.array([(r << 16) | (g << 8) | b for r, g, b in self.info.palette], dtype=np.int64)
        self._color_order = np.argsort(keys)
        self._sorted_keys = keys[self._color_order]
        super().__init__(root_path, split)

    @classmethod
    def load_info(cls, root: str | os.PathLike | None = None) -> DatasetInfo:
        return _parse_classes(cls.check_root(root) / "classes.json")

    @classmethod
    def available_splits(cls, root: Path) -> tuple[str, ...]:
        images = root / "images"
        subdirs = tuple(sorted(d.name for d in images.iterdir() if d.is_dir())) if images.is_dir() else ()
        if subdirs:
            return subdirs
        return (ALL, *sorted(p.stem for p in root.glob("*.txt")))

    def find_pairs(self, split: str) -> list[tuple[Path, Path]]:
        images, masks = self.root / "images", self.root / "masks"
        if not images.is_dir():
            return []
        if (images / split).is_dir():
            return pair_by_stem(images / split, masks / split)
        pairs = pair_by_stem(images, masks)
        if split == ALL:
            return pairs
        wanted = set((self.root / f"{split}.txt").read_text().split())
        missing = wanted - {img.stem for img, _ in pairs}
        if missing:
            raise LivesegError(
                f"{self.root / (split + '.txt')} lists {len(missing)} stems with no image, e.g. "
                f"{sorted(missing)[0]!r}; fix the list or add the files."
            )
        return [(img, mask) for img, mask in pairs if img.stem in wanted]

    def map_label(self, raw: np.ndarray, path: Path) -> np.ndarray:
        if raw.ndim == 2:
            return self.label_lut[raw]
        # Colour-coded mask: look each pixel's colour up among the class colours.
        keys = (raw[..., 0].astype(np.int64) << 16) | (raw[..., 1].astype(np.int64) << 8) | raw[..., 2]
        pos = np.clip(np.searchsorted(self._sorted_keys, keys), 0, len(self._sorted_keys) - 1)
        found = self._sorted_keys[pos] == keys
        return np.where(found, self._color_order[pos], self.info.ignore_index).astype(np.uint8)
