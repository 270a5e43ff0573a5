from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from liveseg.data import get_dataset, get_info
from liveseg.errors import LivesegError


def _classes_json(root: Path, ignore_index: int = 11) -> None:
    info = get_info("camvid")
    spec = {
        "classes": [{"name": n, "color": list(c)} for n, c in zip(info.classes, info.palette, strict=True)],
        "ignore_index": ignore_index,
        "license": "test",
    }
    (root / "classes.json").write_text(json.dumps(spec))


@pytest.fixture
def split_folder(tmp_path: Path, camvid_pairs) -> Path:
    for split, pairs in (("train", camvid_pairs[:3]), ("val", camvid_pairs[3:])):
        (tmp_path / "images" / split).mkdir(parents=True)
        (tmp_path / "masks" / split).mkdir(parents=True)
        for image, label in pairs:
            shutil.copy(image, tmp_path / "images" / split / image.name)
            shutil.copy(label, tmp_path / "masks" / split / label.name)
    _classes_json(tmp_path)
    return tmp_path


def test_split_subfolders(split_folder: Path, camvid_pairs) -> None:
    train = get_dataset("folder", "train", root=split_folder)
    assert len(train) == 3 and len(get_dataset("folder", "val", root=split_folder)) == 1
    image, label = train[0]
    np.testing.assert_array_equal(label, np.array(Image.open(camvid_pairs[0][1])))
    assert image.shape == (360, 480, 3)
    info = get_info("folder", root=split_folder)
    assert info.classes == get_info("camvid").classes and info.ignore_index == 11 and info.license == "test"
    with pytest.raises(LivesegError, match="choose one of train, val"):
        get_dataset("folder", "test", root=split_folder)


def test_flat_layout_with_split_lists(tmp_path: Path, camvid_pairs) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for image, label in camvid_pairs:
        shutil.copy(image, tmp_path / "images" / image.name)
        shutil.copy(label, tmp_path / "masks" / label.name)
    _classes_json(tmp_path)
    (tmp_path / "val.txt").write_text(camvid_pairs[1][0].stem + "\n")
    assert len(get_dataset("folder", "all", root=tmp_path)) == 4
    val = get_dataset("folder", "val", root=tmp_path)
    assert [p.stem for p in (val.image_path(0), val.label_path(0))] == [camvid_pairs[1][0].stem] * 2
    (tmp_path / "val.txt").write_text("no_such_stem\n")
    with pytest.raises(LivesegError, match="no_such_stem"):
        get_dataset("folder", "val", root=tmp_path)


def test_colour_masks_and_unknown_ids_map_to_classes_or_ignore(split_folder: Path, camvid_pairs) -> None:
    _classes_json(split_folder, ignore_index=255)
    info = get_info("camvid")
    ids = np.array(Image.open(camvid_pairs[0][1]))
    lut = np.array([*info.palette, (1, 2, 3)], dtype=np.uint8)  # void painted in a colour no class has
    mask = split_folder / "masks" / "train" / camvid_pairs[0][1].name
    Image.fromarray(lut[ids]).save(mask)
    expected = np.where(ids == 11, 255, ids)
    np.testing.assert_array_equal(get_dataset("folder", "train", root=split_folder)[0][1], expected)
    # Grey masks: id 11 is no class once ignore_index is 255, so it becomes ignore as well.
    shutil.copy(camvid_pairs[0][1], mask)
    np.testing.assert_array_equal(get_dataset("folder", "train", root=split_folder)[0][1], expected)


@pytest.mark.parametrize(
    "content, match",
    [
        (None, "classes.json is missing"),
        ("{not json", "not a valid classes file"),
        ('{"classes": [{"name": "a", "color": [0, 0]}]}', "not a valid classes file"),
        ('{"classes": [{"name": "a", "color": [0, 0, 0]}], "ignore_index": 0}', "real class id"),
    ],
)
def test_bad_classes_json(split_folder: Path, content: str | None, match: str) -> None:
    path = split_folder / "classes.json"
    if content is None:
        path.unlink()
    else:
        path.write_text(content)
    with pytest.raises(LivesegError, match=match):
        get_dataset("folder", "train", root=split_folder)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(LivesegError, match=r"folder not found at .*--data-root"):
        get_info("folder", root=tmp_path / "absent")
