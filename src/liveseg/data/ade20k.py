"""ADE20K scene parsing (the SceneParsing / ADEChallengeData2016 release): 150 classes.

Layout: `ADEChallengeData2016/images/{training,validation}/*.jpg` and
`ADEChallengeData2016/annotations/{training,validation}/*.png`.
Label 0 means "other" and is ignored (255); labels 1..150 become 0..149. The palette is the Pascal VOC
bit-spreading colour map from id 1 on: distinct neighbouring colours, no official palette exists.
"""

from __future__ import annotations

from pathlib import Path

from liveseg.data.base import (
    DatasetInfo,
    SegmentationDataset,
    bitwise_palette,
    lookup_table,
    pair_by_stem,
    register,
)

# Short names of objectInfo150.csv (first synonym of each class), in id order 1..150.
CLASSES = (
    "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass",
    "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant", "curtain", "chair",
    "car", "water", "painting", "sofa", "shelf", "house", "sea", "mirror", "rug", "field",
    "armchair", "seat", "fence", "desk", "rock", "wardrobe", "lamp", "bathtub", "railing", "cushion",
    "base", "box", "column", "signboard", "chest of drawers", "counter", "sand", "sink", "skyscraper",
    "fireplace", "refrigerator", "grandstand", "path", "stairs", "runway", "case", "pool table", "pillow",
    "screen door", "stairway", "river", "bridge", "bookcase", "blind", "coffee table", "toilet", "flower",
    "book", "hill", "bench", "countertop", "stove", "palm", "kitchen island", "computer", "swivel chair",
    "boat", "bar", "arcade machine", "hovel", "bus", "towel", "light", "truck", "tower", "chandelier",
    "awning", "streetlight", "booth", "television receiver", "airplane", "dirt track", "apparel", "pole",
    "land", "bannister", "escalator", "ottoman", "bottle", "buffet", "poster", "stage", "van", "ship",
    "fountain", "conveyer belt", "canopy", "washer", "plaything", "swimming pool", "stool", "barrel",
    "basket", "waterfall", "tent", "bag", "minibike", "cradle", "oven", "ball", "food", "step", "tank",
    "trade name", "microwave", "pot", "animal", "bicycle", "lake", "dishwasher", "screen", "blanket",
    "sculpture", "hood", "sconce", "vase", "traffic light", "tray", "ashcan", "fan", "pier", "crt screen",
    "plate", "monitor", "bulletin board", "shower", "radiator", "glass", "clock", "flag",
)  # fmt: skip

INFO = DatasetInfo(
    name="ade20k",
    classes=CLASSES,
    palette=bitwise_palette(len(CLASSES), start=1),
    ignore_index=255,
    license="MIT Scene Parsing Benchmark terms: images for non-commercial research and education only",
    url="http://sceneparsing.csail.mit.edu/",
)

SPLIT_DIRS = {"train": "training", "val": "validation"}


@register("ade20k")
class ADE20K(SegmentationDataset):
    info = INFO
    how_to_get = (
        "download ADEChallengeData2016.zip from http://sceneparsing.csail.mit.edu/ (accept its terms), "
        "extract it and pass --data-root to the ADEChallengeData2016 folder."
    )
    label_lut = lookup_table({i: i - 1 for i in range(1, len(CLASSES) + 1)}, default=255)

    def find_pairs(self, split: str) -> list[tuple[Path, Path]]:
        base = self.root if (self.root / "images").is_dir() else self.root / "ADEChallengeData2016"
        image_dir = base / "images" / SPLIT_DIRS[split]
        label_dir = base / "annotations" / SPLIT_DIRS[split]
        if not image_dir.is_dir() or not label_dir.is_dir():
            return []
        return pair_by_stem(image_dir, label_dir)
