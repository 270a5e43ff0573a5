"""Datasets by name: readers that return numpy arrays (torch-free), class names and palettes.

    from liveseg.data import get_dataset, get_info
    ds = get_dataset("camvid", split="train")   # root None -> liveseg.paths.data_dir() / "camvid"
    image, label = ds[0]   # HxWx3 uint8 RGB, HxW uint8 ids (ignore = ds.info.ignore_index)

Augmentation (`liveseg.data.transforms`) and the torch wrapper (`liveseg.data.loader`) are separate modules
so importing this package pulls in neither albumentations nor torch.
"""

from liveseg.data import ade20k, camvid, cityscapes, folder, voc  # noqa: F401  (they register themselves)
from liveseg.data.base import (
    DatasetInfo,
    SegmentationDataset,
    dataset_class,
    fetch_dataset,
    get_dataset,
    get_info,
    label_histograms,
    list_datasets,
    pixel_counts,
    register,
)

# Model-side normalisation, the same for every model: ImageNet statistics on 0..1 RGB.
NORMALIZATION = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}

__all__ = [
    "NORMALIZATION",
    "DatasetInfo",
    "SegmentationDataset",
    "dataset_class",
    "fetch_dataset",
    "get_dataset",
    "get_info",
    "label_histograms",
    "list_datasets",
    "pixel_counts",
    "register",
]
