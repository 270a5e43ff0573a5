"""Pascal VOC 2012 segmentation: 20 object classes plus background; object borders (255) are ignored.

Layout (the official VOCtrainval_11-May-2012.tar): `VOC2012/JPEGImages/*.jpg`,
`VOC2012/SegmentationClass/*.png` (palette PNGs whose indices are the class ids) and
`VOC2012/ImageSets/Segmentation/{train,val,trainval}.txt`.
`--data-root` may point at `VOC2012/`, or at a folder holding `VOC2012/` or `VOCdevkit/VOC2012/`.
"""

from __future__ import annotations

from pathlib import Path

from liveseg.data.base import DatasetInfo, SegmentationDataset, bitwise_palette, lookup_table, register
from liveseg.errors import LivesegError

CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
    "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
    "tvmonitor",
)  # fmt: skip

INFO = DatasetInfo(
    name="voc",
    classes=CLASSES,
    palette=bitwise_palette(len(CLASSES)),
    ignore_index=255,
    license="Flickr terms of use for the images; annotations by the PASCAL VOC project",
    url="http://host.robots.ox.ac.uk/pascal/VOC/voc2012/",
)


@register("voc")
class VOC(SegmentationDataset):
    info = INFO
    splits = ("train", "val", "trainval")
    how_to_get = (
        "download VOCtrainval_11-May-2012.tar from http://host.robots.ox.ac.uk/pascal/VOC/voc2012/, "
        "extract it and pass --data-root to its VOC2012 folder."
    )
    # Indices above 20 do not occur in VOC; mapping them to ignore keeps a stray value out of the loss.
    label_lut = lookup_table({i: i for i in range(len(CLASSES))}, default=255)

    def find_pairs(self, split: str) -> list[tuple[Path, Path]]:
        base = next(
            (d for d in (self.root, self.root / "VOC2012", self.root / "VOCdevkit" / "VOC2012")
             if (d / "ImageSets" / "Segmentation").is_dir()),
            None,
        )  # fmt: skip
        if base is None:
            return []
        listing = base / "ImageSets" / "Segmentation" / f"{split}.txt"
        if not listing.is_file():
            return []
        pairs = []
        for stem in listing.read_text().split():
            image, label = base / "JPEGImages" / f"{stem}.jpg", base / "SegmentationClass" / f"{stem}.png"
            if not image.is_file() or not label.is_file():
                raise LivesegError(f"{listing} lists {stem} but {image} or {label} is missing; re-extract VOC.")
            pairs.append((image, label))
        return pairs
