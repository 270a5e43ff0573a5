"""VOC, Cityscapes and ADE20K readers on tiny copies of their official layouts, built from real CamVid pairs.

Raw labels are made by re-coding CamVid ids into each dataset's own id space, so the expected mapped label
is known independently of the reader's lookup tables.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg.data import get_dataset, get_info
from liveseg.errors import LivesegError


def _raw_labels(pairs: list[tuple[Path, Path]], codes: list[int]) -> list[np.ndarray]:
    """CamVid label ids 0..11 replaced by codes[id]: any raw id space, with real object shapes."""
    table = np.array(codes, dtype=np.uint8)
    return [table[np.array(Image.open(label))] for _, label in pairs]


def test_voc(tmp_path: Path, camvid_pairs) -> None:
    root = tmp_path / "VOCdevkit" / "VOC2012"
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (root / sub).mkdir(parents=True)
    # CamVid ids 0..10 -> VOC ids 0,2,...,20; void -> 255 (border); 21 never occurs in VOC -> ignore.
    codes = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 21, 255]
    palette = [v for color in get_info("voc").palette for v in color]
    stems = []
    for (image, _), raw in zip(camvid_pairs, _raw_labels(camvid_pairs, codes), strict=True):
        stems.append(image.stem)
        shutil.copy(image, root / "JPEGImages" / image.name)
        png = Image.fromarray(raw, mode="P")
        png.putpalette(palette)
        png.save(root / "SegmentationClass" / f"{image.stem}.png")
    (root / "ImageSets/Segmentation/train.txt").write_text("\n".join(stems[:3]) + "\n")
    (root / "ImageSets/Segmentation/val.txt").write_text(stems[3] + "\n")

    train = get_dataset("voc", "train", root=tmp_path)  # the folder holding VOCdevkit/ works too
    assert len(train) == 3 and len(get_dataset("voc", "val", root=root)) == 1
    image, label = train[0]
    raw = _raw_labels(camvid_pairs[:1], codes)[0]
    expected = np.where(raw == 21, 255, raw)
    np.testing.assert_array_equal(label, expected)
    assert image.shape == (*label.shape, 3)
    info = get_info("voc")
    assert info.num_classes == 21 and info.ignore_index == 255
    assert info.palette[:3] == ((0, 0, 0), (128, 0, 0), (0, 128, 0))


def test_voc_listing_an_absent_image(tmp_path: Path) -> None:
    (tmp_path / "ImageSets/Segmentation").mkdir(parents=True)
    (tmp_path / "ImageSets/Segmentation/train.txt").write_text("2007_000032\n")
    with pytest.raises(LivesegError, match="lists 2007_000032"):
        get_dataset("voc", "train", root=tmp_path)


# Cityscapes labelIds with their official train ids (255: not evaluated).
CITYSCAPES = [(7, 0), (8, 1), (11, 2), (21, 8), (23, 10), (24, 11), (26, 13), (33, 18), (0, 255), (6, 255),
              (9, 255), (34, 255)]  # fmt: skip


def test_cityscapes(tmp_path: Path, camvid_pairs) -> None:
    codes = [label_id for label_id, _ in CITYSCAPES]
    for split, city, pairs in (("train", "aachen", camvid_pairs[:2]), ("val", "lindau", camvid_pairs[2:])):
        (tmp_path / "leftImg8bit" / split / city).mkdir(parents=True)
        (tmp_path / "gtFine" / split / city).mkdir(parents=True)
        for k, ((image, _), raw) in enumerate(zip(pairs, _raw_labels(pairs, codes), strict=True)):
            stem = f"{city}_{k:06d}_000019"
            Image.open(image).save(tmp_path / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png")
            Image.fromarray(raw).save(tmp_path / "gtFine" / split / city / f"{stem}_gtFine_labelIds.png")

    val = get_dataset("cityscapes", "val", root=tmp_path)
    assert len(get_dataset("cityscapes", "train", root=tmp_path)) == 2 and len(val) == 2
    expected = np.array([train_id for _, train_id in CITYSCAPES], dtype=np.uint8)
    camvid_ids = np.array(Image.open(camvid_pairs[2][1]))
    np.testing.assert_array_equal(val[0][1], expected[camvid_ids])
    info = get_info("cityscapes")
    assert info.num_classes == 19 and info.classes[0] == "road" and info.classes[18] == "bicycle"
    assert info.palette[13] == (0, 0, 142)


@pytest.mark.parametrize("nested", [False, True])
def test_ade20k(tmp_path: Path, camvid_pairs, nested: bool) -> None:
    base = tmp_path / "ADEChallengeData2016" if nested else tmp_path
    codes = [0, 1, 2, 3, 50, 99, 100, 120, 140, 149, 150, 0]
    for split, pairs in (("training", camvid_pairs[:3]), ("validation", camvid_pairs[3:])):
        (base / "images" / split).mkdir(parents=True)
        (base / "annotations" / split).mkdir(parents=True)
        for k, ((image, _), raw) in enumerate(zip(pairs, _raw_labels(pairs, codes), strict=True)):
            shutil.copy(image, base / "images" / split / f"ADE_{split}_{k:08d}.jpg")
            Image.fromarray(raw).save(base / "annotations" / split / f"ADE_{split}_{k:08d}.png")

    train = get_dataset("ade20k", "train", root=tmp_path)
    assert len(train) == 3 and len(get_dataset("ade20k", "val", root=tmp_path)) == 1
    raw = _raw_labels(camvid_pairs[1:2], codes)[0]
    np.testing.assert_array_equal(train[1][1], np.where(raw == 0, 255, raw.astype(np.int16) - 1))
    info = get_info("ade20k")
    assert info.num_classes == 150 and len(set(info.classes)) == 150 and len(set(info.palette)) == 150
    assert (info.classes[0], info.classes[149]) == ("wall", "flag")


@pytest.mark.parametrize("name, hint", [("cityscapes", "cityscapes-dataset.com"), ("ade20k", "sceneparsing"),
                                        ("voc", "VOCtrainval_11-May-2012.tar")])  # fmt: skip
def test_missing_root_says_where_to_download(tmp_path: Path, name: str, hint: str) -> None:
    with pytest.raises(LivesegError, match=f"{hint}.*--data-root"):
        get_dataset(name, "train", root=tmp_path / "absent")
