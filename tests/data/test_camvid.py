from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from liveseg.data import NORMALIZATION, get_dataset, get_info, list_datasets
from liveseg.errors import LivesegError


def test_registry_lists_every_dataset() -> None:
    assert set(list_datasets()) >= {"camvid", "voc", "cityscapes", "ade20k", "folder"}


def test_split_sizes_and_arrays(camvid_root: Path) -> None:
    train = get_dataset("camvid", "train", root=camvid_root)
    val = get_dataset("camvid", "val", root=camvid_root)
    assert (len(train), len(val)) == (367, 101)
    for ds, i in ((train, 0), (train, 366), (val, 50)):
        image, label = ds[i]
        assert image.shape == (360, 480, 3) and image.dtype == np.uint8
        assert label.shape == (360, 480) and label.dtype == np.uint8
        assert ds.image_path(i).stem == ds.label_path(i).stem


def test_splits_joined_by_plus_are_concatenated_in_order(camvid_root: Path) -> None:
    train = get_dataset("camvid", "train", root=camvid_root)
    val = get_dataset("camvid", "val", root=camvid_root)
    both = get_dataset("camvid", "train+val", root=camvid_root)
    assert both.pairs == train.pairs + val.pairs and both.split == "train+val"
    with pytest.raises(LivesegError, match=r"Unknown split 'tset'.*joined by \+"):
        get_dataset("camvid", "train+tset", root=camvid_root)


def test_drive_splits_hold_one_drive_out(camvid_root: Path) -> None:
    train = get_dataset("camvid", "train", root=camvid_root)
    val = get_dataset("camvid", "val", root=camvid_root)
    assert {image.stem.split("_")[0] for image, _ in train.pairs} == {"0001TP", "0006R0", "0016E5"}
    kept = get_dataset("camvid", "train:0001TP+train:0016E5", root=camvid_root)
    left_out = get_dataset("camvid", "0006R0", root=camvid_root)
    assert (len(kept), len(left_out)) == (266, 101)
    assert sorted(kept.pairs + left_out.pairs) == train.pairs  # the drives share train out, frame for frame
    assert get_dataset("camvid", "0016E5", root=camvid_root).pairs[-101:] == val.pairs  # val is train's drive
    with pytest.raises(LivesegError, match=r"Unknown split 'train:0006R1'.*Seq05VD \(SPLIT:DRIVE .* train:0016E5"):
        get_dataset("camvid", "train:0006R1", root=camvid_root)
    with pytest.raises(LivesegError, match="No test:Seq05VD images found"):  # the test split is not in this copy
        get_dataset("camvid", "test:Seq05VD", root=camvid_root)


def test_label_values_are_classes_or_void(camvid_root: Path) -> None:
    val = get_dataset("camvid", "val", root=camvid_root)
    seen = set()
    for i in range(len(val)):
        seen |= set(np.unique(val.label(i)).tolist())
    assert seen <= set(range(12))
    assert 11 in seen and len(seen) == 12  # every class and void occur in val


def test_info_matches_the_copy_readme(camvid_root: Path) -> None:
    info = get_info("camvid")
    rows = re.findall(r"^\| (\d+) \| ([^|]+?) \| (\d+),(\d+),(\d+) \|$", (camvid_root / "README.md").read_text(), re.M)
    classes = [(int(i), name, (int(r), int(g), int(b))) for i, name, r, g, b in rows if int(i) != 11]
    assert info.classes == tuple(name for _, name, _ in classes)
    assert info.palette == tuple(color for _, _, color in classes)
    assert info.ignore_index == 11 and info.num_classes == 11
    assert NORMALIZATION == {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}


def test_default_root_comes_from_data_dir(tmp_path: Path, camvid_root: Path, monkeypatch) -> None:
    (tmp_path / "camvid").symlink_to(camvid_root, target_is_directory=True)
    monkeypatch.setenv("LIVESEG_DATA", str(tmp_path))
    assert len(get_dataset("camvid", "val")) == 101


def test_missing_root_says_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(LivesegError, match=r"not found at .*liveseg data fetch camvid"):
        get_dataset("camvid", "train", root=tmp_path / "nowhere")


def test_unknown_names_list_the_choices(camvid_root: Path) -> None:
    with pytest.raises(LivesegError, match="choose one of ade20k, camvid"):
        get_dataset("kitti", "train")
    with pytest.raises(LivesegError, match=r"Unknown split 'trian'.*train, val"):
        get_dataset("camvid", "trian", root=camvid_root)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_image_names_the_file(mini_camvid: Path, damage: str) -> None:
    ds = get_dataset("camvid", "train", root=mini_camvid)
    path = ds.image_path(1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "truncate" else b"not a jpeg at all")
    ds[0]  # the other pairs still read
    with pytest.raises(LivesegError, match=re.escape(str(path))):
        ds[1]


def test_image_without_label_is_reported(mini_camvid: Path) -> None:
    label = next((mini_camvid / "trainannot").iterdir())
    label.unlink()
    with pytest.raises(LivesegError, match=f"has no label .*{label.name}"):
        get_dataset("camvid", "train", root=mini_camvid)


def test_size_mismatch_between_image_and_label(mini_camvid: Path) -> None:
    from PIL import Image

    ds = get_dataset("camvid", "train", root=mini_camvid)
    with Image.open(ds.label_path(0)) as im:
        im.crop((0, 0, 100, 100)).save(ds.label_path(0))
    with pytest.raises(LivesegError, match="must have the same size"):
        ds[0]
