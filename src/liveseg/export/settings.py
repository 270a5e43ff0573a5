"""What a conversion writes (`ExportSettings`), declared once for `liveseg export` and for the library (export,
import and pull take it). Torch- and onnx-free, so that the CLI builds its options without loading either."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from liveseg.errors import LivesegError
from liveseg.runtime.manifest import PRECISIONS
from liveseg.settings import option, parse_precisions, parse_sizes


def parse_eval_images(text: str) -> int | None:
    """'all' → None (the whole val split), a number → that many images (0: no val mIoU)."""
    if text.strip().lower() == "all":
        return None
    if text.strip().isdigit():
        return int(text)
    raise LivesegError(f"--eval-images {text!r} is neither a number nor 'all'.")


@dataclass
class ExportSettings:
    sizes: Sequence[tuple[int, int]] = option(
        "360x480", "Input size(s) HxW, comma-separated, e.g. 360x480,240x320.", parse=parse_sizes, flag="size"
    )
    precisions: Sequence[str] = option(
        ",".join(PRECISIONS), "Variants to write.", parse=parse_precisions, items=PRECISIONS, flag="precision"
    )
    name: str | None = option(None, "Bundle name (default: DATASET-MODEL).")
    version: str = option("1.0.0", "Bundle version written to the manifest.")
    data_root: Path | None = option(None, "Dataset folder for parity, calibration and val mIoU.")
    calib_images: int = option(64, "Training images that calibrate int8.")
    parity_images: int = option(16, "Val images compared against PyTorch.")
    # None: the whole val split; 0: do not measure val mIoU
    eval_images: int | None = option(
        "all", "Val images for each variant's mIoU: N, 'all' or 0.", parse=parse_eval_images
    )
    # check parity on synthetic images instead of the dataset
    no_data: bool = option(
        False, "No dataset at hand: check parity on synthetic street-like images.", decls=("--no-data",)
    )
    # also write each size's logits variant for onnxruntime-web's WebGL backend
    webgl: bool = option(True, "Also write each size's logits variant, which onnxruntime-web's WebGL backend runs.")
