"""Cityscapes fine annotations, evaluated on the 19 official train ids; every other label id is ignored (255).

Layout (leftImg8bit_trainvaltest.zip + gtFine_trainvaltest.zip extracted into one folder):
`leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png` and `gtFine/<split>/<city>/<stem>_gtFine_labelIds.png`.
"""

from __future__ import annotations

from pathlib import Path

from liveseg.data.base import DatasetInfo, SegmentationDataset, lookup_table, register
from liveseg.errors import LivesegError

# (labelId, name, colour) of the 19 classes used for evaluation, in train-id order.
TRAIN_CLASSES = (
    (7, "road", (128, 64, 128)),
    (8, "sidewalk", (244, 35, 232)),
    (11, "building", (70, 70, 70)),
    (12, "wall", (102, 102, 156)),
    (13, "fence", (190, 153, 153)),
    (17, "pole", (153, 153, 153)),
    (19, "traffic light", (250, 170, 30)),
    (20, "traffic sign", (220, 220, 0)),
    (21, "vegetation", (107, 142, 35)),
    (22, "terrain", (152, 251, 152)),
    (23, "sky", (70, 130, 180)),
    (24, "person", (220, 20, 60)),
    (25, "rider", (255, 0, 0)),
    (26, "car", (0, 0, 142)),
    (27, "truck", (0, 0, 70)),
    (28, "bus", (0, 60, 100)),
    (31, "train", (0, 80, 100)),
    (32, "motorcycle", (0, 0, 230)),
    (33, "bicycle", (119, 11, 32)),
)

INFO = DatasetInfo(
    name="cityscapes",
    classes=tuple(name for _, name, _ in TRAIN_CLASSES),
    palette=tuple(color for _, _, color in TRAIN_CLASSES),
    ignore_index=255,
    license="Cityscapes licence: non-commercial research and teaching only, registration required",
    url="https://www.cityscapes-dataset.com/",
)

IMAGE_SUFFIX, LABEL_SUFFIX = "_leftImg8bit.png", "_gtFine_labelIds.png"


@register("cityscapes")
class Cityscapes(SegmentationDataset):
    info = INFO
    splits = ("train", "val", "test")
    how_to_get = (
        "register at https://www.cityscapes-dataset.com/, download leftImg8bit_trainvaltest.zip and "
        "gtFine_trainvaltest.zip, extract both into one folder and pass it as --data-root."
    )
    label_lut = lookup_table({label_id: train_id for train_id, (label_id, _, _) in enumerate(TRAIN_CLASSES)}, 255)

    def find_pairs(self, split: str) -> list[tuple[Path, Path]]:
        image_root = self.root / "leftImg8bit" / split
        if not image_root.is_dir():
            return []
        pairs = []
        for image in sorted(image_root.glob(f"*/*{IMAGE_SUFFIX}")):
            stem = image.name.removesuffix(IMAGE_SUFFIX)
            label = self.root / "gtFine" / split / image.parent.name / f"{stem}{LABEL_SUFFIX}"
            if not label.is_file():
                raise LivesegError(f"Image {image} has no label {label}; extract gtFine_trainvaltest.zip too.")
            pairs.append((image, label))
        return pairs
